// The compiled form of a template: a tree of Nodes built once at load, in the persistent heap.
import { Value } from "./values";
import { M } from "./methods";
import * as ABI from "../abi";

export const enum N {
  // statements
  TEXT = 1, REF = 2, ESCREF = 3, SET = 4, IF = 5, FOREACH = 6, BREAK = 7, STOP = 8,
  MACRO_CALL = 9, DEFINE = 10,
  // reference steps
  PROP = 20, METHOD = 21, INDEX = 22,
  // expressions
  LIT = 30, STR = 31, LIST = 32, RANGE = 33, MAP = 34, BIN = 35, NOT = 36, NEG = 37,
}

export const enum Op {
  OR = 1, AND, EQ, NE, LT, GT, LE, GE, ADD, SUB, MUL, DIV, MOD,
}

export const FLAG_QUIET: i32 = 1;

export class Node {
  kind: i32;
  pos: i32;                          // offset in the template, for messages
  op: i32 = 0;                       // Op, method id, backslash count
  slot: i32 = -1;                    // variable slot
  flags: i32 = 0;
  s: string = "";                    // names; the source text of a reference (rendered when it is null)
  textPtr: usize = 0;                // TEXT: UTF-8 bytes
  textLen: i32 = 0;
  value: Value | null = null;        // LIT
  a: Node | null = null;
  b: Node | null = null;
  list: Array<Node> | null = null;   // reference steps, arguments, list items, map keys, #if conditions
  list2: Array<Node> | null = null;  // map values
  body: Array<Node> | null = null;
  blocks: Array<Array<Node>> | null = null; // #if branches (one per condition)
  elseBody: Array<Node> | null = null;
  constructor(kind: i32, pos: i32) { this.kind = kind; this.pos = pos; }
}

export class Macro {
  name: string;
  params: Array<i32> = new Array<i32>(); // slots
  body: Array<Node> = new Array<Node>();
  constructor(name: string) { this.name = name; }
}

export class Program {
  body: Array<Node> = new Array<Node>();
  slotNames: Array<string> = new Array<string>();
  macros: Array<Macro> = new Array<Macro>();
  propNames: Array<string> = new Array<string>(); // property names ($a.name): interned at compile (util/intern.ts)
  // slots of the built-in roots, -1 when the template never names them
  inputSlot: i32 = -1;
  utilSlot: i32 = -1;
  contextSlot: i32 = -1;
  stageSlot: i32 = -1;
  foreachSlot: i32 = -1;
  velocityCountSlot: i32 = -1;
  velocityHasNextSlot: i32 = -1;
  // request sections the template can read (ABI.USES_*): a method or property named params reads
  // the parameters, json/path/body the body, whatever object it is called on (so $input may be aliased)
  usesParams: bool = false;
  usesBody: bool = false;

  noteName(id: i32): void {
    if (id == M.PARAMS) this.usesParams = true;
    else if (id == M.JSON || id == M.PATH || id == M.BODY) this.usesBody = true;
  }
  uses(): u32 {
    let u: u32 = 0;
    if (this.usesParams) u |= ABI.USES_PARAMS;
    if (this.usesBody) u |= ABI.USES_BODY;
    if (this.contextSlot >= 0) u |= ABI.USES_CONTEXT;
    if (this.stageSlot >= 0) u |= ABI.USES_STAGE;
    return u;
  }

  slotOf(name: string): i32 {
    let names = this.slotNames;
    for (let i = 0; i < names.length; i++) if (unchecked(names[i]) == name) return i;
    names.push(name);
    let s = names.length - 1;
    if (name == "input") this.inputSlot = s;
    else if (name == "util") this.utilSlot = s;
    else if (name == "context") this.contextSlot = s;
    else if (name == "stageVariables") this.stageSlot = s;
    else if (name == "foreach") this.foreachSlot = s;
    else if (name == "velocityCount") this.velocityCountSlot = s;
    else if (name == "velocityHasNext") this.velocityHasNextSlot = s;
    return s;
  }
  findMacro(name: string): Macro | null {
    for (let i = 0; i < this.macros.length; i++) if (this.macros[i].name == name) return this.macros[i];
    return null;
  }
}
