// Token buckets shared by every worker thread: API Gateway throttles with the token bucket
// algorithm ("Throttle requests to your REST APIs": a request takes one token; the bucket
// holds at most `burst` tokens and refills at `rate` tokens per second). N workers never mean
// N times the limit, so the buckets live in one SharedArrayBuffer that the main thread
// creates and hands to every worker, and each take is one short critical section:
//
//   Int32 lock[i]  ─ Atomics.compareExchange 0→1, spin (the section is a few loads and stores)
//   Float64 tokens[i], refilledAt[i], rate[i], burst[i]   (read and written under lock[i])
//
// Atomics operations order the plain Float64 accesses around them, so the critical section
// sees the last holder's writes. No message crosses threads per request.
//
// Time is epoch milliseconds with a fraction (performance.timeOrigin + performance.now()):
// every thread has its own performance.now() origin, so that sum is the shared clock.

/** Float64 fields per bucket. */
const FIELDS = 4
const TOKENS = 0
const REFILLED_AT = 1
const RATE = 2
const BURST = 3

/** The shared clock of all threads, in milliseconds. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now()
}

/** The memory a table of `count` buckets needs; made once in the main thread. */
export function createTokenBucketMemory(count: number): SharedArrayBuffer {
  // Int32 locks first, padded to 8 bytes, then the Float64 fields.
  const lockBytes = Math.ceil((count * 4) / 8) * 8
  return new SharedArrayBuffer(lockBytes + count * FIELDS * 8)
}

export class TokenBucketTable {
  readonly count: number
  readonly #locks: Int32Array
  readonly #fields: Float64Array

  constructor(memory: SharedArrayBuffer) {
    // Solve lockBytes + count * 32 = byteLength for the largest count that fits.
    let count = Math.floor(memory.byteLength / (4 + FIELDS * 8))
    while (Math.ceil((count * 4) / 8) * 8 + count * FIELDS * 8 > memory.byteLength) count--
    this.count = count
    const lockBytes = Math.ceil((count * 4) / 8) * 8
    this.#locks = new Int32Array(memory, 0, count)
    this.#fields = new Float64Array(memory, lockBytes, count * FIELDS)
  }

  #lock(i: number): void {
    while (Atomics.compareExchange(this.#locks, i, 0, 1) !== 0) {
      // Another thread is inside a few instructions' critical section: spin.
    }
  }

  #unlock(i: number): void {
    Atomics.store(this.#locks, i, 0)
  }

  /**
   * Sets bucket i's limits. A bucket configured for the first time starts full; a reload that
   * changes the limits keeps the tokens it has (capped at the new burst), as a stage update does.
   */
  configure(i: number, rate: number, burst: number, now: number = sharedNow()): void {
    const f = this.#fields
    const at = i * FIELDS
    this.#lock(i)
    const fresh = f[at + REFILLED_AT] === 0
    f[at + RATE] = rate
    f[at + BURST] = burst
    f[at + TOKENS] = fresh ? burst : Math.min(f[at + TOKENS]!, burst)
    if (fresh) f[at + REFILLED_AT] = now
    this.#unlock(i)
  }

  /** Refills bucket i to `now` and takes one token; false when it is empty (the request is throttled). */
  tryTake(i: number, now: number = sharedNow()): boolean {
    const f = this.#fields
    const at = i * FIELDS
    this.#lock(i)
    const burst = f[at + BURST]!
    const last = f[at + REFILLED_AT]!
    let tokens = f[at + TOKENS]!
    if (now > last) {
      tokens = Math.min(burst, tokens + ((now - last) * f[at + RATE]!) / 1000)
      f[at + REFILLED_AT] = now
    }
    const ok = tokens >= 1
    f[at + TOKENS] = ok ? tokens - 1 : tokens
    this.#unlock(i)
    return ok
  }

  /** Puts back a token taken by tryTake (a later bucket in the chain throttled the request). */
  giveBack(i: number): void {
    const f = this.#fields
    const at = i * FIELDS
    this.#lock(i)
    f[at + TOKENS] = Math.min(f[at + BURST]!, f[at + TOKENS]! + 1)
    this.#unlock(i)
  }

  /** Tokens in bucket i now (for tests and metrics). */
  tokens(i: number): number {
    this.#lock(i)
    const v = this.#fields[i * FIELDS + TOKENS]!
    this.#unlock(i)
    return v
  }
}
