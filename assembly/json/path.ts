// The JSONPath subset behind $input.path / $input.json (Jayway JsonPath as API Gateway uses it):
//   $  .name  ['name']  ["name"]  [n]  [-n]  [n,m]  ['a','b']  [*]  .*  ..name  ..*  [start:end]
// A definite path (names and single indexes only) yields one value or null; any other yields a list.
import { Value, Kind, newList } from "../vtl/values";
import { isDigit, charAt16 } from "../util/char-code";

export let pathFailed: bool = false;
export let pathDefinite: bool = true;

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
  if (pathDefinite) return cur.length > 0 ? cur[0] : null;
  let out = newList();
  out.list = cur;
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
  if (c == 0x3f) { pathFailed = true; return n; } // filters are not supported
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

