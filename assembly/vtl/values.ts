// Run-time values with Java semantics (what Velocity sees through API Gateway): null is `null`.
import { SB } from "../util/sb";
import { reserveOut, writeByte, writeI64, writeString, writeRaw, outPtr, outLen } from "../util/out";
import { captureStart, captureEnd, writeJsonValue } from "../json/escape";
import { decodeBytes } from "../util/utf8";

export const enum Kind {
  BOOL = 1, INT = 2, DOUBLE = 3, STRING = 4, LIST = 5, MAP = 6, ENTRY = 7,
  INPUT = 8, UTIL = 9, FOREACH = 10, BLOCK = 11, CHAR = 12,
}

export class Value {
  kind: i32;
  i: i64 = 0;            // INT value, BOOL (0/1), FOREACH index
  f: f64 = 0;            // DOUBLE value
  _s: string = "";       // STRING / CHAR text, ENTRY key (read through `s`)
  raw: u8 = 0;           // a JSON string not decoded yet: RAW_ASCII or RAW_UTF8, its text is [src+1, srcEnd-1)
  list: Array<Value | null> | null = null;   // LIST items
  keys: Array<string> | null = null;         // MAP keys, in insertion order (LinkedHashMap)
  vals: Array<Value | null> | null = null;   // MAP values; ENTRY value is vals[0]
  src: usize = 0;        // JSON source span [src, srcEnd) when the value was parsed from JSON
  srcEnd: usize = 0;
  ref: usize = 0;        // BLOCK: the NodeList of a #define; FOREACH: the list being iterated
  ci: bool = false;      // MAP whose keys are header names: a lookup that misses retries ignoring case
  sharedKeys: bool = false; // MAP parsed from JSON whose keys array is shared with objects of its shape: copy before changing
  json: bool = false;    // LIST parsed from JSON or selected by a JSONPath: prints as JSON, not Java's [a, b]
  constructor(kind: i32) { this.kind = kind; }
  // @ts-ignore: decorator
  @inline get s(): string { return this.raw == 0 ? this._s : decodeRaw(this); }
  // @ts-ignore: decorator
  @inline set s(t: string) { this._s = t; this.raw = 0; }
}

// JSON strings without escapes keep their bytes until read (json/parse.ts)
export const RAW_ASCII: u8 = 1; // plain ASCII: the bytes are the text, and print as they are
export const RAW_UTF8: u8 = 2;  // non-ASCII: decoded on first read

function decodeRaw(v: Value): string {
  let t = decodeBytes(v.src + 1, v.srcEnd - v.src - 2);
  v._s = t;
  v.raw = 0;
  return t;
}

export const TRUE: Value = boolValue(true);
export const FALSE: Value = boolValue(false);

function boolValue(b: bool): Value { let v = new Value(Kind.BOOL); v.i = b ? 1 : 0; return v; }
// @ts-ignore: decorator
@inline export function fromBool(b: bool): Value { return b ? TRUE : FALSE; }
export function fromInt(n: i64): Value { let v = new Value(Kind.INT); v.i = n; return v; }
export function fromDouble(n: f64): Value { let v = new Value(Kind.DOUBLE); v.f = n; return v; }
export function fromString(s: string): Value { let v = new Value(Kind.STRING); v.s = s; return v; }
export function newList(): Value { let v = new Value(Kind.LIST); v.list = new Array<Value | null>(); return v; }
export function newMap(): Value {
  let v = new Value(Kind.MAP);
  v.keys = new Array<string>();
  v.vals = new Array<Value | null>();
  return v;
}

export function mapIndex(m: Value, key: string): i32 {
  let keys = changetype<Array<string>>(m.keys);
  let n = keys.length;
  let kl = key.length;
  for (let i = 0; i < n; i++) {
    let k = unchecked(keys[i]);
    // interned JSON keys are the template's own strings (util/intern.ts): most hits are the pointer test
    if (changetype<usize>(k) == changetype<usize>(key)) return i;
    if (k.length == kl && k == key) return i; // the length test inline skips most String.__eq calls
  }
  if (m.ci) return mapIndexIgnoreCase(keys, key);
  return -1;
}

// Header names arrive lower-cased from the front, while API Gateway keeps the client's spelling:
// $input.params().header.get('HeaderFoo') finds 'headerfoo' (recorded: LocalStack
// test_sqs_aws_integration_with_message_attribute sends HeaderFoo and reads $input.params('HeaderFoo')).
function mapIndexIgnoreCase(keys: Array<string>, key: string): i32 {
  let kl = key.length;
  let lower = key.toLowerCase();
  for (let i = 0; i < keys.length; i++) {
    let k = unchecked(keys[i]);
    if (k.length == kl && k.toLowerCase() == lower) return i;
  }
  return -1;
}
// The map's keys array, copied first when it is shared (json/parse.ts)
function ownKeysOf(m: Value): Array<string> {
  let keys = changetype<Array<string>>(m.keys);
  if (m.sharedKeys) { keys = keys.slice(0); m.keys = keys; m.sharedKeys = false; }
  return keys;
}

export function mapGet(m: Value, key: string): Value | null {
  let i = mapIndex(m, key);
  return i < 0 ? null : unchecked(changetype<Array<Value | null>>(m.vals)[i]);
}
// returns the previous value, as Map.put does
export function mapPut(m: Value, key: string, v: Value | null): Value | null {
  let i = mapIndex(m, key);
  let vals = changetype<Array<Value | null>>(m.vals);
  if (i >= 0) { let old = unchecked(vals[i]); unchecked(vals[i] = v); return old; }
  ownKeysOf(m).push(key);
  vals.push(v);
  return null;
}
export function mapRemove(m: Value, key: string): Value | null {
  let i = mapIndex(m, key);
  if (i < 0) return null;
  let vals = changetype<Array<Value | null>>(m.vals);
  let old = vals[i];
  ownKeysOf(m).splice(i, 1);
  vals.splice(i, 1);
  return old;
}

export function isNumber(v: Value | null): bool {
  return v !== null && (v.kind == Kind.INT || v.kind == Kind.DOUBLE);
}
export function toF64(v: Value): f64 { return v.kind == Kind.INT ? <f64>v.i : v.f; }

// Velocity 1.7 #if: null is false, a Boolean is itself, anything else is true.
export function truthy(v: Value | null): bool {
  if (v === null) return false;
  if (v.kind == Kind.BOOL) return v.i != 0;
  return true;
}

// Exact powers of ten as doubles (10^22 is the largest exactly representable).
export const POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
];

// @ts-ignore: decorator
@external("env", "dtoa")
declare function hostDtoa(d: f64, out: usize): i32;

const DTOA_BUF: usize = memory.data(40, 8);
const TWO53: f64 = 9007199254740992.0;

// Shortest decimal digits of a (> 0, finite) into `digits`; returns the decimal exponent `e` such that
// a = 0.DIGITS × 10^e. Common values (at most 22 fractional digits, mantissa below 2^53) are found
// here: the fewest fractional digits k whose integer r = a·10^k divides back to a exactly (r and 10^k
// are exact doubles, so r / 10^k is the correctly rounded parse of "r e-k"). Anything else asks the
// host once (Number.prototype.toString is shortest round-trip).
// The fewest fractional digits k <= maxK for which r = a·10^k (an integer below 2^53) divides back
// to a exactly; r is left in exactR. -1 when there is none.
let exactR: f64 = 0;
function exactFraction(a: f64, maxK: i32): i32 {
  for (let k = 0; k <= maxK; k++) {
    let p = unchecked(POW10[k]);
    let m = a * p;
    if (m >= TWO53) break;
    let r = Math.round(m);
    if (r / p == a) { exactR = r; return k; }
    if (r > 0 && (r - 1) / p == a) { exactR = r - 1; return k; }
    if ((r + 1) / p == a) { exactR = r + 1; return k; }
  }
  return -1;
}

function shortestDigits(a: f64, digits: SB): i32 {
  let k = exactFraction(a, 22);
  if (k >= 0) {
    let t = (<u64>exactR).toString();
    digits.str(t);
    return t.length - k;
  }
  let n = hostDtoa(a, DTOA_BUF);
  let exp = 0;
  let seenDot = false;
  let leading = true;
  let i = 0;
  for (; i < n; i++) {
    let c = <i32>load<u8>(DTOA_BUF + <usize>i);
    if (c == 0x2e) { seenDot = true; continue; }
    if (c == 0x65 || c == 0x45) break;
    if (leading && c == 0x30) { if (seenDot) exp--; continue; }
    leading = false;
    digits.ch(c);
    if (!seenDot) exp++;
  }
  if (i < n) {
    i++;
    let neg = false;
    if (load<u8>(DTOA_BUF + <usize>i) == 0x2d) { neg = true; i++; } else if (load<u8>(DTOA_BUF + <usize>i) == 0x2b) i++;
    let e = 0;
    for (; i < n; i++) e = e * 10 + (<i32>load<u8>(DTOA_BUF + <usize>i) - 0x30);
    exp += neg ? -e : e;
  }
  return exp;
}

// Renders Java's Double.toString straight into the output when the value is in plain-notation range
// and its shortest form was found locally (the common case: prices, percentages); otherwise formats
// through javaDouble.
export function writeJavaDouble(d: f64): void {
  let a = d < 0 ? -d : d;
  if (a >= 1e-3 && a < 1e7) {
    let k = exactFraction(a, 17);
    if (k >= 0) {
      let u = <u64>exactR;
      let scale = <u64>unchecked(POW10[k]);
      if (d < 0) writeByte(0x2d);
      writeI64(<i64>(u / scale));
      writeByte(0x2e);
      if (k == 0) { writeByte(0x30); return; }
      let frac = u % scale;
      if (!reserveOut(k)) return;
      let q = outPtr + <usize>outLen + <usize>k;
      for (let i = 0; i < k; i++) { store<u8>(--q, <u8>(0x30 + <i32>(frac % 10))); frac /= 10; }
      writeRaw(k);
      return;
    }
  }
  writeString(javaDouble(d));
}

// Java's Double.toString: plain notation for 1e-3 <= |d| < 1e7, computerized scientific otherwise.
export function javaDouble(d: f64): string {
  if (isNaN(d)) return "NaN";
  if (!isFinite(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return (1 / d) < 0 ? "-0.0" : "0.0";
  let neg = d < 0;
  let a = neg ? -d : d;
  let digits = new SB(24);
  let exp = shortestDigits(a, digits);
  // strip trailing zeros
  let dl = digits.len;
  while (dl > 1 && load<u16>(digits.ptr + (<usize>(dl - 1) << 1)) == 0x30) dl--;
  digits.len = dl;
  let ds = digits.toString();
  let out = new SB(32);
  if (neg) out.ch(0x2d);
  if (a >= 1e-3 && a < 1e7) {
    if (exp <= 0) {
      out.str("0.");
      for (let k = 0; k < -exp; k++) out.ch(0x30);
      out.str(ds);
    } else if (exp >= dl) {
      out.str(ds);
      for (let k = dl; k < exp; k++) out.ch(0x30);
      out.str(".0");
    } else {
      out.part(ds, 0, exp);
      out.ch(0x2e);
      out.part(ds, exp, dl);
    }
  } else {
    out.ch(ds.charCodeAt(0));
    out.ch(0x2e);
    if (dl > 1) out.part(ds, 1, dl); else out.ch(0x30);
    out.ch(0x45);
    out.str((exp - 1).toString());
  }
  return out.toString();
}

// String.valueOf(x) as Velocity renders it: Java toString of Integer, Double, Boolean, List, Map.
export function toJavaString(v: Value | null): string {
  if (v === null) return "null";
  switch (v.kind) {
    case Kind.STRING: case Kind.CHAR: return v.s;
    case Kind.INT: return v.i.toString();
    case Kind.DOUBLE: return javaDouble(v.f);
    case Kind.BOOL: return v.i != 0 ? "true" : "false";
  }
  let sb = new SB(64);
  appendJava(sb, v);
  return sb.toString();
}

export function appendJava(sb: SB, v: Value | null): void {
  if (v === null) { sb.str("null"); return; }
  switch (v.kind) {
    case Kind.LIST: {
      // API Gateway prints a list from the payload as JSON, also inside a map's {k=v} (recorded:
      // LocalStack test_input_path_template_formatting, "json-list" and "dict-with-nested-list")
      if (v.json) { let start = captureStart(); writeJsonValue(v); sb.str(captureEnd(start)); return; }
      let l = changetype<Array<Value | null>>(v.list);
      sb.ch(0x5b);
      for (let i = 0; i < l.length; i++) {
        if (i > 0) sb.str(", ");
        appendJava(sb, unchecked(l[i]));
      }
      sb.ch(0x5d);
      return;
    }
    case Kind.MAP: {
      let k = changetype<Array<string>>(v.keys);
      let vs = changetype<Array<Value | null>>(v.vals);
      sb.ch(0x7b);
      for (let i = 0; i < k.length; i++) {
        if (i > 0) sb.str(", ");
        sb.str(unchecked(k[i]));
        sb.ch(0x3d);
        appendJava(sb, unchecked(vs[i]));
      }
      sb.ch(0x7d);
      return;
    }
    case Kind.ENTRY: {
      sb.str(v.s);
      sb.ch(0x3d);
      appendJava(sb, changetype<Array<Value | null>>(v.vals)[0]);
      return;
    }
    case Kind.INPUT: sb.str("$input"); return;
    case Kind.UTIL: sb.str("$util"); return;
    case Kind.FOREACH: sb.str("$foreach"); return;
  }
  sb.str(toJavaString(v));
}

// Velocity 1.7 ==: numbers by value, same kinds by equals(), otherwise by their toString().
export function valuesEqual(a: Value | null, b: Value | null): bool {
  if (a === null || b === null) return a === b;
  if (isNumber(a) && isNumber(b)) {
    if (a.kind == Kind.INT && b.kind == Kind.INT) return a.i == b.i;
    return toF64(a) == toF64(b);
  }
  if (a.kind == b.kind) {
    switch (a.kind) {
      case Kind.STRING: case Kind.CHAR: return a.s == b.s;
      case Kind.BOOL: return a.i == b.i;
      case Kind.LIST: {
        let x = changetype<Array<Value | null>>(a.list), y = changetype<Array<Value | null>>(b.list);
        if (x.length != y.length) return false;
        for (let i = 0; i < x.length; i++) if (!valuesEqual(x[i], y[i])) return false;
        return true;
      }
      case Kind.MAP: {
        let k = changetype<Array<string>>(a.keys);
        if (k.length != changetype<Array<string>>(b.keys).length) return false;
        let av = changetype<Array<Value | null>>(a.vals);
        for (let i = 0; i < k.length; i++) {
          let j = mapIndex(b, k[i]);
          if (j < 0 || !valuesEqual(av[i], changetype<Array<Value | null>>(b.vals)[j])) return false;
        }
        return true;
      }
    }
    return a === b;
  }
  return toJavaString(a) == toJavaString(b);
}

// Decimal text → double, correctly rounded on the common path (Clinger's fast path: a mantissa below
// 2^53 scaled by an exact power of ten); other inputs go to the runtime's parseFloat.
export function parseDouble(s: string): f64 {
  let n = s.length;
  let i = 0;
  let neg = false;
  if (i < n && s.charCodeAt(i) == 0x2d) { neg = true; i++; }
  let m: u64 = 0;
  let digits = 0;
  let exp = 0;
  let exact = true;
  while (i < n) {
    let d = s.charCodeAt(i) - 0x30;
    if (<u32>d >= 10) break;
    if (digits < 19) { m = m * 10 + <u64>d; if (m != 0) digits++; } else { exp++; if (d != 0) exact = false; }
    i++;
  }
  if (i < n && s.charCodeAt(i) == 0x2e) {
    i++;
    while (i < n) {
      let d = s.charCodeAt(i) - 0x30;
      if (<u32>d >= 10) break;
      if (digits < 19) { m = m * 10 + <u64>d; if (m != 0) digits++; exp--; } else if (d != 0) exact = false;
      i++;
    }
  }
  if (i < n && (s.charCodeAt(i) | 0x20) == 0x65) {
    i++;
    let eneg = false;
    if (i < n && (s.charCodeAt(i) == 0x2b || s.charCodeAt(i) == 0x2d)) { eneg = s.charCodeAt(i) == 0x2d; i++; }
    let e = 0;
    while (i < n) {
      let d = s.charCodeAt(i) - 0x30;
      if (<u32>d >= 10 || e > 100000) break;
      e = e * 10 + d;
      i++;
    }
    exp += eneg ? -e : e;
  }
  if (exact && i == n && m < (<u64>1 << 53) && exp >= -22 && exp <= 22) {
    let r = <f64>m;
    r = exp < 0 ? r / unchecked(POW10[-exp]) : r * unchecked(POW10[exp]);
    return neg ? -r : r;
  }
  return parseFloat(s);
}
