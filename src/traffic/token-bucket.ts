// Token buckets shared by every worker thread: API Gateway throttles with the token bucket
// algorithm ("Throttle requests to your REST APIs": a request takes one token; the bucket
// holds at most `burst` tokens and refills at `rate` tokens per second). N workers never mean
// N times the limit, so the buckets live in one SharedArrayBuffer that the main thread
// creates and hands to every worker; no message crosses threads per request.
//
// The table is open-addressed by a 64-bit hash of the bucket's identity ("method\npetstore\n
// prod\n/pets\nGET"), so that any thread compiling a configuration finds the same slot for the
// same bucket — across a reload too, which is how a bucket keeps its tokens. Layout, 32 bytes
// per slot after a 32-byte header:
//
//   header  Int32[0] capacity   Int32[1] threads without Redis now   Int32[2..7] reserved
//   slot s  Int32 state (0 empty, 1 being claimed, 2 ready) · Int32 lock · Int32 hashHi · Int32 hashLo
//           Float64 tokens · Float64 refilledAt (0: never used, the bucket is full)
//
// A bucket's limits are not stored: each take passes the rate and burst its compiled method
// has, so a request always uses the limits of the configuration it started with.
//
// A take is one critical section per bucket: Atomics.compareExchange on the slot's lock, a few
// loads and stores, Atomics.store to release (Atomics order the plain Float64 accesses around
// them). A chain of buckets (one request's levels) locks its slots in ascending order, so two
// chains never deadlock, and takes a token from every bucket or from none.
//
// Time is epoch milliseconds with a fraction (performance.timeOrigin + performance.now()):
// every thread has its own performance.now() origin, so that sum is the shared clock.

const HEADER_INT32 = 8
const SLOT_BYTES = 32
const SLOT_INT32 = SLOT_BYTES / 4
const SLOT_F64 = SLOT_BYTES / 8
const HEADER_F64 = (HEADER_INT32 * 4) / 8
const STATE = 0
const LOCK = 1
const HASH_HI = 2
const HASH_LO = 3
/** Float64 offsets within a slot. */
const TOKENS = 2
const REFILLED_AT = 3

const EMPTY = 0
const CLAIMING = 1
const READY = 2

/** Header Int32: how many threads have lost Redis now (traffic/throttle-redis.ts logs each outage once per process). */
const OUTAGE_COUNT = 1

/** The shared clock of all threads, in milliseconds. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now()
}

/** The memory of a table of `capacity` buckets (a power of two); made once, in the main thread. */
export function createTokenBucketMemory(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 1 || (capacity & (capacity - 1)) !== 0) throw new RangeError(`capacity must be a power of two, not ${capacity}`)
  const memory = new SharedArrayBuffer(HEADER_INT32 * 4 + capacity * SLOT_BYTES)
  new Int32Array(memory)[0] = capacity
  return memory
}

export class TokenBucketTable {
  /** Slots in the table. */
  readonly capacity: number
  readonly #mask: number
  readonly #ints: Int32Array
  readonly #floats: Float64Array

  constructor(memory: SharedArrayBuffer) {
    this.#ints = new Int32Array(memory)
    this.#floats = new Float64Array(memory)
    this.capacity = this.#ints[0]!
    this.#mask = this.capacity - 1
  }

  /**
   * The slot of the bucket whose identity hashes to (hi, lo): found, or claimed when no thread
   * has claimed it yet. -1 when the table is full. Runs at compile time only.
   */
  slotOf(hi: number, lo: number): number {
    const ints = this.#ints
    hi |= 0
    lo |= 0
    let s = lo & this.#mask
    for (let probes = 0; probes < this.capacity; probes++, s = (s + 1) & this.#mask) {
      const at = HEADER_INT32 + s * SLOT_INT32
      let state = Atomics.load(ints, at + STATE)
      if (state === EMPTY) {
        state = Atomics.compareExchange(ints, at + STATE, EMPTY, CLAIMING)
        if (state === EMPTY) {
          ints[at + HASH_HI] = hi
          ints[at + HASH_LO] = lo
          Atomics.store(ints, at + STATE, READY)
          return s
        }
      }
      // Another thread is writing this slot's hash: a few stores away.
      while (state === CLAIMING) state = Atomics.load(ints, at + STATE)
      if (ints[at + HASH_HI] === hi && ints[at + HASH_LO] === lo) return s
    }
    return -1
  }

  /** Buckets claimed so far (for `backplane` diagnostics and tests). */
  used(): number {
    let n = 0
    for (let s = 0; s < this.capacity; s++) if (Atomics.load(this.#ints, HEADER_INT32 + s * SLOT_INT32 + STATE) !== EMPTY) n++
    return n
  }

  #lock(s: number): void {
    const at = HEADER_INT32 + s * SLOT_INT32 + LOCK
    while (Atomics.compareExchange(this.#ints, at, 0, 1) !== 0) {
      // Another thread is inside a few instructions' critical section: spin.
    }
  }

  #unlock(s: number): void {
    Atomics.store(this.#ints, HEADER_INT32 + s * SLOT_INT32 + LOCK, 0)
  }

  /** Bucket s's tokens at `now` (under its lock): a never-used bucket is full; never more than `burst`. */
  #refilled(s: number, rate: number, burst: number, now: number): number {
    const f = this.#floats
    const at = HEADER_F64 + s * SLOT_F64
    const last = f[at + REFILLED_AT]!
    if (last === 0) return burst
    let tokens = f[at + TOKENS]!
    if (now > last) tokens += ((now - last) * rate) / 1000
    // A reload may have lowered the burst: the bucket never holds more than its current one.
    return tokens < burst ? tokens : burst
  }

  #store(s: number, tokens: number, now: number): void {
    const f = this.#floats
    const at = HEADER_F64 + s * SLOT_F64
    f[at + TOKENS] = tokens
    // The clocks of two threads may differ by a fraction of a millisecond: never step back.
    if (now > f[at + REFILLED_AT]!) f[at + REFILLED_AT] = now
  }

  /** Refills bucket s to `now` and takes one token; false when it holds less than one (throttled). */
  tryTake(s: number, rate: number, burst: number, now: number = sharedNow()): boolean {
    this.#lock(s)
    const tokens = this.#refilled(s, rate, burst, now)
    const ok = tokens >= 1
    this.#store(s, ok ? tokens - 1 : tokens, now)
    this.#unlock(s)
    return ok
  }

  /**
   * Takes one token from each of `count` buckets, or from none: 0 when every bucket had one,
   * else a bit mask of the positions (in the arrays' order, at most 31) of those that had none.
   * `slots` must be in ascending order (the lock order), without duplicates.
   */
  tryTakeAll(slots: Int32Array, rates: Float64Array, bursts: Float64Array, count: number, now: number = sharedNow()): number {
    for (let i = 0; i < count; i++) this.#lock(slots[i]!)
    let empty = 0
    for (let i = 0; i < count; i++) if (this.#refilled(slots[i]!, rates[i]!, bursts[i]!, now) < 1) empty |= 1 << i
    if (empty === 0) {
      for (let i = 0; i < count; i++) {
        const s = slots[i]!
        this.#store(s, this.#refilled(s, rates[i]!, bursts[i]!, now) - 1, now)
      }
    }
    for (let i = count - 1; i >= 0; i--) this.#unlock(slots[i]!)
    return empty
  }

  /** Tokens in bucket s at `now` with these limits (for tests and diagnostics). */
  tokens(s: number, rate: number, burst: number, now: number = sharedNow()): number {
    this.#lock(s)
    const v = this.#refilled(s, rate, burst, now)
    this.#unlock(s)
    return v
  }

  /** One more thread of this process has lost Redis; true for the first (it says so in the log). */
  outageStarted(): boolean {
    return Atomics.add(this.#ints, OUTAGE_COUNT, 1) === 0
  }

  /** One thread has Redis back; true for the last one that had lost it (it says so in the log). */
  outageEnded(): boolean {
    return Atomics.sub(this.#ints, OUTAGE_COUNT, 1) === 1
  }
}
