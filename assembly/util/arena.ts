// Heap discipline on the stub runtime (STYLE §D.8).
//
//   [ data | dummy block | persistent: compiled programs, output buffer ... | mark | per-render arena → ]
//
// The stub runtime only bumps. Compiled programs live below `mark`; everything a render allocates lives
// above it and is dropped by `releaseArena()`, which moves the bump pointer back to `mark`:
// `__reset()` returns it to the heap start, then one `__alloc` of exactly (mark - start - 4) bytes lands
// it on `mark` again. That `__alloc` writes one block header at the heap start, which is why the very
// first block (`DUMMY`) is allocated here, before anything else, and never used.
import { BLOCK_OVERHEAD, AL_MASK } from "~lib/rt/common";

const DUMMY: usize = __alloc(0);
// the stub runtime's startOffset, recomputed
const HEAP_START: usize = ((__heap_base + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
let mark: usize = 0;

// Call once at start-up (after the top-level allocations) and after every compile.
export function setMark(): void {
  mark = __alloc(0) + 12; // the bump pointer after this 16-byte sentinel
}

export function releaseArena(): void {
  __reset();
  let distance = mark - HEAP_START;
  if (distance > 0) __alloc(distance - BLOCK_OVERHEAD);
}

export function arenaCheck(): bool {
  // the restore arithmetic assumes 16-byte block granularity and DUMMY first
  return (mark - HEAP_START) % 16 == 0 && DUMMY == HEAP_START + BLOCK_OVERHEAD;
}
