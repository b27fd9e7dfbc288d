// Renders a Program against one request. Everything allocated here lives in the per-render arena.
import { Node, N, Op, Program } from "./ast";
import {
  Value, Kind, TRUE, FALSE, fromBool, fromInt, fromDouble, fromString, newList, newMap,
  mapGet, mapPut, mapIndex, mapRemove, isNumber, toF64, truthy, toJavaString, valuesEqual, writeJavaDouble,
  RAW_ASCII,
} from "./values";
import { M } from "./methods";
import { writeBytes, writeString, writeI64, outOverflow } from "../util/out";
import { parseJson, jsonFailed } from "../json/parse";
import { evalPath, pathFailed, pathFound } from "../json/path";
import {
  writeCompactJson, writeJsonValue, captureStart, captureEnd, escapeJavaScript, writeEscapedJavaScript, writeEscapedJavaScriptAscii,
} from "../json/escape";
import { base64Encode, base64Decode, urlEncode, urlDecode, codecFailed } from "./codecs";
import * as ABI from "../abi";
import { decodeBytes } from "../json/parse";
import * as E from "../util/errors";

// @ts-ignore: decorator
@external("env", "regex")
declare function hostRegex(op: i32, pat: usize, patUnits: i32, str: usize, strUnits: i32,
  arg: usize, argUnits: i32, limit: i32, out: usize, outBytes: i32): i32;

const MAX_MACRO_DEPTH: i32 = 20;        // Velocity's velocimacro.max.depth default
const MAX_RANGE: i64 = 1_000_000;       // a larger [a..b] is a template bug, not a payload

const INPUT_VALUE = new Value(Kind.INPUT);
const NO_ARGS = new Array<Value | null>(0);
const UTIL_VALUE = new Value(Kind.UTIL);

// ---- per-render state (reset by beginRender) ----
let prog: Program = new Program();
let vars: Array<Value | null> = new Array<Value | null>();
let rec: usize = 0;
let bodyPtr: usize = 0;
let bodyLen: i32 = 0;
let bodyDom: Value | null = null;
let bodyParsed: bool = false;
let paramsValue: Value | null = null;
let requestOverride: Value | null = null;
let responseOverride: Value | null = null;
let stopped: bool = false;
let breaking: bool = false;
let macroDepth: i32 = 0;
let scratch: usize = 0;
let scratchCap: i32 = 0;
export let runError: string | null = null;
export let hostCalls: i32 = 0;

function fail(msg: string): void { if (runError === null) runError = msg; }
// @ts-ignore: decorator
@inline function halted(): bool { return stopped || breaking || runError !== null || outOverflow; }

// ---- input record decoding ----
let rp: usize = 0;

function readStr(): string {
  let n = load<u32>(rp);
  rp += 4;
  let bytes = <usize>n << 1;
  let s = String.UTF16.decodeUnsafe(rp, bytes);
  rp += (bytes + 3) & ~3;
  return s;
}

function readValue(): Value | null {
  let tag = load<u32>(rp);
  rp += 4;
  switch (tag) {
    case ABI.TAG_NULL: return null;
    case ABI.TAG_FALSE: return FALSE;
    case ABI.TAG_TRUE: return TRUE;
    case ABI.TAG_NUMBER: { let f = load<f64>(rp); rp += 8; return fromDouble(f); }
    case ABI.TAG_INTEGER: { let f = load<f64>(rp); rp += 8; return fromInt(<i64>f); }
    case ABI.TAG_STRING: return fromString(readStr());
    case ABI.TAG_OBJECT: {
      let n = load<u32>(rp);
      rp += 4;
      let m = newMap();
      let keys = changetype<Array<string>>(m.keys);
      let vals = changetype<Array<Value | null>>(m.vals);
      for (let i: u32 = 0; i < n; i++) {
        keys.push(readStr());
        vals.push(readValue());
      }
      return m;
    }
    case ABI.TAG_ARRAY: {
      let n = load<u32>(rp);
      rp += 4;
      let l = newList();
      let items = changetype<Array<Value | null>>(l.list);
      for (let i: u32 = 0; i < n; i++) items.push(readValue());
      return l;
    }
  }
  return null;
}

function section(index: i32): Value | null {
  rp = rec + <usize>load<u32>(rec + (<usize>index << 2));
  return readValue();
}

function sectionMap(index: i32): Value {
  let v = section(index);
  return v !== null && v.kind == Kind.MAP ? v : newMap();
}

// ---- entry ----

export function renderProgram(p: Program, record: usize): void {
  prog = p;
  rec = record;
  rp = 0;
  bodyDom = null;
  bodyParsed = false;
  paramsValue = null;
  requestOverride = null;
  responseOverride = null;
  stopped = false;
  breaking = false;
  macroDepth = 0;
  runError = null;
  hostCalls = 0;
  scratch = 0;
  scratchCap = 0;
  let bodyAt = rec + <usize>load<u32>(rec + (<usize>ABI.HDR_BODY << 2));
  let bl = load<u32>(bodyAt);
  bodyPtr = bodyAt + 4;
  bodyLen = bl == ABI.BODY_NULL ? -1 : <i32>bl;

  let n = p.slotNames.length;
  vars = new Array<Value | null>(n);
  if (p.inputSlot >= 0) unchecked(vars[p.inputSlot] = INPUT_VALUE);
  if (p.utilSlot >= 0) unchecked(vars[p.utilSlot] = UTIL_VALUE);
  if (p.stageSlot >= 0) unchecked(vars[p.stageSlot] = sectionMap(ABI.HDR_STAGE));
  if (p.contextSlot >= 0) {
    let ctx = sectionMap(ABI.HDR_CONTEXT);
    // the override maps a template may #set into (reported back to the host); the host passes in
    // those an earlier template of the same request set (a MOCK request template's, for its
    // response template)
    let req = overrideMap(ctx, "requestOverride");
    ensureMap(req, "header");
    ensureMap(req, "querystring");
    ensureMap(req, "path");
    let res = overrideMap(ctx, "responseOverride");
    ensureMap(res, "header");
    requestOverride = req;
    responseOverride = res;
    unchecked(vars[p.contextSlot] = ctx);
  }
  renderNodes(p.body);
}

function overrideMap(ctx: Value, key: string): Value {
  let m = mapGet(ctx, key);
  if (m === null || m.kind != Kind.MAP) { m = newMap(); mapPut(ctx, key, m); }
  return m;
}

function ensureMap(m: Value, key: string): void {
  let v = mapGet(m, key);
  if (v === null || v.kind != Kind.MAP) mapPut(m, key, newMap());
}

export function overridesSet(): bool {
  if (requestOverride === null) return false;
  let res = changetype<Value>(responseOverride);
  if (mapSize(res) > 1) return true; // status, or any other key next to header
  if (mapSize(mapGet(res, "header")) > 0) return true;
  let req = changetype<Value>(requestOverride);
  return mapSize(mapGet(req, "header")) > 0 || mapSize(mapGet(req, "querystring")) > 0 ||
    mapSize(mapGet(req, "path")) > 0;
}

function mapSize(v: Value | null): i32 {
  return v !== null && v.kind == Kind.MAP ? changetype<Array<string>>(v.keys).length : 0;
}

const OVERRIDE_MAPS = 6;

// Encodes the overrides (see abi.ts) into the arena; returns the pointer, length in *lenOut.
export let overridesLen: i32 = 0;
export function encodeOverrides(): usize {
  let res = changetype<Value>(responseOverride);
  let req = changetype<Value>(requestOverride);
  let status: i32 = -1;
  let st = mapGet(res, "status");
  if (st !== null) {
    if (st.kind == Kind.INT) status = <i32>st.i;
    else if (st.kind == Kind.DOUBLE) status = <i32>st.f;
    else if (st.kind == Kind.STRING) status = I32.parseInt(st.s);
  }
  // header overrides of both kinds also land in one map (a template is either a request or a
  // response one); each kind follows on its own, then responseOverride's other keys, so that the
  // host can hand them to the next template of the request
  let headers = newMap();
  mergeInto(headers, mapGet(req, "header"));
  mergeInto(headers, mapGet(res, "header"));
  let extra = newMap();
  let rk = changetype<Array<string>>(res.keys);
  let rv = changetype<Array<Value | null>>(res.vals);
  for (let i = 0; i < rk.length; i++) if (rk[i] != "header" && rk[i] != "status") mapPut(extra, rk[i], rv[i]);
  let maps = [headers, mapGet(req, "querystring"), mapGet(req, "path"), mapGet(req, "header"), mapGet(res, "header"), extra];
  let size: usize = 4;
  for (let k = 0; k < OVERRIDE_MAPS; k++) {
    size += 4;
    let m = maps[k];
    if (m === null || m.kind != Kind.MAP) continue;
    let keys = changetype<Array<string>>(m.keys);
    let vals = changetype<Array<Value | null>>(m.vals);
    for (let i = 0; i < keys.length; i++) {
      size += 8 + ((<usize>keys[i].length * 2 + 3) & ~3) + ((<usize>toJavaString(vals[i]).length * 2 + 3) & ~3);
    }
  }
  let base = __alloc(size);
  let w = base;
  store<i32>(w, status);
  w += 4;
  for (let k = 0; k < OVERRIDE_MAPS; k++) {
    let m = maps[k];
    if (m === null || m.kind != Kind.MAP) { store<u32>(w, 0); w += 4; continue; }
    let keys = changetype<Array<string>>(m.keys);
    let vals = changetype<Array<Value | null>>(m.vals);
    store<u32>(w, keys.length);
    w += 4;
    for (let i = 0; i < keys.length; i++) {
      w = putStr(w, keys[i]);
      w = putStr(w, toJavaString(vals[i]));
    }
  }
  overridesLen = <i32>(w - base);
  return base;
}

function putStr(w: usize, s: string): usize {
  store<u32>(w, s.length);
  let bytes = <usize>s.length << 1;
  memory.copy(w + 4, changetype<usize>(s), bytes);
  return w + 4 + ((bytes + 3) & ~3);
}

function mergeInto(dst: Value, src: Value | null): void {
  if (src === null || src.kind != Kind.MAP) return;
  let keys = changetype<Array<string>>(src.keys);
  let vals = changetype<Array<Value | null>>(src.vals);
  for (let i = 0; i < keys.length; i++) mapPut(dst, keys[i], vals[i]);
}

// ---- statements ----

function renderNodes(nodes: Array<Node>): void {
  let n = nodes.length;
  for (let i = 0; i < n; i++) {
    if (halted()) return;
    let node = unchecked(nodes[i]);
    switch (node.kind) {
      case N.TEXT: writeBytes(node.textPtr, node.textLen); break;
      case N.REF: renderRef(node); break;
      case N.SET: doSet(node); break;
      case N.IF: doIf(node); break;
      case N.FOREACH: doForeach(node); break;
      case N.ESCREF: renderEscRef(node); break;
      case N.MACRO_CALL: doMacro(node); break;
      case N.DEFINE: {
        let v = new Value(Kind.BLOCK);
        v.ref = changetype<usize>(node.body);
        unchecked(vars[node.slot] = v);
        break;
      }
      case N.BREAK: breaking = true; return;
      case N.STOP: stopped = true; return;
    }
  }
}

function renderRef(node: Node): void {
  let steps = changetype<Array<Node>>(node.list);
  // $input.json(...) straight into the output: no intermediate string
  if (node.slot == prog.inputSlot && steps.length == 1) {
    let st = unchecked(steps[0]);
    if (st.kind == N.METHOD && st.op == M.JSON && changetype<Array<Node>>(st.list).length == 1) {
      let arg = evalExpr(changetype<Array<Node>>(st.list)[0]);
      if (runError !== null) return;
      if (arg !== null && arg.kind == Kind.STRING) { inputJson(arg.s); return; }
    }
  }
  // $util.escapeJavaScript(x) straight into the output (its text is ASCII): no escaped string
  if (node.slot == prog.utilSlot && steps.length == 1) {
    let st = unchecked(steps[0]);
    if (st.kind == N.METHOD && st.op == M.ESCAPE_JAVASCRIPT && changetype<Array<Node>>(st.list).length == 1) {
      let a = evalExpr(changetype<Array<Node>>(st.list)[0]);
      if (runError !== null || a === null) return; // as utilMethod: a null argument renders nothing
      if (a.kind == Kind.STRING && a.raw == RAW_ASCII) writeEscapedJavaScriptAscii(a.src + 1, <i32>(a.srcEnd - a.src - 2));
      else writeEscapedJavaScript(toStr(a));
      return;
    }
  }
  let v = evalRef(node);
  if (runError !== null) return;
  // API Gateway renders a null or undefined reference as nothing, quiet ($!x) or not — unlike
  // Velocity's own loud references (recorded: LocalStack test_input_path_template_formatting,
  // "empty-body": {"body": , "nested": , ...})
  if (v === null) return;
  writeValue(v);
}

function writeValue(v: Value): void {
  switch (v.kind) {
    case Kind.STRING:
      // an ASCII JSON string never decoded: its bytes are its UTF-8
      if (v.raw == RAW_ASCII) { writeBytes(v.src + 1, <i32>(v.srcEnd - v.src - 2)); return; }
      writeString(v.s); return;
    case Kind.CHAR: writeString(v.s); return;
    case Kind.INT: writeI64(v.i); return;
    case Kind.DOUBLE: writeJavaDouble(v.f); return;
    case Kind.BLOCK: renderNodes(changetype<Array<Node>>(v.ref)); return;
    case Kind.LIST: if (v.json) { writeJsonValue(v); return; } break;
  }
  writeString(toJavaString(v));
}

// \$x renders "$x" when $x is defined, "\$x" when it is not; pairs of backslashes render as one.
function renderEscRef(node: Node): void {
  let ref = changetype<Node>(node.a);
  let count = node.op;
  let v = evalRef(ref);
  if (runError !== null) return;
  if (v === null) {
    for (let k = 0; k < count; k++) writeString("\\");
    writeString(ref.s);
    return;
  }
  for (let k = 0; k < (count >> 1); k++) writeString("\\");
  if (count & 1) writeString(ref.s);
  else writeValue(v);
}

function doSet(node: Node): void {
  let rhs = evalExpr(changetype<Node>(node.b));
  if (runError !== null) return;
  // Velocity 1.7: a null right-hand side leaves the left-hand side unchanged
  if (rhs === null) return;
  let lhs = changetype<Node>(node.a);
  let steps = changetype<Array<Node>>(lhs.list);
  let n = steps.length;
  if (n == 0) { unchecked(vars[lhs.slot] = rhs); return; }
  let target = unchecked(vars[lhs.slot]);
  for (let i = 0; i < n - 1 && target !== null; i++) target = applyStep(target, unchecked(steps[i]));
  if (target === null || runError !== null) return;
  let last = unchecked(steps[n - 1]);
  if (last.kind == N.PROP) {
    if (target.kind == Kind.MAP) mapPut(target, last.s, rhs);
  } else if (last.kind == N.INDEX) {
    let idx = evalExpr(changetype<Node>(last.a));
    if (idx === null) return;
    if (target.kind == Kind.MAP) mapPut(target, toStr(idx), rhs);
    else if (target.kind == Kind.LIST && idx.kind == Kind.INT) {
      let l = changetype<Array<Value | null>>(target.list);
      if (idx.i < 0 || idx.i >= l.length) { fail(E.E_INDEX_RANGE); return; }
      l[<i32>idx.i] = rhs;
    }
  }
}

function doIf(node: Node): void {
  let conds = changetype<Array<Node>>(node.list);
  let blocks = changetype<Array<Array<Node>>>(node.blocks);
  for (let i = 0; i < conds.length; i++) {
    let c = evalExpr(unchecked(conds[i]));
    if (runError !== null) return;
    if (truthy(c)) { renderNodes(unchecked(blocks[i])); return; }
  }
  let e = node.elseBody;
  if (e !== null) renderNodes(e);
}

function doForeach(node: Node): void {
  let it = evalExpr(changetype<Node>(node.a));
  if (runError !== null || it === null) return;
  let items: Array<Value | null>;
  if (it.kind == Kind.LIST) items = changetype<Array<Value | null>>(it.list);
  else if (it.kind == Kind.MAP) items = changetype<Array<Value | null>>(it.vals); // a Map iterates its values
  else return;
  let slot = node.slot;
  let feSlot = prog.foreachSlot;
  let vcSlot = prog.velocityCountSlot;
  let vhSlot = prog.velocityHasNextSlot;
  let savedVar = unchecked(vars[slot]);
  let savedFe = unchecked(vars[feSlot]);
  let savedVc = unchecked(vars[vcSlot]);
  let savedVh = unchecked(vars[vhSlot]);
  let fe = new Value(Kind.FOREACH);
  fe.ref = changetype<usize>(items);
  let body = changetype<Array<Node>>(node.body);
  let n = items.length;
  for (let i = 0; i < n; i++) {
    unchecked(vars[slot] = items[i]);
    fe.i = i;
    unchecked(vars[feSlot] = fe);
    unchecked(vars[vcSlot] = fromInt(i + 1));
    unchecked(vars[vhSlot] = fromBool(i < n - 1));
    renderNodes(body);
    if (breaking) { breaking = false; break; }
    if (stopped || runError !== null || outOverflow) break;
    n = items.length; // the body may have added to the list
  }
  unchecked(vars[slot] = savedVar);
  unchecked(vars[feSlot] = savedFe);
  unchecked(vars[vcSlot] = savedVc);
  unchecked(vars[vhSlot] = savedVh);
}

function doMacro(node: Node): void {
  // resolved on first use: a macro may be defined after its call site
  if (node.op == 0) {
    node.op = -1;
    let macros = prog.macros;
    for (let i = 0; i < macros.length; i++) if (macros[i].name == node.s) { node.op = i + 1; break; }
  }
  if (node.op < 0) { writeString(changetype<Value>(changetype<Node>(node.a).value).s); return; }
  let m = unchecked(prog.macros[node.op - 1]);
  if (macroDepth >= MAX_MACRO_DEPTH) { fail(E.E_MACRO_DEPTH); return; }
  let args = changetype<Array<Node>>(node.list);
  let params = m.params;
  let np = params.length;
  let values = new Array<Value | null>(np);
  for (let i = 0; i < np; i++) values[i] = i < args.length ? evalExpr(args[i]) : null;
  if (runError !== null) return;
  let saved = new Array<Value | null>(np);
  for (let i = 0; i < np; i++) { saved[i] = vars[params[i]]; vars[params[i]] = values[i]; }
  macroDepth++;
  renderNodes(m.body);
  macroDepth--;
  for (let i = 0; i < np; i++) vars[params[i]] = saved[i];
}

// ---- expressions ----

function evalRef(node: Node): Value | null {
  let v = unchecked(vars[node.slot]);
  let steps = changetype<Array<Node>>(node.list);
  let n = steps.length;
  for (let i = 0; i < n && v !== null; i++) {
    v = applyStep(v, unchecked(steps[i]));
    if (runError !== null) return null;
  }
  return v;
}

function applyStep(v: Value, step: Node): Value | null {
  if (step.kind == N.PROP) return getProp(v, step);
  if (step.kind == N.METHOD) {
    let argNodes = changetype<Array<Node>>(step.list);
    // zero-argument calls (size(), keySet(), ...) share one empty array: nothing stores it
    let args = argNodes.length == 0 ? NO_ARGS : new Array<Value | null>(argNodes.length);
    for (let i = 0; i < argNodes.length; i++) {
      unchecked(args[i] = evalExpr(unchecked(argNodes[i])));
      if (runError !== null) return null;
    }
    return callMethod(v, step.op, args);
  }
  // [index]
  let idx = evalExpr(changetype<Node>(step.a));
  if (idx === null || runError !== null) return null;
  if (v.kind == Kind.LIST) {
    if (!isNumber(idx)) return null;
    let l = changetype<Array<Value | null>>(v.list);
    let i = <i64>toF64(idx);
    if (i < 0 || i >= l.length) { fail(E.E_INDEX_RANGE); return null; }
    return unchecked(l[<i32>i]);
  }
  if (v.kind == Kind.MAP) return mapGet(v, toStr(idx));
  return null;
}

function evalExpr(node: Node): Value | null {
  switch (node.kind) {
    case N.LIT: return node.value;
    case N.REF: return evalRef(node);
    case N.STR: {
      let start = captureStart();
      renderNodes(changetype<Array<Node>>(node.body));
      return fromString(captureEnd(start));
    }
    case N.LIST: {
      let items = changetype<Array<Node>>(node.list);
      let l = newList();
      let arr = changetype<Array<Value | null>>(l.list);
      for (let i = 0; i < items.length; i++) arr.push(evalExpr(unchecked(items[i])));
      return l;
    }
    case N.MAP: {
      let ks = changetype<Array<Node>>(node.list);
      let vs = changetype<Array<Node>>(node.list2);
      let m = newMap();
      for (let i = 0; i < ks.length; i++) {
        let k = evalExpr(ks[i]);
        mapPut(m, toStr(k), evalExpr(vs[i]));
      }
      return m;
    }
    case N.RANGE: {
      let a = toIntValue(evalExpr(changetype<Node>(node.a)));
      let b = toIntValue(evalExpr(changetype<Node>(node.b)));
      if (a === null || b === null) return null;
      let from = a.i, to = b.i;
      let span = from <= to ? to - from : from - to;
      if (span >= MAX_RANGE) { fail(E.E_RANGE_TOO_LARGE); return null; }
      let l = newList();
      let arr = changetype<Array<Value | null>>(l.list);
      if (from <= to) for (let x = from; x <= to; x++) arr.push(fromInt(x));
      else for (let x = from; x >= to; x--) arr.push(fromInt(x));
      return l;
    }
    case N.NOT: return fromBool(!truthy(evalExpr(changetype<Node>(node.a))));
    case N.NEG: {
      let a = evalExpr(changetype<Node>(node.a));
      if (a === null) return null;
      if (a.kind == Kind.INT) return fromInt(-a.i);
      if (a.kind == Kind.DOUBLE) return fromDouble(-a.f);
      return null;
    }
    case N.BIN: return binary(node);
  }
  return null;
}

function toIntValue(v: Value | null): Value | null {
  if (v === null) return null;
  if (v.kind == Kind.INT) return v;
  if (v.kind == Kind.DOUBLE) return fromInt(<i64>v.f);
  if (v.kind == Kind.STRING) {
    let s = v.s.trim();
    if (s.length == 0) return null;
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (!(c >= 0x30 && c <= 0x39) && !(i == 0 && c == 0x2d)) return null;
    }
    return fromInt(I64.parseInt(s));
  }
  return null;
}

function binary(node: Node): Value | null {
  let op = node.op;
  let a = evalExpr(changetype<Node>(node.a));
  if (runError !== null) return null;
  if (op == Op.AND) {
    if (!truthy(a)) return FALSE;
    return fromBool(truthy(evalExpr(changetype<Node>(node.b))));
  }
  if (op == Op.OR) {
    if (truthy(a)) return TRUE;
    return fromBool(truthy(evalExpr(changetype<Node>(node.b))));
  }
  let b = evalExpr(changetype<Node>(node.b));
  if (runError !== null) return null;
  switch (op) {
    case Op.EQ: return fromBool(equalsOperator(a, b));
    case Op.NE: return fromBool(!equalsOperator(a, b));
    case Op.LT: case Op.GT: case Op.LE: case Op.GE: {
      if (a === null || b === null) return FALSE;
      let c: i32 = 0;
      if (isNumber(a) && isNumber(b)) {
        if (a.kind == Kind.INT && b.kind == Kind.INT) c = a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
        else { let x = toF64(a), y = toF64(b); c = x < y ? -1 : (x > y ? 1 : 0); }
      } else if (a.kind == Kind.STRING && b.kind == Kind.STRING) {
        c = compareStrings(a.s, b.s);
      } else return FALSE;
      if (op == Op.LT) return fromBool(c < 0);
      if (op == Op.GT) return fromBool(c > 0);
      if (op == Op.LE) return fromBool(c <= 0);
      return fromBool(c >= 0);
    }
  }
  if (a === null || b === null) return null;
  if (op == Op.ADD && !(isNumber(a) && isNumber(b))) {
    // Velocity: + with a String on either side concatenates
    if (a.kind == Kind.STRING || b.kind == Kind.STRING || a.kind == Kind.CHAR || b.kind == Kind.CHAR) {
      return fromString(toStr(a) + toStr(b));
    }
    return null;
  }
  if (!isNumber(a) || !isNumber(b)) return null;
  if (a.kind == Kind.INT && b.kind == Kind.INT) {
    let x = a.i, y = b.i;
    switch (op) {
      case Op.ADD: return fromInt(x + y);
      case Op.SUB: return fromInt(x - y);
      case Op.MUL: return fromInt(x * y);
      case Op.DIV: return y == 0 ? null : fromInt(x / y); // integer division; /0 is null in Velocity 1.7
      case Op.MOD: return y == 0 ? null : fromInt(x % y);
    }
    return null;
  }
  let x = toF64(a), y = toF64(b);
  switch (op) {
    case Op.ADD: return fromDouble(x + y);
    case Op.SUB: return fromDouble(x - y);
    case Op.MUL: return fromDouble(x * y);
    case Op.DIV: return y == 0 ? null : fromDouble(x / y);
    case Op.MOD: return y == 0 ? null : fromDouble(x % y);
  }
  return null;
}

// == as API Gateway evaluates it: a null reference also equals "" (recorded: LocalStack
// test_input_path_template_formatting, "empty-body" and "nested-null-list": "isEmptyString": "true")
function equalsOperator(a: Value | null, b: Value | null): bool {
  if (a === null && b !== null) return b.kind == Kind.STRING && b.s.length == 0;
  if (b === null && a !== null) return a.kind == Kind.STRING && a.s.length == 0;
  return valuesEqual(a, b);
}

// String.compareTo
function compareStrings(a: string, b: string): i32 {
  let n = min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d != 0) return d;
  }
  return a.length - b.length;
}

// String.valueOf for string contexts; a #define block renders into a string
function toStr(v: Value | null): string {
  if (v === null) return "null";
  if (v.kind == Kind.STRING) return v.s;
  if (v.kind == Kind.BLOCK) {
    let start = captureStart();
    renderNodes(changetype<Array<Node>>(v.ref));
    return captureEnd(start);
  }
  return toJavaString(v);
}

// ---- properties ----

function getProp(v: Value, step: Node): Value | null {
  switch (v.kind) {
    case Kind.MAP: return mapGet(v, step.s);
    case Kind.INPUT:
      if (step.op == M.BODY) return fromString(bodyString());
      return null;
    case Kind.FOREACH: return foreachProp(v, step.op);
    case Kind.ENTRY:
      if (step.op == M.KEY) return fromString(v.s);
      if (step.op == M.VALUE) return changetype<Array<Value | null>>(v.vals)[0];
      return null;
    case Kind.LIST:
      if (step.op == M.EMPTY) return fromBool(changetype<Array<Value | null>>(v.list).length == 0);
      return null;
    case Kind.STRING:
      if (step.op == M.EMPTY) return fromBool(v.s.length == 0);
      return null;
  }
  return null;
}

function foreachProp(v: Value, id: i32): Value | null {
  let n = changetype<Array<Value | null>>(v.ref).length;
  switch (id) {
    case M.HAS_NEXT: return fromBool(v.i < n - 1);
    case M.INDEX: return fromInt(v.i);
    case M.COUNT: return fromInt(v.i + 1);
    case M.FIRST: return fromBool(v.i == 0);
    case M.LAST: return fromBool(v.i == n - 1);
  }
  return null;
}

// $input.body of an empty payload is "{}" (recorded: LocalStack test_input_body_formatting, "empty-body")
function bodyString(): string {
  if (bodyLen <= 0) return "{}";
  return decodeBytes(bodyPtr, <usize>bodyLen);
}

// ---- methods ----

function arg(args: Array<Value | null>, i: i32): Value | null { return i < args.length ? unchecked(args[i]) : null; }

function argStr(args: Array<Value | null>, i: i32): string | null {
  let v = arg(args, i);
  if (v === null) return null;
  if (v.kind == Kind.STRING || v.kind == Kind.CHAR) return v.s;
  return null;
}

// argInt clears this when an argument is not a number (then the Java method does not apply)
let argsOk: bool = true;

function argInt(args: Array<Value | null>, i: i32): i32 {
  let v = arg(args, i);
  if (v === null || !isNumber(v)) { argsOk = false; return 0; }
  return v.kind == Kind.INT ? <i32>v.i : <i32>v.f;
}

function callMethod(v: Value, id: i32, args: Array<Value | null>): Value | null {
  // Map.toString() is Java's {k=v} (recorded: LocalStack test_input_path_template_formatting "to-string")
  if (id == M.TO_STRING && args.length == 0 && (v.kind == Kind.MAP || v.kind == Kind.LIST)) return fromString(toStr(v));
  switch (v.kind) {
    case Kind.STRING: case Kind.CHAR: return stringMethod(v, id, args);
    case Kind.LIST: return listMethod(v, id, args);
    case Kind.MAP: return mapMethod(v, id, args);
    case Kind.INPUT: return inputMethod(id, args);
    case Kind.UTIL: return utilMethod(id, args);
    case Kind.FOREACH: return args.length == 0 ? foreachProp(v, id) : null;
    case Kind.ENTRY:
      if (id == M.GET_KEY) return fromString(v.s);
      if (id == M.GET_VALUE) return changetype<Array<Value | null>>(v.vals)[0];
      break;
  }
  if (id == M.TO_STRING && args.length == 0) return fromString(toStr(v));
  if (id == M.EQUALS && args.length == 1) return fromBool(javaEquals(v, arg(args, 0)));
  return null;
}

// Object.equals: same type and value (an Integer never equals a Double)
function javaEquals(a: Value, b: Value | null): bool {
  if (b === null) return false;
  if (a.kind != b.kind) return false;
  return valuesEqual(a, b);
}

function stringMethod(v: Value, id: i32, args: Array<Value | null>): Value | null {
  let s = v.s;
  argsOk = true;
  let na = args.length;
  switch (id) {
    case M.LENGTH: return fromInt(s.length);
    case M.IS_EMPTY: return fromBool(s.length == 0);
    case M.TO_STRING: return v.kind == Kind.STRING ? v : fromString(s);
    case M.TO_LOWER_CASE: return fromString(asciiCase(s, false));
    case M.TO_UPPER_CASE: return fromString(asciiCase(s, true));
    case M.TRIM: return fromString(javaTrim(s));
    case M.EQUALS: return fromBool(javaEquals(v, arg(args, 0)));
    case M.EQUALS_IGNORE_CASE: {
      let t = argStr(args, 0);
      return fromBool(t !== null && t.length == s.length && t.toUpperCase() == s.toUpperCase());
    }
    case M.SUBSTRING: {
      let b = argInt(args, 0);
      let e = na > 1 ? argInt(args, 1) : s.length;
      if (!argsOk) return null;
      if (b < 0 || e > s.length || b > e) { fail("String index out of range in substring"); return null; }
      return fromString(s.substring(b, e));
    }
    case M.CHAR_AT: {
      let i = argInt(args, 0);
      if (!argsOk) return null;
      if (i < 0 || i >= s.length) { fail("String index out of range in charAt"); return null; }
      let c = new Value(Kind.CHAR);
      c.s = s.charAt(i);
      return c;
    }
    case M.INDEX_OF: case M.LAST_INDEX_OF: {
      let t = argStr(args, 0);
      if (t === null) return null;
      if (id == M.INDEX_OF) {
        let from = na > 1 ? argInt(args, 1) : 0;
        if (!argsOk) return null;
        return fromInt(s.indexOf(t, max(0, from)));
      }
      let from = na > 1 ? argInt(args, 1) : s.length;
      if (!argsOk) return null;
      return fromInt(from < 0 ? -1 : s.lastIndexOf(t, from));
    }
    case M.CONTAINS: { let t = argStr(args, 0); return t === null ? null : fromBool(s.includes(t)); }
    case M.STARTS_WITH: {
      let t = argStr(args, 0);
      if (t === null) return null;
      let off = na > 1 ? argInt(args, 1) : 0;
      if (!argsOk) return null;
      return fromBool(off >= 0 && off <= s.length && s.startsWith(t, off));
    }
    case M.ENDS_WITH: { let t = argStr(args, 0); return t === null ? null : fromBool(s.endsWith(t)); }
    case M.CONCAT: { let t = argStr(args, 0); return t === null ? null : fromString(s + t); }
    case M.COMPARE_TO: { let t = argStr(args, 0); return t === null ? null : fromInt(compareStrings(s, t)); }
    case M.REPLACE: {
      let a = argStr(args, 0), b = argStr(args, 1);
      if (a === null || b === null) return null;
      return fromString(s.replaceAll(a, b));
    }
    case M.MATCHES: {
      let re = argStr(args, 0);
      if (re === null) return null;
      let r = regexCall(ABI.REGEX_MATCHES, re, s, "", 0);
      return r < 0 ? null : fromBool(r == 1);
    }
    case M.REPLACE_ALL: case M.REPLACE_FIRST: {
      let re = argStr(args, 0), rep = argStr(args, 1);
      if (re === null || rep === null) return null;
      let r = regexCall(id == M.REPLACE_ALL ? ABI.REGEX_REPLACE_ALL : ABI.REGEX_REPLACE_FIRST, re, s, rep, 0);
      if (r < 0) return null;
      return fromString(String.UTF16.decodeUnsafe(scratch, <usize>r));
    }
    case M.SPLIT: {
      let re = argStr(args, 0);
      if (re === null) return null;
      let limit = na > 1 ? argInt(args, 1) : 0;
      if (!argsOk) return null;
      return split(s, re, limit);
    }
  }
  if (id == M.TO_STRING) return v;
  return null;
}

// toUpperCase / toLowerCase: ASCII text (the common case) in one pass, returned as it is when nothing
// changes (as Java does); any other text goes to the runtime's full Unicode mapping.
function asciiCase(s: string, upper: bool): string {
  let n = s.length;
  let src = changetype<usize>(s);
  let lo = upper ? 0x61 : 0x41; // the letters that change
  let first = -1;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u16>(src + (<usize>i << 1));
    if (c >= 0x80) return upper ? s.toUpperCase() : s.toLowerCase();
    if (first < 0 && c - lo < 26) first = i;
  }
  if (first < 0) return s;
  let out = __new(<usize>n << 1, idof<String>());
  memory.copy(out, src, <usize>first << 1);
  for (let i = first; i < n; i++) {
    let c = <u32>load<u16>(src + (<usize>i << 1));
    if (c - lo < 26) c ^= 0x20;
    store<u16>(out + (<usize>i << 1), <u16>c);
  }
  return changetype<string>(out);
}

// String.trim: strips everything <= ' ' from both ends
function javaTrim(s: string): string {
  let a = 0, b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return a == 0 && b == s.length ? s : s.substring(a, b);
}

const REGEX_META = ".$|()[{^?*+\\";

// String.split: a one-character literal separator is handled here (Java's own fast path); anything
// else is a regular expression and goes to the host once.
function split(s: string, re: string, limit: i32): Value | null {
  let sep: i32 = -1;
  if (re.length == 1 && !REGEX_META.includes(re)) sep = re.charCodeAt(0);
  else if (re.length == 2 && re.charCodeAt(0) == 0x5c) {
    let c = re.charCodeAt(1);
    let alnum = (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
    if (!alnum && c < 0xd800) sep = c;
  }
  let out = newList();
  let items = changetype<Array<Value | null>>(out.list);
  if (sep >= 0 && limit == 0) {
    if (s.length == 0) { items.push(fromString("")); return out; }
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) == sep) { items.push(fromString(s.substring(start, i))); start = i + 1; }
    }
    items.push(fromString(s.substring(start)));
    // trailing empty strings are removed
    while (items.length > 1 && changetype<Value>(items[items.length - 1]).s.length == 0) items.pop();
    if (items.length == 1 && changetype<Value>(items[0]).s.length == 0 && s.length > 0) items.pop();
    return out;
  }
  let r = regexCall(ABI.REGEX_SPLIT, re, s, "", limit);
  if (r < 0) return null;
  let p = scratch;
  let count = load<u32>(p);
  p += 4;
  for (let i: u32 = 0; i < count; i++) {
    let units = load<u32>(p);
    p += 4;
    items.push(fromString(String.UTF16.decodeUnsafe(p, <usize>units << 1)));
    p += ((<usize>units << 1) + 3) & ~3;
  }
  return out;
}

// One host crossing per call; retried once with a bigger scratch when the result does not fit.
function regexCall(op: i32, pat: string, str: string, rep: string, limit: i32): i32 {
  let want = (str.length + rep.length) * 4 + 64;
  if (scratchCap < want) { scratchCap = want; scratch = __alloc(<usize>want); }
  while (true) {
    hostCalls++;
    let r = hostRegex(op, changetype<usize>(pat), pat.length, changetype<usize>(str), str.length,
      changetype<usize>(rep), rep.length, limit, scratch, scratchCap);
    if (r >= 0) return r;
    if (r == ABI.REGEX_BAD_PATTERN) { fail(E.E_BAD_REGEX); return -1; }
    scratchCap = -r;
    scratch = __alloc(<usize>scratchCap);
  }
}

function listMethod(v: Value, id: i32, args: Array<Value | null>): Value | null {
  let l = changetype<Array<Value | null>>(v.list);
  argsOk = true;
  switch (id) {
    case M.SIZE: return fromInt(l.length);
    case M.IS_EMPTY: return fromBool(l.length == 0);
    case M.GET: {
      let i = argInt(args, 0);
      if (!argsOk) return null;
      if (i < 0 || i >= l.length) { fail(E.E_INDEX_RANGE); return null; }
      return unchecked(l[i]);
    }
    case M.ADD: {
      if (args.length == 2) {
        let i = argInt(args, 0);
        if (!argsOk) return null;
        if (i < 0 || i > l.length) { fail(E.E_INDEX_RANGE); return null; }
        let copy = new Array<Value | null>();
        for (let k = 0; k < l.length; k++) { if (k == i) copy.push(arg(args, 1)); copy.push(l[k]); }
        if (i == l.length) copy.push(arg(args, 1));
        v.list = copy;
        return null;
      }
      l.push(arg(args, 0));
      return TRUE;
    }
    case M.ADD_ALL: {
      let o = arg(args, 0);
      if (o === null || o.kind != Kind.LIST) return null;
      let src = changetype<Array<Value | null>>(o.list);
      for (let k = 0; k < src.length; k++) l.push(src[k]);
      return fromBool(src.length > 0);
    }
    case M.SET: {
      let i = argInt(args, 0);
      if (!argsOk) return null;
      if (i < 0 || i >= l.length) { fail(E.E_INDEX_RANGE); return null; }
      let old = l[i];
      l[i] = arg(args, 1);
      return old;
    }
    case M.CONTAINS: {
      let x = arg(args, 0);
      for (let k = 0; k < l.length; k++) if (equalsLoose(l[k], x)) return TRUE;
      return FALSE;
    }
    case M.INDEX_OF: {
      let x = arg(args, 0);
      for (let k = 0; k < l.length; k++) if (equalsLoose(l[k], x)) return fromInt(k);
      return fromInt(-1);
    }
    case M.REMOVE: {
      let x = arg(args, 0);
      if (x !== null && x.kind == Kind.INT) {
        let i = <i32>x.i;
        if (i < 0 || i >= l.length) { fail(E.E_INDEX_RANGE); return null; }
        let old = l[i];
        l.splice(i, 1);
        return old;
      }
      for (let k = 0; k < l.length; k++) if (equalsLoose(l[k], x)) { l.splice(k, 1); return TRUE; }
      return FALSE;
    }
  }
  return null;
}

function equalsLoose(a: Value | null, b: Value | null): bool {
  if (a === null || b === null) return a === b;
  return a.kind == b.kind && valuesEqual(a, b);
}

function mapMethod(v: Value, id: i32, args: Array<Value | null>): Value | null {
  let keys = changetype<Array<string>>(v.keys);
  let vals = changetype<Array<Value | null>>(v.vals);
  switch (id) {
    case M.SIZE: return fromInt(keys.length);
    case M.IS_EMPTY: return fromBool(keys.length == 0);
    case M.GET: { let k = arg(args, 0); return k === null ? null : mapGet(v, toStr(k)); }
    case M.CONTAINS_KEY: { let k = arg(args, 0); return fromBool(k !== null && mapIndex(v, toStr(k)) >= 0); }
    case M.CONTAINS_VALUE: {
      let x = arg(args, 0);
      for (let k = 0; k < vals.length; k++) if (equalsLoose(vals[k], x)) return TRUE;
      return FALSE;
    }
    case M.PUT: { let k = arg(args, 0); return k === null ? null : mapPut(v, toStr(k), arg(args, 1)); }
    case M.PUT_ALL: {
      let o = arg(args, 0);
      if (o !== null && o.kind == Kind.MAP) {
        let ok = changetype<Array<string>>(o.keys), ov = changetype<Array<Value | null>>(o.vals);
        for (let k = 0; k < ok.length; k++) mapPut(v, ok[k], ov[k]);
      }
      return null;
    }
    case M.REMOVE: { let k = arg(args, 0); return k === null ? null : mapRemove(v, toStr(k)); }
    case M.KEY_SET: {
      let out = newList();
      let items = changetype<Array<Value | null>>(out.list);
      for (let k = 0; k < keys.length; k++) items.push(fromString(keys[k]));
      return out;
    }
    case M.VALUES: {
      let out = newList();
      let items = changetype<Array<Value | null>>(out.list);
      for (let k = 0; k < vals.length; k++) items.push(vals[k]);
      return out;
    }
    case M.ENTRY_SET: {
      let out = newList();
      let items = changetype<Array<Value | null>>(out.list);
      for (let k = 0; k < keys.length; k++) {
        let e = new Value(Kind.ENTRY);
        e.s = keys[k];
        let ev = new Array<Value | null>(1);
        ev[0] = vals[k];
        e.vals = ev;
        items.push(e);
      }
      return out;
    }
  }
  return null;
}

// ---- $input ----

function ensureBody(): Value | null {
  if (!bodyParsed) {
    bodyParsed = true;
    if (bodyLen <= 0 || onlyWhitespace(bodyPtr, bodyLen)) bodyDom = newMap(); // no payload reads as {}
    else {
      bodyDom = parseJson(bodyPtr, <usize>bodyLen);
      if (jsonFailed) { fail(E.E_BAD_JSON_BODY); bodyDom = null; }
    }
  }
  return bodyDom;
}

function onlyWhitespace(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    let c = load<u8>(p + <usize>i);
    if (!(c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09)) return false;
  }
  return true;
}

function isRootPath(path: string): bool {
  return path.length == 1 && path.charCodeAt(0) == 0x24;
}

// $input.json(path) written to the output; a path that selects nothing writes nothing
function inputJson(path: string): void {
  if (isRootPath(path)) {
    if (bodyLen <= 0 || onlyWhitespace(bodyPtr, bodyLen)) { writeString("{}"); return; }
    writeCompactJson(bodyPtr, bodyPtr + <usize>bodyLen);
    return;
  }
  let dom = ensureBody();
  if (runError !== null) return;
  let r = evalPath(dom, path);
  if (pathFailed) { fail(E.E_BAD_JSONPATH); return; }
  if (r === null && !pathFound) return; // nothing selected: nothing written
  writeJsonValue(r);
}

function inputMethod(id: i32, args: Array<Value | null>): Value | null {
  switch (id) {
    case M.JSON: {
      let p = argStr(args, 0);
      if (p === null) return null;
      let start = captureStart();
      inputJson(p);
      return fromString(captureEnd(start));
    }
    case M.PATH: {
      let p = argStr(args, 0);
      if (p === null) return null;
      let dom = ensureBody();
      if (runError !== null) return null;
      let r = evalPath(dom, p);
      if (pathFailed) { fail(E.E_BAD_JSONPATH); return null; }
      return r;
    }
    case M.PARAMS: {
      if (args.length == 0) return allParams();
      let name = argStr(args, 0);
      if (name === null) return null;
      return fromString(param(name));
    }
    case M.BODY: return fromString(bodyString());
  }
  return null;
}

function allParams(): Value {
  if (paramsValue === null) {
    let m = newMap();
    mapPut(m, "path", sectionMap(ABI.HDR_PATH));
    mapPut(m, "querystring", sectionMap(ABI.HDR_QUERYSTRING));
    let h = sectionMap(ABI.HDR_HEADER);
    h.ci = true;
    mapPut(m, "header", h);
    paramsValue = m;
  }
  return changetype<Value>(paramsValue);
}

// $input.params(x): path, then query string, then header (header names compare case-insensitively)
function param(name: string): string {
  let all = allParams();
  let path = changetype<Value>(mapGet(all, "path"));
  let v = mapGet(path, name);
  if (v !== null) return toStr(v);
  let qs = changetype<Value>(mapGet(all, "querystring"));
  v = mapGet(qs, name);
  if (v !== null) return toStr(v);
  let h = changetype<Value>(mapGet(all, "header"));
  v = mapGet(h, name); // case-insensitive (h.ci)
  if (v !== null) return toStr(v);
  return "";
}

// ---- $util ----

function utilMethod(id: i32, args: Array<Value | null>): Value | null {
  let a = arg(args, 0);
  if (a === null) return null;
  let s = toStr(a);
  switch (id) {
    case M.ESCAPE_JAVASCRIPT: return fromString(escapeJavaScript(s));
    case M.PARSE_JSON: {
      let buf = String.UTF8.encode(s);
      let r = parseJson(changetype<usize>(buf), <usize>buf.byteLength);
      if (jsonFailed) { fail(E.E_BAD_JSON_ARG); return null; }
      return r;
    }
    case M.URL_ENCODE: return fromString(urlEncode(s));
    case M.URL_DECODE: {
      let r = urlDecode(s);
      if (codecFailed) { fail(E.E_BAD_URL); return null; }
      return fromString(r);
    }
    case M.BASE64_ENCODE: return fromString(base64Encode(s));
    case M.BASE64_DECODE: {
      let r = base64Decode(s);
      if (codecFailed) { fail(E.E_BAD_BASE64); return null; }
      return fromString(r);
    }
  }
  return null;
}

