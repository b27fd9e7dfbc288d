// JSON output: the compact copy behind $input.json, a serialiser for values built in the template,
// and $util.escapeJavaScript (commons-lang 2 StringEscapeUtils.escapeJavaScript, which API Gateway uses).
import { Value, Kind, javaDouble } from "../vtl/values";
import { writeByte, writeBytes, writeString, reserveOut, outPtr, outLen, outCap, rewindOut, writeRaw } from "../util/out";
import { SB } from "../util/sb";
import { decodeUtf8 } from "../util/utf8";

// Copies JSON text dropping the whitespace between tokens; string contents are copied untouched.
export function writeCompactJson(src: usize, end: usize): void {
  if (!reserveOut(<i32>(end - src))) return;
  let p = src;
  let run = src;
  while (p < end) {
    let c = load<u8>(p);
    if (c == 0x22) {
      p++;
      while (p < end) {
        let d = load<u8>(p);
        if (d == 0x5c) { p += 2; continue; }
        p++;
        if (d == 0x22) break;
      }
      continue;
    }
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) {
      if (p > run) writeBytes(run, <i32>(p - run));
      p++;
      while (p < end) {
        let d = load<u8>(p);
        if (d == 0x20 || d == 0x0a || d == 0x0d || d == 0x09) p++; else break;
      }
      run = p;
      continue;
    }
    p++;
  }
  if (p > run) writeBytes(run, <i32>(min(p, end) - run));
}

export function writeJsonValue(v: Value | null): void {
  if (v === null) { writeString("null"); return; }
  if (v.src != 0) { writeCompactJson(v.src, v.srcEnd); return; }
  switch (v.kind) {
    case Kind.BOOL: writeString(v.i != 0 ? "true" : "false"); return;
    case Kind.INT: writeString(v.i.toString()); return;
    case Kind.DOUBLE: writeString(javaDouble(v.f)); return;
    case Kind.LIST: {
      let l = changetype<Array<Value | null>>(v.list);
      writeByte(0x5b);
      for (let i = 0; i < l.length; i++) {
        if (i > 0) writeByte(0x2c);
        writeJsonValue(unchecked(l[i]));
      }
      writeByte(0x5d);
      return;
    }
    case Kind.MAP: {
      let k = changetype<Array<string>>(v.keys);
      let vs = changetype<Array<Value | null>>(v.vals);
      writeByte(0x7b);
      for (let i = 0; i < k.length; i++) {
        if (i > 0) writeByte(0x2c);
        writeJsonString(unchecked(k[i]));
        writeByte(0x3a);
        writeJsonValue(unchecked(vs[i]));
      }
      writeByte(0x7d);
      return;
    }
  }
  writeJsonString(v.s);
}

const HEX = "0123456789ABCDEF";

export function writeJsonString(s: string): void {
  let sb = new SB(s.length + 8);
  sb.ch(0x22);
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) { sb.ch(0x5c); sb.ch(c); }
    else if (c < 0x20) {
      sb.ch(0x5c);
      if (c == 0x0a) sb.ch(0x6e);
      else if (c == 0x0d) sb.ch(0x72);
      else if (c == 0x09) sb.ch(0x74);
      else if (c == 0x08) sb.ch(0x62);
      else if (c == 0x0c) sb.ch(0x66);
      else { sb.str("u00"); sb.ch(HEX.charCodeAt(c >> 4)); sb.ch(HEX.charCodeAt(c & 15)); }
    } else sb.ch(c);
  }
  sb.ch(0x22);
  writeString(sb.toString());
}

// Renders into the output buffer, then takes the bytes back out as a string (no second buffer).
export function captureStart(): i32 { return outLen; }
export function captureEnd(start: i32): string {
  let s = decodeUtf8(outPtr + <usize>start, <usize>(outLen - start));
  rewindOut(start);
  return s;
}

// StringEscapeUtils.escapeJavaScript: \" \' \\ \/ \b \f \n \r \t, other controls and non-ASCII as \uXXXX
// (upper-case hex). ESCAPE_TABLE gives, per ASCII code, 0 (copy), the letter after the backslash, or
// 'u' (\u00XX). Unescaped runs are copied with memory.copy; unchanged strings are returned as they are.
// @ts-ignore: decorator
@lazy const ESCAPE_TABLE = memory.data<u8>([
  //0   1    2    3    4    5    6    7    8    9    A    B    C    D    E    F
  117, 117, 117, 117, 117, 117, 117, 117,  98, 116, 110, 117, 102, 114, 117, 117, // 0x00
  117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, 117, // 0x10
    0,   0,  34,   0,   0,   0,   0,  39,   0,   0,   0,   0,   0,   0,   0,  47, // 0x20 " ' /
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0, // 0x30
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0, // 0x40
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,  92,   0,   0,   0, // 0x50 \
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0, // 0x60
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0, // 0x70 (DEL is copied, as commons-lang does)
]);

// @ts-ignore: decorator
@inline function escapeOf(c: i32): i32 {
  return c < 0x80 ? <i32>load<u8>(ESCAPE_TABLE + <usize>c) : 117;
}

export function escapeJavaScript(s: string): string {
  let n = s.length;
  let i = 0;
  while (i < n && escapeOf(s.charCodeAt(i)) == 0) i++;
  if (i == n) return s;
  let sb = new SB(n + 16);
  let run = 0;
  for (; i < n; i++) {
    let c = s.charCodeAt(i);
    let e = escapeOf(c);
    if (e == 0) continue;
    sb.part(s, run, i);
    run = i + 1;
    sb.ch(0x5c);
    if (e != 117) { sb.ch(e); continue; }
    sb.ch(0x75);
    sb.ch(HEX.charCodeAt((c >> 12) & 15));
    sb.ch(HEX.charCodeAt((c >> 8) & 15));
    sb.ch(HEX.charCodeAt((c >> 4) & 15));
    sb.ch(HEX.charCodeAt(c & 15));
  }
  sb.part(s, run, n);
  return sb.toString();
}

// escapeJavaScript(s) written straight into the output, for a reference printed where it stands
// ("$util.escapeJavaScript($x)"): the escaped text is ASCII, so it needs no string and no UTF-8 pass.
// The exact length is counted first, so that the 10 MB output limit applies to what is written.
export function writeEscapedJavaScript(s: string): void {
  let n = s.length;
  let src = changetype<usize>(s);
  // one pass when even the worst case (6 bytes a unit) fits the buffer as it is; else count first
  if (outLen + n * 6 > outCap) {
    let need = n;
    for (let i = 0; i < n; i++) {
      let e = escapeOf(<i32>load<u16>(src + (<usize>i << 1)));
      if (e != 0) need += e == 117 ? 5 : 1;
    }
    if (!reserveOut(need)) return;
  }
  let dst = outPtr + <usize>outLen;
  let start = dst;
  for (let i = 0; i < n; i++) {
    let c = <i32>load<u16>(src + (<usize>i << 1));
    let e = escapeOf(c);
    if (e == 0) { store<u8>(dst++, <u8>c); continue; }
    store<u8>(dst++, 0x5c);
    if (e != 117) { store<u8>(dst++, <u8>e); continue; }
    store<u8>(dst++, 0x75);
    store<u8>(dst++, <u8>HEX.charCodeAt((c >> 12) & 15));
    store<u8>(dst++, <u8>HEX.charCodeAt((c >> 8) & 15));
    store<u8>(dst++, <u8>HEX.charCodeAt((c >> 4) & 15));
    store<u8>(dst++, <u8>HEX.charCodeAt(c & 15));
  }
  writeRaw(<i32>(dst - start));
}

// The same for the ASCII bytes [p, p+n) of an undecoded JSON string (Value.raw == RAW_ASCII).
export function writeEscapedJavaScriptAscii(p: usize, n: i32): void {
  let need = n;
  for (let i = 0; i < n; i++) {
    let e = escapeOf(<i32>load<u8>(p + <usize>i));
    if (e != 0) need += e == 117 ? 5 : 1;
  }
  if (!reserveOut(need)) return;
  if (need == n) { memory.copy(outPtr + <usize>outLen, p, <usize>n); writeRaw(n); return; }
  let dst = outPtr + <usize>outLen;
  for (let i = 0; i < n; i++) {
    let c = <i32>load<u8>(p + <usize>i);
    let e = escapeOf(c);
    if (e == 0) { store<u8>(dst++, <u8>c); continue; }
    store<u8>(dst++, 0x5c);
    if (e != 117) { store<u8>(dst++, <u8>e); continue; }
    store<u8>(dst++, 0x75);
    store<u8>(dst++, 0x30);
    store<u8>(dst++, 0x30);
    store<u8>(dst++, <u8>HEX.charCodeAt((c >> 4) & 15));
    store<u8>(dst++, <u8>HEX.charCodeAt(c & 15));
  }
  writeRaw(need);
}
