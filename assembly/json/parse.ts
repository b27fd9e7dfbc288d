// JSON (UTF-8 bytes) → Values, as Jayway JsonPath hands them to Velocity: objects keep key order
// (LinkedHashMap), integers are Integer/Long, other numbers Double. Every value remembers its source
// span so $input.json() can copy the original text instead of re-serialising.
import { Value, Kind, newList, fromInt, parseDouble, TRUE, FALSE, POW10, RAW_ASCII, RAW_UTF8 } from "../vtl/values";
import { lookupKey, rememberKey, keyHash, internable } from "../util/intern";
import { SB } from "../util/sb";
import { decodeBytes } from "../util/utf8";
export { decodeBytes };

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

// The keys array of the object last completed at each depth (objects of one shape share it).
let shapes = new Array<usize>();

function shapeAt(depth: i32): Array<string> | null {
  return depth < shapes.length ? changetype<Array<string> | null>(unchecked(shapes[depth])) : null;
}

function setShape(depth: i32, keys: Array<string>): void {
  while (shapes.length <= depth) shapes.push(0);
  unchecked(shapes[depth] = changetype<usize>(keys));
}

// A fresh keys array holding the first n keys of shape.
function ownKeys(shape: Array<string> | null, n: i32): Array<string> {
  let own = new Array<string>();
  for (let i = 0; i < n; i++) own.push(unchecked(changetype<Array<string>>(shape)[i]));
  return own;
}

// Parses the whole buffer; jsonFailed tells a syntax error apart from a JSON `null`.
export function parseJson(ptr: usize, len: usize): Value | null {
  shapes = new Array<usize>(); // in this render's arena, like the keys it points to
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
    let m = new Value(Kind.MAP);
    let vals = new Array<Value | null>();
    m.vals = vals;
    // Objects of one shape (the items of an array) share one keys array: while this object's keys
    // are, in order, the interned strings of the last object completed at this depth, none is stored;
    // at the first difference the object takes keys of its own. Shared keys are copied on write.
    let shape = shapeAt(depth);
    let matched = 0;
    let own: Array<string> | null = null;
    skipWs();
    if (p < end && load<u8>(p) == 0x7d) { p++; }
    else {
      while (true) {
        skipWs();
        if (p >= end || load<u8>(p) != 0x22) return fail();
        let k = parseKey();
        if (jsonFailed) return null;
        skipWs();
        if (p >= end || load<u8>(p) != 0x3a) return fail();
        p++;
        skipWs();
        let item = parseValue(depth + 1);
        if (jsonFailed) return null;
        if (own === null && shape !== null && matched < shape.length &&
          changetype<usize>(unchecked(shape[matched])) == changetype<usize>(k)) {
          // the shape's keys are distinct, so a key matching it at its place is no duplicate
          matched++;
          vals.push(item);
        } else {
          if (own === null) own = ownKeys(shape, matched);
          // duplicate keys: the last one wins, as in a LinkedHashMap
          let idx = -1;
          let kl = k.length;
          for (let i = 0; i < own.length; i++) {
            let other = unchecked(own[i]);
            if (changetype<usize>(other) == changetype<usize>(k) || (other.length == kl && other == k)) { idx = i; break; }
          }
          if (idx >= 0) unchecked(vals[idx] = item);
          else { own.push(k); vals.push(item); }
        }
        skipWs();
        if (p >= end) return fail();
        let d = load<u8>(p++);
        if (d == 0x2c) continue;
        if (d == 0x7d) break;
        return fail();
      }
    }
    if (own === null) {
      if (shape !== null && matched == shape.length && matched > 0) m.keys = shape;
      else own = ownKeys(shape, matched);
    }
    if (own !== null) m.keys = own;
    // whoever shares it, the first object of a shape included, copies the keys before changing them
    m.sharedKeys = true;
    setShape(depth, changetype<Array<string>>(m.keys));
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
    v = new Value(Kind.STRING);
    // a string without escapes stays undecoded until the template reads it (Value.s); one that is
    // only printed is copied byte for byte when it is ASCII
    let raw = scanPlain();
    if (raw != 0) v.raw = raw;
    else {
      let s = parseString();
      if (jsonFailed) return null;
      v.s = s;
    }
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
  v.f = parseDoubleBytes(start, p);
  return v;
}

// parseDouble on the bytes [start, stop) of a JSON number (already validated): Clinger's fast path,
// the runtime's parseFloat otherwise, exactly as parseDouble does on the decoded text.
function parseDoubleBytes(start: usize, stop: usize): f64 {
  let q = start;
  let neg = false;
  if (load<u8>(q) == 0x2d) { neg = true; q++; }
  let m: u64 = 0;
  let digits = 0;
  let exp = 0;
  let exact = true;
  while (q < stop) {
    let d = <i32>load<u8>(q) - 0x30;
    if (<u32>d >= 10) break;
    if (digits < 19) { m = m * 10 + <u64>d; if (m != 0) digits++; } else { exp++; if (d != 0) exact = false; }
    q++;
  }
  if (q < stop && load<u8>(q) == 0x2e) {
    q++;
    while (q < stop) {
      let d = <i32>load<u8>(q) - 0x30;
      if (<u32>d >= 10) break;
      if (digits < 19) { m = m * 10 + <u64>d; if (m != 0) digits++; exp--; } else if (d != 0) exact = false;
      q++;
    }
  }
  if (q < stop) exact = false; // an exponent: leave it to the general path
  if (exact && m < (<u64>1 << 53) && exp >= -22 && exp <= 22) {
    let r = <f64>m;
    r = exp < 0 ? r / unchecked(POW10[-exp]) : r * unchecked(POW10[exp]);
    return neg ? -r : r;
  }
  return parseDouble(String.UTF8.decodeUnsafe(start, stop - start));
}

// p at a string's opening quote. When the string has no escape and no control character, moves p past
// the closing quote and returns RAW_ASCII or RAW_UTF8; otherwise leaves p alone and returns 0.
function scanPlain(): u8 {
  let q = p + 1;
  let e = end;
  let high: u32 = 0;
  while (q < e) {
    let c = <u32>load<u8>(q);
    if (c == 0x22) { p = q + 1; return high >= 0x80 ? RAW_UTF8 : RAW_ASCII; }
    if (c == 0x5c || c < 0x20) return 0;
    high |= c;
    q++;
  }
  return 0;
}

// An object key: short ASCII keys without escapes come from the intern table (decoded once a render).
function parseKey(): string {
  let start = p + 1;
  let q = start;
  let e = end;
  let high: u32 = 0;
  while (q < e) {
    let c = <u32>load<u8>(q);
    if (c == 0x22) break;
    if (c == 0x5c || c < 0x20) return parseString();
    high |= c;
    q++;
  }
  if (q >= e) return parseString(); // unterminated: parseString reports it
  let n = <i32>(q - start);
  if (high >= 0x80 || !internable(n)) return parseString();
  p = q + 1;
  let h = keyHash(start, n);
  let k = lookupKey(start, n, h);
  if (k !== null) return k;
  let s = decodeBytes(start, <usize>n);
  rememberKey(s, h);
  return s;
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
  if (p > start) sb.str(decodeBytes(start, p - start)); // (decodeBytes: ASCII or not, it was not checked)
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
    // a run of plain bytes: ASCII widened straight into the builder, anything else decoded
    let runStart = p;
    let high: u32 = 0;
    while (p < end) {
      let d = <u32>load<u8>(p);
      if (d == 0x22 || d == 0x5c || d < 0x20) break;
      high |= d;
      p++;
    }
    if (high < 0x80) sb.ascii(runStart, <i32>(p - runStart));
    else sb.str(decodeBytes(runStart, p - runStart));
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
