// Run-time values with Java semantics (what Velocity sees through API Gateway): null is `null`.
import { SB } from "../util/sb";

export const enum Kind {
  BOOL = 1, INT = 2, DOUBLE = 3, STRING = 4, LIST = 5, MAP = 6, ENTRY = 7,
  INPUT = 8, UTIL = 9, FOREACH = 10, BLOCK = 11, CHAR = 12,
}

export class Value {
  kind: i32;
  i: i64 = 0;            // INT value, BOOL (0/1), FOREACH index
  f: f64 = 0;            // DOUBLE value
  s: string = "";        // STRING / CHAR text, ENTRY key
  list: Array<Value | null> | null = null;   // LIST items
  keys: Array<string> | null = null;         // MAP keys, in insertion order (LinkedHashMap)
  vals: Array<Value | null> | null = null;   // MAP values; ENTRY value is vals[0]
  src: usize = 0;        // JSON source span [src, srcEnd) when the value was parsed from JSON
  srcEnd: usize = 0;
  ref: usize = 0;        // BLOCK: the NodeList of a #define; FOREACH: the list being iterated
  constructor(kind: i32) { this.kind = kind; }
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
  for (let i = 0; i < n; i++) if (unchecked(keys[i]) == key) return i;
  return -1;
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
  changetype<Array<string>>(m.keys).push(key);
  vals.push(v);
  return null;
}
export function mapRemove(m: Value, key: string): Value | null {
  let i = mapIndex(m, key);
  if (i < 0) return null;
  let vals = changetype<Array<Value | null>>(m.vals);
  let old = vals[i];
  changetype<Array<string>>(m.keys).splice(i, 1);
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

// Java's Double.toString: plain notation for 1e-3 <= |d| < 1e7, computerized scientific otherwise.
export function javaDouble(d: f64): string {
  if (isNaN(d)) return "NaN";
  if (!isFinite(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return (1 / d) < 0 ? "-0.0" : "0.0";
  let neg = d < 0;
  let a = neg ? -d : d;
  // shortest round-trip digits from the runtime, normalised to 0.DIGITS × 10^exp
  let t = a.toString();
  let digits = new SB(24);
  let exp = 0;
  let seenDot = false;
  let leading = true;
  let n = t.length;
  let i = 0;
  for (; i < n; i++) {
    let c = t.charCodeAt(i);
    if (c == 0x2e) { seenDot = true; continue; }
    if (c == 0x65 || c == 0x45) break;
    if (leading && c == 0x30) { if (seenDot) exp--; continue; }
    leading = false;
    digits.ch(c);
    if (!seenDot) exp++;
  }
  if (i < n) exp += I32.parseInt(t.substring(i + 1));
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
