// Quota counters shared by every worker thread: one SharedArrayBuffer the main thread makes
// and hands to each worker (WorkerInit.quota), so N workers never mean N times the quota and
// no message crosses threads per request. One slot per (usage plan, API key):
//
//   BigInt64 fingerprint[i]  FNV-1a 64 of "plan\nkey", claimed by compareExchange 0 → fp; the
//                            same pair finds the same slot in every thread and after a reload
//   Int32 lock[i]            compareExchange 0 → 1, spin (the section is a few loads and stores)
//   Float64 fields[i]        read and written under lock[i] (Atomics order them)
//     DAY, UNSYNCED          requests counted on day DAY not yet taken by the flusher
//     PREV_DAY, PREV_UNSYNCED  the same for the day before, once the day rolled over
//     PERIOD_START, PERIOD_END  the quota period USED counts in, day numbers [start, end)
//     USED                   requests used in that period (local: exact; Redis: the shared total)
//     SINCE                  the day the plan's quota first ran (its initial period takes `offset` off)
//
// A header Float64 holds the test clock (quota-clock.ts): 0 means the real clock.
import { effectiveLimit, periodOf, type QuotaPeriod } from './quota.js'

/** Slots in one gateway process: (plan, key) pairs with a quota, over every configuration it loads. */
export const QUOTA_SLOTS = 4096
const FIELDS = 8
const DAY = 0
const UNSYNCED = 1
const PREV_DAY = 2
const PREV_UNSYNCED = 3
const PERIOD_START = 4
const PERIOD_END = 5
const USED = 6
const SINCE = 7
const HEADER_BYTES = 16

/** The memory of a table; made once by the main thread. */
export function createQuotaMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + QUOTA_SLOTS * (8 + 4 + FIELDS * 8))
}

/** FNV-1a 64 of "plan\nkey": never 0 (0 marks a free slot). Compile time only. */
export function quotaFingerprint(planId: string, keyId: string): bigint {
  let h = 0xcbf29ce484222325n
  const text = `${planId}\n${keyId}`
  for (let i = 0; i < text.length; i++) h = BigInt.asIntN(64, (h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n)
  return h === 0n ? 1n : h
}

/** What the flusher takes out of one slot: up to two (day, count) pairs. */
export interface DrainedUsage {
  day: number
  count: number
  prevDay: number
  prevCount: number
}

export class QuotaTable {
  /** [0]: the test clock in epoch ms, or 0. */
  readonly header: Float64Array
  readonly #fps: BigInt64Array
  readonly #locks: Int32Array
  readonly #f: Float64Array

  constructor(memory: SharedArrayBuffer) {
    this.header = new Float64Array(memory, 0, 2)
    this.#fps = new BigInt64Array(memory, HEADER_BYTES, QUOTA_SLOTS)
    this.#locks = new Int32Array(memory, HEADER_BYTES + QUOTA_SLOTS * 8, QUOTA_SLOTS)
    this.#f = new Float64Array(memory, HEADER_BYTES + QUOTA_SLOTS * 12, QUOTA_SLOTS * FIELDS)
  }

  /** The slot of (plan, key), claimed if new; -1 when the table is full. Compile time only. */
  claim(planId: string, keyId: string): number {
    const fp = quotaFingerprint(planId, keyId)
    const start = Number(BigInt.asUintN(32, fp) % BigInt(QUOTA_SLOTS))
    for (let n = 0; n < QUOTA_SLOTS; n++) {
      const i = (start + n) % QUOTA_SLOTS
      const old = Atomics.compareExchange(this.#fps, i, 0n, fp)
      if (old === 0n || old === fp) return i
    }
    return -1
  }

  #lock(i: number): void {
    while (Atomics.compareExchange(this.#locks, i, 0, 1) !== 0) {
      // Another thread is inside a few instructions' critical section: spin.
    }
  }

  #unlock(i: number): void {
    Atomics.store(this.#locks, i, 0)
  }

  /** The main thread sets a slot up before any worker uses it: `used` requests so far in the period holding `day`. */
  init(i: number, day: number, period: QuotaPeriod, used: number, sinceDay: number): void {
    const { start, end } = periodOf(period, day)
    const f = this.#f
    const at = i * FIELDS
    this.#lock(i)
    f[at + DAY] = day
    f[at + UNSYNCED] = 0
    f[at + PREV_DAY] = day - 1
    f[at + PREV_UNSYNCED] = 0
    f[at + PERIOD_START] = start
    f[at + PERIOD_END] = end
    f[at + USED] = used
    f[at + SINCE] = sinceDay
    this.#unlock(i)
  }

  /** The hot path: counts one request of `day` if the quota allows it; false when it is used up (not counted). */
  take(i: number, day: number, period: QuotaPeriod, limit: number, offset: number): boolean {
    const f = this.#f
    const at = i * FIELDS
    this.#lock(i)
    if (f[at + DAY] !== day) {
      // Day rollover: the day's count waits for the flusher as PREV (two days pending only if
      // the flusher missed a whole day: the older one is then booked on the later day).
      f[at + PREV_UNSYNCED] = f[at + PREV_UNSYNCED]! + f[at + UNSYNCED]!
      f[at + PREV_DAY] = f[at + DAY]!
      f[at + DAY] = day
      f[at + UNSYNCED] = 0
    }
    if (day < f[at + PERIOD_START]! || day >= f[at + PERIOD_END]!) {
      const p = periodOf(period, day)
      f[at + PERIOD_START] = p.start
      f[at + PERIOD_END] = p.end
      f[at + USED] = 0
    }
    const ok = f[at + USED]! < effectiveLimit(limit, offset, f[at + PERIOD_START]!, f[at + PERIOD_END]!, f[at + SINCE]!)
    if (ok) {
      f[at + USED] = f[at + USED]! + 1
      f[at + UNSYNCED] = f[at + UNSYNCED]! + 1
    }
    this.#unlock(i)
    return ok
  }

  /** The flusher takes what was counted since it last did (the counts are zeroed). */
  drain(i: number, out: DrainedUsage): DrainedUsage {
    const f = this.#f
    const at = i * FIELDS
    this.#lock(i)
    out.day = f[at + DAY]!
    out.count = f[at + UNSYNCED]!
    out.prevDay = f[at + PREV_DAY]!
    out.prevCount = f[at + PREV_UNSYNCED]!
    f[at + UNSYNCED] = 0
    f[at + PREV_UNSYNCED] = 0
    this.#unlock(i)
    return out
  }

  /** Puts back counts the flusher could not store (they go out with its next flush). */
  undrain(i: number, day: number, count: number): void {
    const f = this.#f
    const at = i * FIELDS
    this.#lock(i)
    if (f[at + DAY] === day) f[at + UNSYNCED] = f[at + UNSYNCED]! + count
    else f[at + PREV_UNSYNCED] = f[at + PREV_UNSYNCED]! + count
    this.#unlock(i)
  }

  /**
   * Redis: `total` is the shared count of the period starting at `periodStart`, including all
   * this process flushed. USED becomes it plus what was counted here since the drain.
   */
  syncUsed(i: number, periodStart: number, total: number): void {
    const f = this.#f
    const at = i * FIELDS
    this.#lock(i)
    if (f[at + PERIOD_START] === periodStart) {
      let local = f[at + UNSYNCED]!
      if (f[at + PREV_DAY]! >= periodStart) local += f[at + PREV_UNSYNCED]!
      f[at + USED] = total + local
    }
    this.#unlock(i)
  }

  /** The day the plan's quota first ran (Redis tells it after start-up). */
  setSince(i: number, sinceDay: number): void {
    this.#lock(i)
    this.#f[i * FIELDS + SINCE] = sinceDay
    this.#unlock(i)
  }

  /** Requests used in the slot's current period and that period's start (tests, logs). */
  used(i: number): { used: number; periodStart: number } {
    this.#lock(i)
    const r = { used: this.#f[i * FIELDS + USED]!, periodStart: this.#f[i * FIELDS + PERIOD_START]! }
    this.#unlock(i)
    return r
  }
}
