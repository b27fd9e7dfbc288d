// The mapping engine's exported ABI (see abi.ts). Nothing here allocates on behalf of the host
// except `reserve`, and every render starts from the same heap mark.
import { setMark, releaseArena, arenaCheck } from "./util/arena"; // first: owns the first heap block
import * as ABI from "./abi";
import { resetOut, outPtr, outLen, outOverflow } from "./util/out";
import { Program } from "./vtl/ast";
import { parseTemplate, errorMessage, errorPos } from "./vtl/parser";
import { renderProgram, runError, hostCalls, overridesSet, encodeOverrides, overridesLen } from "./vtl/evaluator";
import { E_OUTPUT_TOO_LARGE, E_BAD_ID } from "./util/errors";
import { internPersistent, nextGeneration } from "./util/intern";

const RESULT: usize = memory.data(ABI.RESULT_WORDS * 4, 16);
const programs = new Array<Program>();

setMark();

// @ts-ignore: decorator
@inline function setResult(word: i32, v: u32): void { store<u32>(RESULT + (<usize>word << 2), v); }

function setMessage(msg: string): void {
  setResult(ABI.RESULT_MESSAGE_PTR, <u32>changetype<usize>(msg));
  setResult(ABI.RESULT_MESSAGE_LEN, <u32>msg.length);
}

export function abiVersion(): i32 {
  return arenaCheck() ? ABI.ABI_VERSION : -1;
}

export function result(): usize {
  return RESULT;
}

// Drops the previous render's arena and returns `bytes` of scratch for the next compile or render input.
export function reserve(bytes: i32): usize {
  releaseArena();
  return __alloc(<usize>max(bytes, 0));
}

export function compile(ptr: usize, units: i32): i32 {
  let src = String.UTF16.decodeUnsafe(ptr, <usize>units << 1);
  let prog = parseTemplate(src);
  if (prog === null) {
    let line = 1, col = 1;
    let end = min(errorPos, src.length);
    for (let i = 0; i < end; i++) {
      if (src.charCodeAt(i) == 0x0a) { line++; col = 1; } else col++;
    }
    setMessage(errorMessage);
    setResult(ABI.RESULT_LINE, line);
    setResult(ABI.RESULT_COLUMN, col);
    releaseArena(); // nothing of a failed compile stays
    return -1;
  }
  programs.push(prog);
  setResult(ABI.RESULT_USES, prog.uses());
  setMark(); // the program is now part of the persistent heap
  // its property names become the strings JSON keys resolve to (only now: a failed compile's are freed)
  let names = prog.propNames;
  for (let i = 0; i < names.length; i++) internPersistent(unchecked(names[i]));
  return programs.length - 1;
}

export function render(id: i32, ptr: usize, bytes: i32): i32 {
  setResult(ABI.RESULT_OUTPUT_LEN, 0);
  setResult(ABI.RESULT_OVERRIDES_LEN, 0);
  setResult(ABI.RESULT_MESSAGE_LEN, 0);
  setResult(ABI.RESULT_HOST_CALLS, 0);
  if (id < 0 || id >= programs.length) { setMessage(E_BAD_ID); return ABI.Status.BAD_TEMPLATE_ID; }
  resetOut();
  nextGeneration(); // keys interned by the previous render are gone with its arena
  renderProgram(unchecked(programs[id]), ptr);
  setResult(ABI.RESULT_HOST_CALLS, hostCalls);
  if (outOverflow) { setMessage(E_OUTPUT_TOO_LARGE); return ABI.Status.OUTPUT_TOO_LARGE; }
  let err = runError;
  if (err !== null) { setMessage(err); return ABI.Status.RUNTIME_ERROR; }
  setResult(ABI.RESULT_OUTPUT_PTR, <u32>outPtr);
  setResult(ABI.RESULT_OUTPUT_LEN, <u32>outLen);
  if (overridesSet()) {
    let p = encodeOverrides();
    setResult(ABI.RESULT_OVERRIDES_PTR, <u32>p);
    setResult(ABI.RESULT_OVERRIDES_LEN, <u32>overridesLen);
  }
  return ABI.Status.OK;
}

// Traps on purpose, so tests can prove the host rebuilds the instance.
export function trapForTest(): void {
  unreachable();
}
