// $util.urlEncode / urlDecode (java.net.URLEncoder/URLDecoder, UTF-8) and base64Encode / base64Decode
// (standard alphabet with padding, over the UTF-8 bytes of the string).
import { SB } from "../util/sb";
import { hexVal } from "../json/parse";
import { decodeUtf8 } from "../util/utf8";

export let codecFailed: bool = false;

const HEX = "0123456789ABCDEF";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function urlEncode(s: string): string {
  let buf = String.UTF8.encode(s);
  let p = changetype<usize>(buf);
  let n = buf.byteLength;
  let sb = new SB(n + 16);
  for (let i = 0; i < n; i++) {
    let c = <i32>load<u8>(p + <usize>i);
    let unreserved = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
      c == 0x2e || c == 0x2d || c == 0x2a || c == 0x5f;
    if (unreserved) sb.ch(c);
    else if (c == 0x20) sb.ch(0x2b);
    else { sb.ch(0x25); sb.ch(HEX.charCodeAt(c >> 4)); sb.ch(HEX.charCodeAt(c & 15)); }
  }
  return sb.toString();
}

export function urlDecode(s: string): string {
  codecFailed = false;
  let n = s.length;
  let bytes = __alloc(<usize>n * 3 + 4);
  let w = bytes;
  let i = 0;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c == 0x2b) { store<u8>(w++, 0x20); i++; continue; }
    if (c == 0x25) {
      if (i + 2 >= n) { codecFailed = true; return ""; }
      let h = hexVal(s.charCodeAt(i + 1)), l = hexVal(s.charCodeAt(i + 2));
      if (h < 0 || l < 0) { codecFailed = true; return ""; }
      store<u8>(w++, <u8>((h << 4) | l));
      i += 3;
      continue;
    }
    // copy one UTF-16 unit (or pair) as UTF-8
    if (c < 0x80) store<u8>(w++, <u8>c);
    else if (c < 0x800) { store<u8>(w++, <u8>(0xc0 | (c >> 6))); store<u8>(w++, <u8>(0x80 | (c & 63))); }
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      let d = s.charCodeAt(i + 1);
      let cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      store<u8>(w++, <u8>(0xf0 | (cp >> 18)));
      store<u8>(w++, <u8>(0x80 | ((cp >> 12) & 63)));
      store<u8>(w++, <u8>(0x80 | ((cp >> 6) & 63)));
      store<u8>(w++, <u8>(0x80 | (cp & 63)));
      i += 2;
      continue;
    } else {
      store<u8>(w++, <u8>(0xe0 | (c >> 12)));
      store<u8>(w++, <u8>(0x80 | ((c >> 6) & 63)));
      store<u8>(w++, <u8>(0x80 | (c & 63)));
    }
    i++;
  }
  return decodeUtf8(bytes, w - bytes);
}

export function base64Encode(s: string): string {
  let buf = String.UTF8.encode(s);
  let p = changetype<usize>(buf);
  let n = buf.byteLength;
  let sb = new SB(((n + 2) / 3) * 4 + 4);
  let i = 0;
  while (i + 3 <= n) {
    let x = (<i32>load<u8>(p + <usize>i) << 16) | (<i32>load<u8>(p + <usize>i + 1) << 8) | <i32>load<u8>(p + <usize>i + 2);
    sb.ch(B64.charCodeAt(x >> 18)); sb.ch(B64.charCodeAt((x >> 12) & 63));
    sb.ch(B64.charCodeAt((x >> 6) & 63)); sb.ch(B64.charCodeAt(x & 63));
    i += 3;
  }
  let rest = n - i;
  if (rest == 1) {
    let x = <i32>load<u8>(p + <usize>i) << 16;
    sb.ch(B64.charCodeAt(x >> 18)); sb.ch(B64.charCodeAt((x >> 12) & 63)); sb.ch(0x3d); sb.ch(0x3d);
  } else if (rest == 2) {
    let x = (<i32>load<u8>(p + <usize>i) << 16) | (<i32>load<u8>(p + <usize>i + 1) << 8);
    sb.ch(B64.charCodeAt(x >> 18)); sb.ch(B64.charCodeAt((x >> 12) & 63)); sb.ch(B64.charCodeAt((x >> 6) & 63)); sb.ch(0x3d);
  }
  return sb.toString();
}

function b64Val(c: i32): i32 {
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61 + 26;
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 52;
  if (c == 0x2b || c == 0x2d) return 62; // '-' and '_' (URL-safe) are accepted too
  if (c == 0x2f || c == 0x5f) return 63;
  return -1;
}

export function base64Decode(s: string): string {
  codecFailed = false;
  let n = s.length;
  let out = __alloc(<usize>n + 4);
  let w = out;
  let acc = 0, bits = 0;
  let pad = false;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c == 0x3d) { pad = true; continue; }
    if (c == 0x0a || c == 0x0d || c == 0x20) continue;
    let v = b64Val(c);
    if (v < 0 || pad) { codecFailed = true; return ""; }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(w++, <u8>((acc >> bits) & 0xff));
    }
  }
  return decodeUtf8(out, w - out);
}
