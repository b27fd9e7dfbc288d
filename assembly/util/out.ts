// The one reused output buffer (STYLE §D.8). `resetOut()` before each render rewinds it; it starts in the
// persistent heap and, when a render outgrows it, continues in a bigger block of the per-render arena
// (released with the arena, so the next render starts again from the persistent one).
import { MAX_OUTPUT_BYTES } from "../abi";

const INITIAL_CAPACITY: i32 = 64 * 1024; // most mapping templates render far below this
const BASE: usize = __alloc(INITIAL_CAPACITY);

export let outPtr: usize = BASE;
export let outCap: i32 = INITIAL_CAPACITY;
export let outLen: i32 = 0;
export let outOverflow: bool = false;

export function resetOut(): void {
  outPtr = BASE;
  outCap = INITIAL_CAPACITY;
  outLen = 0;
  outOverflow = false;
}

// Ensures room for `n` more bytes; false (and outOverflow) past MAX_OUTPUT_BYTES.
export function reserveOut(n: i32): bool {
  let need = outLen + n;
  if (need <= outCap) return true;
  if (need > MAX_OUTPUT_BYTES) { outOverflow = true; return false; }
  let cap = outCap << 1;
  while (cap < need) cap <<= 1;
  if (cap > MAX_OUTPUT_BYTES) cap = MAX_OUTPUT_BYTES; // so the limit is checked again past it
  let p = __alloc(<usize>cap);
  memory.copy(p, outPtr, <usize>outLen);
  outPtr = p;
  outCap = cap;
  return true;
}

export function writeByte(b: i32): void {
  if (!reserveOut(1)) return;
  store<u8>(outPtr + <usize>outLen, <u8>b);
  outLen++;
}

export function writeBytes(src: usize, n: i32): void {
  if (!reserveOut(n)) return;
  let dst = outPtr + <usize>outLen;
  // most pieces are a few bytes of template text between references: a loop beats memory.copy's call
  if (n <= 16) for (let i = 0; i < n; i++) store<u8>(dst + <usize>i, load<u8>(src + <usize>i));
  else memory.copy(dst, src, <usize>n);
  outLen += n;
}

// UTF-16 → UTF-8, ASCII fast path; lone surrogates become U+FFFD as Java's encoder does.
export function writeString(s: string): void {
  let n = s.length;
  if (!reserveOut(n * 3)) return;
  let src = changetype<usize>(s);
  let dst = outPtr + <usize>outLen;
  let start = dst;
  for (let i = 0; i < n; i++) {
    let c = <u32>load<u16>(src + (<usize>i << 1));
    if (c < 0x80) {
      store<u8>(dst++, <u8>c);
    } else if (c < 0x800) {
      store<u8>(dst++, <u8>(0xc0 | (c >> 6)));
      store<u8>(dst++, <u8>(0x80 | (c & 63)));
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        let d = <u32>load<u16>(src + (<usize>(i + 1) << 1));
        if (d >= 0xdc00 && d < 0xe000) {
          let cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          store<u8>(dst++, <u8>(0xf0 | (cp >> 18)));
          store<u8>(dst++, <u8>(0x80 | ((cp >> 12) & 63)));
          store<u8>(dst++, <u8>(0x80 | ((cp >> 6) & 63)));
          store<u8>(dst++, <u8>(0x80 | (cp & 63)));
          i++;
          continue;
        }
      }
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      store<u8>(dst++, <u8>(0xe0 | (c >> 12)));
      store<u8>(dst++, <u8>(0x80 | ((c >> 6) & 63)));
      store<u8>(dst++, <u8>(0x80 | (c & 63)));
    }
  }
  outLen += <i32>(dst - start);
}

// Drops everything written after `n` (used to capture a rendering as a string).
export function rewindOut(n: i32): void { outLen = n; }

// Decimal digits of n straight into the output (no intermediate string).
export function writeI64(n: i64): void {
  if (!reserveOut(20)) return;
  let p = outPtr + <usize>outLen;
  let u: u64;
  if (n < 0) { store<u8>(p++, 0x2d); outLen++; u = <u64>(-n); } else u = <u64>n;
  let digits = 1;
  let t = u;
  while (t >= 10) { t /= 10; digits++; }
  let q = p + <usize>digits;
  do { store<u8>(--q, <u8>(0x30 + <i32>(u % 10))); u /= 10; } while (u != 0);
  outLen += digits;
}

// Commits n bytes already stored past outLen (after a successful reserveOut).
export function writeRaw(n: i32): void { outLen += n; }
