// UTF-8 bytes → string with replacement semantics: every malformed sequence (maximal subpart) becomes
// one U+FFFD, as Java's and WHATWG's decoders do. AssemblyScript's own decoder does not replace: it
// can swallow the byte after a truncated sequence (a closing quote, say).
export function decodeUtf8(src: usize, len: usize): string {
  let out = __new(len << 1, idof<String>());
  let w = out;
  let i: usize = 0;
  while (i < len) {
    let b = <u32>load<u8>(src + i);
    if (b < 0x80) { store<u16>(w, <u16>b); w += 2; i++; continue; }
    let need = 0;
    let lower: u32 = 0x80, upper: u32 = 0xbf;
    let cp: u32 = 0;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2; cp = b & 0x0f;
      if (b == 0xe0) lower = 0xa0; else if (b == 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3; cp = b & 0x07;
      if (b == 0xf0) lower = 0x90; else if (b == 0xf4) upper = 0x8f;
    } else { store<u16>(w, 0xfffd); w += 2; i++; continue; }
    let j = i + 1;
    let ok = true;
    for (let k = 0; k < need; k++) {
      if (j >= len) { ok = false; break; }
      let c = <u32>load<u8>(src + j);
      if (c < lower || c > upper) { ok = false; break; }
      lower = 0x80; upper = 0xbf;
      cp = (cp << 6) | (c & 0x3f);
      j++;
    }
    i = j;
    if (!ok) { store<u16>(w, 0xfffd); w += 2; continue; }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      store<u16>(w, <u16>(0xd800 | (cp >> 10)));
      store<u16>(w + 2, <u16>(0xdc00 | (cp & 0x3ff)));
      w += 4;
    } else { store<u16>(w, <u16>cp); w += 2; }
  }
  // shrink to the units written (the block is the last one, so this is in place)
  return changetype<string>(__renew(out, w - out));
}

// Bytes → string, widening ASCII in one pass; falls back to the UTF-8 decoder at the first non-ASCII
// byte. Most JSON keys and values are ASCII, and the generic decoder costs several times more.
export function decodeBytes(start: usize, len: usize): string {
  if (len == 0) return "";
  let s = __new(len << 1, idof<String>());
  for (let i: usize = 0; i < len; i++) {
    let c = load<u8>(start + i);
    if (c >= 0x80) return decodeUtf8(start, len); // the half-filled block is simply left
    store<u16>(s + (i << 1), <u16>c);
  }
  return changetype<string>(s);
}
