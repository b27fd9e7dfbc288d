// JSON (UTF-8 bytes) → Values, as Jayway JsonPath hands them to Velocity: objects keep key order
// (LinkedHashMap), integers are Integer/Long, other numbers Double. Every value remembers its source
// span so $input.json() can copy the original text instead of re-serialising.
import { Value, Kind, newList, newMap, fromInt, parseDouble, TRUE, FALSE } from "../vtl/values";
import { SB } from "../util/sb";
import { decodeUtf8 } from "../util/utf8";

const MAX_DEPTH: i32 = 512; // deeper documents are rejected rather than risking the WASM stack

let p: usize = 0;
let end: usize = 0;
export let jsonFailed: bool = false;

// The cursor is a global; hot loops copy it into a local (a global.get/set per byte costs ~2×).
// @ts-ignore: decorator
@inline function skipWs(): void {
  let q = p;
  let e = end;
  while (q < e) {
    let c = load<u8>(q);
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) q++; else break;
  }
  p = q;
}

// Parses the whole buffer; jsonFailed tells a syntax error apart from a JSON `null`.
export function parseJson(ptr: usize, len: usize): Value | null {
  p = ptr;
  end = ptr + len;
  jsonFailed = false;
  skipWs();
  let v = parseValue(0);
  skipWs();
  if (p != end) jsonFailed = true;
  return jsonFailed ? null : v;
}

function fail(): Value | null { jsonFailed = true; return null; }

function parseValue(depth: i32): Value | null {
  if (p >= end || depth > MAX_DEPTH) return fail();
  let start = p;
  let c = load<u8>(p);
  let v: Value | null = null;
  if (c == 0x7b) {
    p++;
    let m = newMap();
    skipWs();
    if (p < end && load<u8>(p) == 0x7d) { p++; }
    else {
      while (true) {
        skipWs();
        if (p >= end || load<u8>(p) != 0x22) return fail();
        let k = parseString();
        if (jsonFailed) return null;
        skipWs();
        if (p >= end || load<u8>(p) != 0x3a) return fail();
        p++;
        skipWs();
        let item = parseValue(depth + 1);
        if (jsonFailed) return null;
        // duplicate keys: the last one wins, as in a LinkedHashMap
        let keys = changetype<Array<string>>(m.keys);
        let idx = -1;
        let kl = k.length;
        for (let i = 0; i < keys.length; i++) {
          let other = unchecked(keys[i]);
          if (other.length == kl && other == k) { idx = i; break; }
        }
        if (idx >= 0) changetype<Array<Value | null>>(m.vals)[idx] = item;
        else { keys.push(k); changetype<Array<Value | null>>(m.vals).push(item); }
        skipWs();
        if (p >= end) return fail();
        let d = load<u8>(p++);
        if (d == 0x2c) continue;
        if (d == 0x7d) break;
        return fail();
      }
    }
    v = m;
  } else if (c == 0x5b) {
    p++;
    let l = newList();
    l.json = true;
    skipWs();
    if (p < end && load<u8>(p) == 0x5d) { p++; }
    else {
      let arr = changetype<Array<Value | null>>(l.list);
      while (true) {
        skipWs();
        let item = parseValue(depth + 1);
        if (jsonFailed) return null;
        arr.push(item);
        skipWs();
        if (p >= end) return fail();
        let d = load<u8>(p++);
        if (d == 0x2c) continue;
        if (d == 0x5d) break;
        return fail();
      }
    }
    v = l;
  } else if (c == 0x22) {
    let s = parseString();
    if (jsonFailed) return null;
    v = new Value(Kind.STRING);
    v.s = s;
  } else if (c == 0x74) {
    if (!lit(0x65757274, 4)) return fail();
    v = TRUE;
    return v; // shared singleton: no span needed, $input.json of it prints "true"
  } else if (c == 0x66) {
    if (p + 5 > end || load<u32>(p + 1) != 0x65736c61 || load<u8>(p) != 0x66) return fail();
    p += 5;
    return FALSE;
  } else if (c == 0x6e) {
    if (!lit(0x6c6c756e, 4)) return fail();
    return null;
  } else {
    v = parseNumber();
    if (v === null) return fail();
  }
  v.src = start;
  v.srcEnd = p;
  return v;
}

function lit(word: u32, n: usize): bool {
  if (p + n > end || load<u32>(p) != word) return false;
  p += n;
  return true;
}

function parseNumber(): Value | null {
  let start = p;
  let q = p;
  let e = end;
  if (q < e && load<u8>(q) == 0x2d) q++;
  let digitsStart = q;
  while (q < e && <u32>(load<u8>(q) - 0x30) < 10) q++;
  p = q;
  if (p == digitsStart) return null;
  let isInt = true;
  if (p < end && load<u8>(p) == 0x2e) {
    isInt = false;
    p++;
    let f = p;
    while (p < end && <u32>(load<u8>(p) - 0x30) < 10) p++;
    if (p == f) return null;
  }
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    isInt = false;
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    let f = p;
    while (p < end && <u32>(load<u8>(p) - 0x30) < 10) p++;
    if (p == f) return null;
  }
  let n = <i32>(p - digitsStart);
  if (isInt && n <= 18) {
    let x: i64 = 0;
    for (let q = digitsStart; q < p; q++) x = x * 10 + <i64>(load<u8>(q) - 0x30);
    return fromInt(load<u8>(start) == 0x2d ? -x : x);
  }
  let v = new Value(Kind.DOUBLE);
  v.f = parseDouble(String.UTF8.decodeUnsafe(start, p - start));
  return v;
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

// p at the opening quote; leaves p after the closing quote
function parseString(): string {
  let start = p + 1;
  // fast path: no escapes
  let q = start;
  let e = end;
  while (q < e) {
    let c = load<u8>(q);
    if (c == 0x22) { p = q + 1; return decodeBytes(start, q - start); }
    if (c == 0x5c || c < 0x20) break;
    q++;
  }
  p = q;
  let sb = new SB(<i32>(p - start) + 16);
  if (p > start) sb.str(decodeBytes(start, p - start));
  while (p < end) {
    let c = load<u8>(p);
    if (c == 0x22) { p++; return sb.toString(); }
    if (c < 0x20) break;
    if (c == 0x5c) {
      p++;
      if (p >= end) break;
      let e = load<u8>(p++);
      switch (e) {
        case 0x22: sb.ch(0x22); break;
        case 0x5c: sb.ch(0x5c); break;
        case 0x2f: sb.ch(0x2f); break;
        case 0x62: sb.ch(0x08); break;
        case 0x66: sb.ch(0x0c); break;
        case 0x6e: sb.ch(0x0a); break;
        case 0x72: sb.ch(0x0d); break;
        case 0x74: sb.ch(0x09); break;
        case 0x75: {
          if (p + 4 > end) { jsonFailed = true; return ""; }
          let u = 0;
          for (let k = 0; k < 4; k++) {
            let h = <i32>load<u8>(p++);
            let d = hexVal(h);
            if (d < 0) { jsonFailed = true; return ""; }
            u = (u << 4) | d;
          }
          sb.ch(u);
          break;
        }
        default: jsonFailed = true; return "";
      }
      continue;
    }
    // a run of plain bytes
    let runStart = p;
    while (p < end) {
      let d = load<u8>(p);
      if (d == 0x22 || d == 0x5c || d < 0x20) break;
      p++;
    }
    sb.str(decodeBytes(runStart, p - runStart));
  }
  jsonFailed = true;
  return "";
}

export function hexVal(h: i32): i32 {
  if (h >= 0x30 && h <= 0x39) return h - 0x30;
  h |= 0x20;
  if (h >= 0x61 && h <= 0x66) return h - 0x61 + 10;
  return -1;
}
