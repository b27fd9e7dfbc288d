// The JSONPath subset behind $input.path / $input.json (Jayway JsonPath as API Gateway uses it):
//   $  .name  ['name']  ["name"]  [n]  [-n]  [n,m]  ['a','b']  [*]  .*  ..name  ..*  [start:end]
//   [?(filter)]: @.path (existence), @.path op literal-or-@.path with == != < <= > >=, && || and ( )
// A definite path (names and single indexes only) yields one value or null; any other yields a list.
import { Value, Kind, newList, isNumber, toF64, valuesEqual, parseDouble, fromString, fromDouble, fromInt, TRUE, FALSE } from "../vtl/values";
import { isDigit, charAt16 } from "../util/char-code";

export let pathFailed: bool = false;
export let pathDefinite: bool = true;
export let pathFound: bool = false; // a definite path selected something (possibly a JSON null)

let cur: Array<Value | null> = new Array<Value | null>();

export function evalPath(root: Value | null, path: string): Value | null {
  pathFailed = false;
  pathDefinite = true;
  cur = new Array<Value | null>();
  cur.push(root);
  let n = path.length;
  let i = 0;
  while (i < n && charAt16(path, i) == 0x20) i++;
  if (i < n && charAt16(path, i) == 0x24) i++;
  else if (i < n && charAt16(path, i) != 0x2e && charAt16(path, i) != 0x5b) {
    // Jayway prefixes "$." to a path without a root
    i = step(path, i, n, false);
  }
  while (i < n && !pathFailed) {
    let c = charAt16(path, i);
    if (c == 0x2e) {
      if (i + 1 < n && charAt16(path, i + 1) == 0x2e) {
        pathDefinite = false;
        i += 2;
        if (i < n && charAt16(path, i) == 0x5b) { i = bracket(path, i, n, true); }
        else i = step(path, i, n, true);
      } else {
        i = step(path, i + 1, n, false);
      }
    } else if (c == 0x5b) {
      i = bracket(path, i, n, false);
    } else if (c == 0x20) {
      i++;
    } else {
      pathFailed = true;
    }
  }
  if (pathFailed) return null;
  pathFound = cur.length > 0;
  if (pathDefinite) return pathFound ? cur[0] : null;
  let out = newList();
  out.list = cur;
  out.json = true;
  return out;
}

// .name or .* at i
function step(path: string, i: i32, n: i32, deep: bool): i32 {
  if (i < n && charAt16(path, i) == 0x2a) {
    pathDefinite = false;
    selectWildcard(deep);
    return i + 1;
  }
  let s = i;
  while (i < n) {
    let c = charAt16(path, i);
    if (c == 0x2e || c == 0x5b || c == 0x20) break;
    i++;
  }
  if (i == s) { pathFailed = true; return n; }
  selectName(path.substring(s, i), deep);
  return i;
}

function bracket(path: string, i: i32, n: i32, deep: bool): i32 {
  i++; // [
  while (i < n && charAt16(path, i) == 0x20) i++;
  if (i >= n) { pathFailed = true; return n; }
  let c = charAt16(path, i);
  if (c == 0x2a) {
    i++;
    while (i < n && charAt16(path, i) == 0x20) i++;
    if (i >= n || charAt16(path, i) != 0x5d) { pathFailed = true; return n; }
    pathDefinite = false;
    selectWildcard(deep);
    return i + 1;
  }
  if (c == 0x27 || c == 0x22) {
    let names = new Array<string>();
    while (true) {
      let q = charAt16(path, i);
      let s = ++i;
      while (i < n && charAt16(path, i) != q) i++;
      if (i >= n) { pathFailed = true; return n; }
      names.push(path.substring(s, i));
      i++;
      while (i < n && charAt16(path, i) == 0x20) i++;
      if (i < n && charAt16(path, i) == 0x2c) {
        i++;
        while (i < n && charAt16(path, i) == 0x20) i++;
        if (i < n && (charAt16(path, i) == 0x27 || charAt16(path, i) == 0x22)) continue;
        pathFailed = true; return n;
      }
      break;
    }
    if (i >= n || charAt16(path, i) != 0x5d) { pathFailed = true; return n; }
    if (names.length == 1) selectName(names[0], deep);
    else {
      pathDefinite = false;
      let next = new Array<Value | null>();
      for (let k = 0; k < cur.length; k++) {
        let v = cur[k];
        if (v === null || v.kind != Kind.MAP) continue;
        let keys = changetype<Array<string>>(v.keys);
        for (let j = 0; j < names.length; j++) {
          for (let m = 0; m < keys.length; m++) {
            if (keys[m] == names[j]) { next.push(changetype<Array<Value | null>>(v.vals)[m]); break; }
          }
        }
      }
      cur = next;
    }
    return i + 1;
  }
  if (c == 0x3f) return filter(path, i + 1, n);
  // numbers: index, union or slice
  let idx = new Array<i32>();
  let slice = false;
  let sliceFrom: i32 = 0, sliceTo: i32 = i32.MAX_VALUE;
  let hasFrom = false;
  while (i < n) {
    while (i < n && charAt16(path, i) == 0x20) i++;
    let neg = false;
    if (i < n && charAt16(path, i) == 0x2d) { neg = true; i++; }
    let s = i;
    let x = 0;
    while (i < n && isDigit(charAt16(path, i))) { x = x * 10 + (charAt16(path, i) - 0x30); i++; }
    let has = i > s;
    if (neg) x = -x;
    while (i < n && charAt16(path, i) == 0x20) i++;
    if (i >= n) { pathFailed = true; return n; }
    let d = charAt16(path, i);
    if (d == 0x3a) {
      slice = true;
      hasFrom = has;
      sliceFrom = has ? x : 0;
      i++;
      continue;
    }
    if (slice) { if (has) sliceTo = x; }
    else if (has) idx.push(x);
    else { pathFailed = true; return n; }
    if (d == 0x2c && !slice) { i++; continue; }
    if (d == 0x5d) { i++; break; }
    pathFailed = true; return n;
  }
  let next = new Array<Value | null>();
  if (slice) {
    pathDefinite = false;
    for (let k = 0; k < cur.length; k++) {
      let v = cur[k];
      if (v === null || v.kind != Kind.LIST) continue;
      let l = changetype<Array<Value | null>>(v.list);
      let len = l.length;
      let a = sliceFrom < 0 ? max(0, len + sliceFrom) : min(sliceFrom, len);
      let b = sliceTo < 0 ? max(0, len + sliceTo) : min(sliceTo, len);
      if (!hasFrom) a = 0;
      for (let j = a; j < b; j++) next.push(l[j]);
    }
  } else {
    if (idx.length != 1 || deep) pathDefinite = false;
    for (let k = 0; k < cur.length; k++) {
      let v = cur[k];
      if (deep) { collectDeepIndex(v, idx, next); continue; }
      if (v === null || v.kind != Kind.LIST) continue;
      let l = changetype<Array<Value | null>>(v.list);
      for (let j = 0; j < idx.length; j++) {
        let ix = idx[j];
        if (ix < 0) ix += l.length;
        if (ix >= 0 && ix < l.length) next.push(l[ix]);
      }
    }
  }
  cur = next;
  return i;
}

function collectDeepIndex(v: Value | null, idx: Array<i32>, out: Array<Value | null>): void {
  if (v === null) return;
  if (v.kind == Kind.LIST) {
    let l = changetype<Array<Value | null>>(v.list);
    for (let j = 0; j < idx.length; j++) {
      let ix = idx[j];
      if (ix < 0) ix += l.length;
      if (ix >= 0 && ix < l.length) out.push(l[ix]);
    }
    for (let j = 0; j < l.length; j++) collectDeepIndex(l[j], idx, out);
  } else if (v.kind == Kind.MAP) {
    let vs = changetype<Array<Value | null>>(v.vals);
    for (let j = 0; j < vs.length; j++) collectDeepIndex(vs[j], idx, out);
  }
}

function selectName(name: string, deep: bool): void {
  let next = new Array<Value | null>();
  for (let k = 0; k < cur.length; k++) {
    let v = cur[k];
    if (deep) { collectDeep(v, name, next); continue; }
    if (v === null || v.kind != Kind.MAP) {
      // a property of a list applies to each item (indefinite), as Jayway does
      if (v !== null && v.kind == Kind.LIST && !pathDefinite) {
        let l = changetype<Array<Value | null>>(v.list);
        for (let j = 0; j < l.length; j++) {
          let it = l[j];
          if (it !== null && it.kind == Kind.MAP) {
            let m = mapIdx(it, name);
            if (m >= 0) next.push(changetype<Array<Value | null>>(it.vals)[m]);
          }
        }
      }
      continue;
    }
    let m = mapIdx(v, name);
    if (m >= 0) next.push(changetype<Array<Value | null>>(v.vals)[m]);
  }
  cur = next;
}

function mapIdx(v: Value, name: string): i32 {
  let keys = changetype<Array<string>>(v.keys);
  for (let m = 0; m < keys.length; m++) if (unchecked(keys[m]) == name) return m;
  return -1;
}

function collectDeep(v: Value | null, name: string, out: Array<Value | null>): void {
  if (v === null) return;
  if (v.kind == Kind.MAP) {
    let m = mapIdx(v, name);
    if (m >= 0) out.push(changetype<Array<Value | null>>(v.vals)[m]);
    let vs = changetype<Array<Value | null>>(v.vals);
    for (let j = 0; j < vs.length; j++) collectDeep(vs[j], name, out);
  } else if (v.kind == Kind.LIST) {
    let l = changetype<Array<Value | null>>(v.list);
    for (let j = 0; j < l.length; j++) collectDeep(l[j], name, out);
  }
}

function selectWildcard(deep: bool): void {
  let next = new Array<Value | null>();
  for (let k = 0; k < cur.length; k++) {
    if (deep) collectAll(cur[k], next);
    else pushChildren(cur[k], next);
  }
  cur = next;
}

function pushChildren(v: Value | null, out: Array<Value | null>): void {
  if (v === null) return;
  if (v.kind == Kind.MAP) {
    let vs = changetype<Array<Value | null>>(v.vals);
    for (let j = 0; j < vs.length; j++) out.push(vs[j]);
  } else if (v.kind == Kind.LIST) {
    let l = changetype<Array<Value | null>>(v.list);
    for (let j = 0; j < l.length; j++) out.push(l[j]);
  }
}

function collectAll(v: Value | null, out: Array<Value | null>): void {
  if (v === null) return;
  if (v.kind == Kind.MAP) {
    let vs = changetype<Array<Value | null>>(v.vals);
    for (let j = 0; j < vs.length; j++) { out.push(vs[j]); collectAll(vs[j], out); }
  } else if (v.kind == Kind.LIST) {
    let l = changetype<Array<Value | null>>(v.list);
    for (let j = 0; j < l.length; j++) { out.push(l[j]); collectAll(l[j], out); }
  }
}


// ---- filters ----

const F_OR = 1, F_AND = 2, F_CMP = 3, F_EXISTS = 4, F_LIT = 5, F_AT = 6;
const C_EQ = 1, C_NE = 2, C_LT = 3, C_LE = 4, C_GT = 5, C_GE = 6;

class FNode {
  kind: i32;
  op: i32 = 0;
  a: FNode | null = null;
  b: FNode | null = null;
  names: Array<string> = new Array<string>(); // F_AT segments; an index segment is "#<n>"
  value: Value | null = null;                  // F_LIT
  constructor(kind: i32) { this.kind = kind; }
}

let fp: i32 = 0;
let fsrc: string = "";
let fend: i32 = 0;

function fws(): void { while (fp < fend && charAt16(fsrc, fp) == 0x20) fp++; }

// [?( at i (after '?'): parses to the closing ")]" and keeps the elements that match
function filter(path: string, i: i32, n: i32): i32 {
  if (i >= n || charAt16(path, i) != 0x28) { pathFailed = true; return n; }
  fsrc = path;
  fp = i + 1;
  fend = n;
  let f = fOr();
  fws();
  if (f === null || fp + 1 >= n || charAt16(path, fp) != 0x29 || charAt16(path, fp + 1) != 0x5d) { pathFailed = true; return n; }
  pathDefinite = false;
  let next = new Array<Value | null>();
  for (let k = 0; k < cur.length; k++) {
    let v = cur[k];
    if (v === null) continue;
    if (v.kind == Kind.LIST) {
      let l = changetype<Array<Value | null>>(v.list);
      for (let j = 0; j < l.length; j++) if (fTest(f, l[j])) next.push(l[j]);
    } else if (v.kind == Kind.MAP) {
      if (fTest(f, v)) next.push(v);
    }
  }
  cur = next;
  return fp + 2;
}

function fOr(): FNode | null {
  let a = fAnd();
  while (a !== null) {
    fws();
    if (fp + 1 < fend && charAt16(fsrc, fp) == 0x7c && charAt16(fsrc, fp + 1) == 0x7c) {
      fp += 2;
      let b = fAnd();
      if (b === null) return null;
      let o = new FNode(F_OR); o.a = a; o.b = b; a = o;
    } else break;
  }
  return a;
}

function fAnd(): FNode | null {
  let a = fCmp();
  while (a !== null) {
    fws();
    if (fp + 1 < fend && charAt16(fsrc, fp) == 0x26 && charAt16(fsrc, fp + 1) == 0x26) {
      fp += 2;
      let b = fCmp();
      if (b === null) return null;
      let o = new FNode(F_AND); o.a = a; o.b = b; a = o;
    } else break;
  }
  return a;
}

function fCmp(): FNode | null {
  fws();
  if (fp < fend && charAt16(fsrc, fp) == 0x28) {
    fp++;
    let inner = fOr();
    fws();
    if (inner === null || fp >= fend || charAt16(fsrc, fp) != 0x29) return null;
    fp++;
    return inner;
  }
  let a = fOperand();
  if (a === null) return null;
  fws();
  let op = 0;
  let c = fp < fend ? charAt16(fsrc, fp) : -1;
  let d = fp + 1 < fend ? charAt16(fsrc, fp + 1) : -1;
  if (c == 0x3d && d == 0x3d) { op = C_EQ; fp += 2; }
  else if (c == 0x21 && d == 0x3d) { op = C_NE; fp += 2; }
  else if (c == 0x3c) { if (d == 0x3d) { op = C_LE; fp += 2; } else { op = C_LT; fp++; } }
  else if (c == 0x3e) { if (d == 0x3d) { op = C_GE; fp += 2; } else { op = C_GT; fp++; } }
  if (op == 0) {
    if (a.kind != F_AT) return null;
    let e = new FNode(F_EXISTS);
    e.a = a;
    return e;
  }
  let b = fOperand();
  if (b === null) return null;
  let node = new FNode(F_CMP);
  node.op = op; node.a = a; node.b = b;
  return node;
}

function fOperand(): FNode | null {
  fws();
  if (fp >= fend) return null;
  let c = charAt16(fsrc, fp);
  if (c == 0x40) { // @
    fp++;
    let node = new FNode(F_AT);
    while (fp < fend) {
      let d = charAt16(fsrc, fp);
      if (d == 0x2e) {
        fp++;
        let s = fp;
        while (fp < fend) {
          let e = charAt16(fsrc, fp);
          if (e == 0x2e || e == 0x5b || e == 0x20 || e == 0x29 || e == 0x3d || e == 0x21 || e == 0x3c || e == 0x3e || e == 0x26 || e == 0x7c) break;
          fp++;
        }
        if (fp == s) return null;
        node.names.push(fsrc.substring(s, fp));
      } else if (d == 0x5b) {
        fp++;
        let q = fp < fend ? charAt16(fsrc, fp) : -1;
        if (q == 0x27 || q == 0x22) {
          let s = ++fp;
          while (fp < fend && charAt16(fsrc, fp) != q) fp++;
          if (fp >= fend) return null;
          node.names.push(fsrc.substring(s, fp));
          fp++;
        } else {
          let s = fp;
          while (fp < fend && (isDigit(charAt16(fsrc, fp)) || charAt16(fsrc, fp) == 0x2d)) fp++;
          if (fp == s) return null;
          node.names.push("#" + fsrc.substring(s, fp));
        }
        if (fp >= fend || charAt16(fsrc, fp) != 0x5d) return null;
        fp++;
      } else break;
    }
    return node;
  }
  let lit = new FNode(F_LIT);
  if (c == 0x27 || c == 0x22) {
    let s = ++fp;
    while (fp < fend && charAt16(fsrc, fp) != c) fp++;
    if (fp >= fend) return null;
    lit.value = fromString(fsrc.substring(s, fp));
    fp++;
    return lit;
  }
  if (isDigit(c) || c == 0x2d) {
    let s = fp;
    fp++;
    let isInt = true;
    while (fp < fend) {
      let d = charAt16(fsrc, fp);
      if (isDigit(d)) { fp++; continue; }
      if (d == 0x2e || d == 0x65 || d == 0x45 || d == 0x2b || d == 0x2d) { isInt = false; fp++; continue; }
      break;
    }
    let t = fsrc.substring(s, fp);
    lit.value = isInt ? fromInt(I64.parseInt(t)) : fromDouble(parseDouble(t));
    return lit;
  }
  if (fsrc.startsWith("true", fp)) { fp += 4; lit.value = TRUE; return lit; }
  if (fsrc.startsWith("false", fp)) { fp += 5; lit.value = FALSE; return lit; }
  if (fsrc.startsWith("null", fp)) { fp += 4; lit.value = null; return lit; }
  return null;
}

let fMissing: bool = false;

function fValue(f: FNode, item: Value | null): Value | null {
  fMissing = false;
  if (f.kind == F_LIT) return f.value;
  let v = item;
  let names = f.names;
  for (let i = 0; i < names.length; i++) {
    if (v === null) { fMissing = true; return null; }
    let seg = names[i];
    if (seg.length > 0 && seg.charCodeAt(0) == 0x23 && v.kind == Kind.LIST) {
      let l = changetype<Array<Value | null>>(v.list);
      let ix = I32.parseInt(seg.substring(1));
      if (ix < 0) ix += l.length;
      if (ix < 0 || ix >= l.length) { fMissing = true; return null; }
      v = l[ix];
    } else if (v.kind == Kind.MAP) {
      let m = mapIdx(v, seg);
      if (m < 0) { fMissing = true; return null; }
      v = changetype<Array<Value | null>>(v.vals)[m];
    } else { fMissing = true; return null; }
  }
  return v;
}

function fTest(f: FNode, item: Value | null): bool {
  switch (f.kind) {
    case F_OR: return fTest(changetype<FNode>(f.a), item) || fTest(changetype<FNode>(f.b), item);
    case F_AND: return fTest(changetype<FNode>(f.a), item) && fTest(changetype<FNode>(f.b), item);
    case F_EXISTS: { fValue(changetype<FNode>(f.a), item); return !fMissing; }
    case F_CMP: {
      let a = fValue(changetype<FNode>(f.a), item);
      if (fMissing) return false;
      let b = fValue(changetype<FNode>(f.b), item);
      if (fMissing) return false;
      let op = f.op;
      if (op == C_EQ || op == C_NE) {
        let eq: bool;
        if (a === null || b === null) eq = a === b;
        else if (isNumber(a) != isNumber(b)) eq = false;
        else eq = a.kind == b.kind || (isNumber(a) && isNumber(b)) ? valuesEqual(a, b) : false;
        return op == C_EQ ? eq : !eq;
      }
      if (a === null || b === null) return false;
      let c: i32;
      if (isNumber(a) && isNumber(b)) { let x = toF64(a), y = toF64(b); c = x < y ? -1 : (x > y ? 1 : 0); }
      else if (a.kind == Kind.STRING && b.kind == Kind.STRING) c = a.s < b.s ? -1 : (a.s > b.s ? 1 : 0);
      else return false;
      if (op == C_LT) return c < 0;
      if (op == C_LE) return c <= 0;
      if (op == C_GT) return c > 0;
      return c >= 0;
    }
  }
  return false;
}
