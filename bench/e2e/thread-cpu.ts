// Per-thread CPU of a server process (THREAD_CPU=1, issue 11's scaling argument): each
// thread's schedstat (ns) before and after a round, divided by the requests answered, so a
// round prints how many µs of each request each thread spent. With the front per worker the
// main thread's share should be about 0 (it serves no request); with the main-thread front
// it is the front's copy, batch and write per request: the serial part that caps it.

import { readdirSync, readFileSync } from 'node:fs'

/** One thread's name (comm) and CPU ns so far. */
export interface ThreadTime {
  readonly comm: string
  readonly ns: number
}

/** tid → CPU ns so far, for every thread of `pid`; empty off Linux or once it is gone. */
export function threadTimes (pid: number): Map<number, ThreadTime> {
  const out = new Map<number, ThreadTime>()
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0])
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
      out.set(Number(tid), { comm, ns })
    } catch {} // the thread ended meanwhile
  }
  return out
}

/** µs per request of one thread in a round. */
export interface ThreadShare {
  readonly tid: number
  readonly comm: string
  /** Whether this is the process's main thread (tid = pid). */
  readonly main: boolean
  readonly usPerRequest: number
}

/**
 * Each thread's µs per request between two readings, busiest first (the main thread always
 * listed); threads under `minUs` are summed into one `rest` share.
 */
export function threadShares (pid: number, before: Map<number, ThreadTime>, after: Map<number, ThreadTime>, requests: number, minUs = 0.5): ThreadShare[] {
  const shares: ThreadShare[] = []
  let rest = 0
  for (const [tid, t] of after) {
    const us = (t.ns - (before.get(tid)?.ns ?? 0)) / 1000 / Math.max(1, requests)
    if (tid === pid || us >= minUs) shares.push({ tid, comm: t.comm, main: tid === pid, usPerRequest: us })
    else rest += us
  }
  shares.sort((a, b) => (a.main ? -1 : b.main ? 1 : b.usPerRequest - a.usPerRequest))
  if (rest > 0) shares.push({ tid: 0, comm: 'rest', main: false, usPerRequest: rest })
  return shares
}

/** `main 0.2 · 1234 node 18.4 · 1235 node 17.9 · rest 0.8` (µs per request). */
export function sharesText (shares: readonly ThreadShare[]): string {
  return shares.map((s) => s.main ? `main ${s.usPerRequest.toFixed(1)}` : s.tid === 0 ? `rest ${s.usPerRequest.toFixed(1)}` : `${s.tid} ${s.comm} ${s.usPerRequest.toFixed(1)}`).join(' · ')
}
