// The guard's fixed-rate measurement: CPU per request of several servers, their loads
// interleaved in short slices (100 ms: scenario A, then B, then C, … again and again), so that
// every scenario of a ratio sees the same machine load, to within a fraction of a second. On a
// shared machine where other people's work comes and goes over seconds, a ratio of two runs
// measured a few seconds apart swings by 2–4×; sliced this way its rounds agree far better.
//
// One undici Pool per scenario sends `rate` requests per second in 10 ms ticks (open loop: the
// pace does not wait for answers); at the end of a slice the answers in flight are awaited, then
// the server's CPU (every thread, schedstat ns) is read.

import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import { cpuNanoseconds } from './child-process.js'

/** Length of one slice of one scenario's load. */
export const SLICE_MS = 100
/** Requests go out in bursts every TICK_MS. */
const TICK_MS = 10
/** Bound on one request: a stuck one is counted as an error and the slice moves on. */
const REQUEST_TIMEOUT_MS = 5_000

export interface PacedTarget {
  name: string
  /** Full URL of the scenario's route. */
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
  /** The server process whose CPU counts. */
  pid: number
}

export interface PacedFigures {
  /** Server CPU over this scenario's slices, ns. */
  cpuNs: number
  /** Responses received (any status). */
  answered: number
  /** Non-2xx responses and failed requests. */
  bad: number
}

export interface PacedOptions {
  /** Requests per second while a scenario's slice runs. */
  rate: number
  /** Connections per scenario. */
  connections: number
  /** Seconds of load per scenario in this round (so the round lasts about n × seconds). */
  seconds: number
}

export class PacedLoad {
  readonly #pools = new Map<string, Pool>()

  constructor (readonly targets: readonly PacedTarget[], readonly connections: number) {
    for (const t of targets) this.#pools.set(t.name, new Pool(new URL(t.url).origin, { connections }))
  }

  /** One round: every scenario gets `seconds` of load in SLICE_MS slices, round-robin. */
  async round (opts: PacedOptions): Promise<Map<string, PacedFigures>> {
    const out = new Map<string, PacedFigures>()
    for (const t of this.targets) out.set(t.name, { cpuNs: 0, answered: 0, bad: 0 })
    const slices = Math.max(1, Math.round(opts.seconds * 1000 / SLICE_MS))
    for (let i = 0; i < slices; i++) {
      // Reverse the order every other cycle: neither side of a ratio always follows the other.
      const order = i % 2 === 0 ? this.targets : [...this.targets].reverse()
      for (const t of order) await this.#slice(t, opts.rate, out.get(t.name)!)
    }
    return out
  }

  async #slice (target: PacedTarget, rate: number, acc: PacedFigures): Promise<void> {
    const pool = this.#pools.get(target.name)!
    const path = target.url.slice(new URL(target.url).origin.length) || '/'
    const perTick = rate * TICK_MS / 1000
    const inFlight: Array<Promise<void>> = []
    const send = (): void => {
      inFlight.push(pool.request({
        path,
        method: (target.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: target.headers,
        body: target.body ?? null,
        headersTimeout: REQUEST_TIMEOUT_MS,
        bodyTimeout: REQUEST_TIMEOUT_MS
      }).then(async (res) => {
        await res.body.dump()
        acc.answered++
        if (res.statusCode < 200 || res.statusCode > 299) acc.bad++
      }, () => { acc.bad++ }))
    }
    const before = cpuNanoseconds(target.pid)
    const started = performance.now()
    let sent = 0
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - started
        if (elapsed >= SLICE_MS) {
          clearInterval(timer)
          resolve()
          return
        }
        // As many as the pace owes by now (a late tick catches up).
        const due = Math.floor((elapsed + TICK_MS) / TICK_MS * perTick)
        while (sent < due) { send(); sent++ }
      }, TICK_MS)
      // The first burst at once.
      const first = Math.max(1, Math.floor(perTick))
      while (sent < first) { send(); sent++ }
    })
    await Promise.all(inFlight)
    const after = cpuNanoseconds(target.pid)
    if (before !== null && after !== null) acc.cpuNs += after - before
  }

  async close (): Promise<void> {
    await Promise.all([...this.#pools.values()].map((p) => p.destroy()))
  }
}
