// Per-thread CPU of a server process (THREAD_CPU=1, issue 11's scaling argument): each
// thread's schedstat (ns) before and after a round, divided by the requests answered, so a
// round prints how many µs of each request each thread spent. With the front per worker the
// main thread's share should be about 0 (it serves no request); with the main-thread front
// it is the front's copy, batch and write per request: the serial part that caps it.

import { readdirSync, readFileSync } from 'node:fs'

/** One thread's name (comm), CPU ns and context switches so far. */
export interface ThreadTime {
  readonly comm: string
  readonly ns: number
  /** voluntary_ctxt_switches (the thread slept: a wait for work, a blocking call). */
  readonly voluntary: number
  /** nonvoluntary_ctxt_switches (the scheduler took the CPU from it). */
  readonly involuntary: number
}

/** A field `name:\tN` of /proc/…/status, or 0. */
function statusField (status: string, name: string): number {
  const at = status.indexOf(name + ':')
  return at < 0 ? 0 : Number.parseInt(status.slice(at + name.length + 1), 10)
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
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
      out.set(Number(tid), { comm, ns, voluntary: statusField(status, 'voluntary_ctxt_switches'), involuntary: statusField(status, 'nonvoluntary_ctxt_switches') })
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
  /** Context switches per 1000 requests: voluntary (it slept) and involuntary (preempted). */
  readonly voluntaryPerK: number
  readonly involuntaryPerK: number
}

/**
 * Each thread's µs per request between two readings, busiest first (the main thread always
 * listed); threads under `minUs` are summed into one `rest` share.
 */
export function threadShares (pid: number, before: Map<number, ThreadTime>, after: Map<number, ThreadTime>, requests: number, minUs = 0.5): ThreadShare[] {
  const shares: ThreadShare[] = []
  const n = Math.max(1, requests)
  let rest = 0
  let restVoluntary = 0
  let restInvoluntary = 0
  for (const [tid, t] of after) {
    const was = before.get(tid)
    const us = (t.ns - (was?.ns ?? 0)) / 1000 / n
    const voluntaryPerK = (t.voluntary - (was?.voluntary ?? 0)) * 1000 / n
    const involuntaryPerK = (t.involuntary - (was?.involuntary ?? 0)) * 1000 / n
    if (tid === pid || us >= minUs) shares.push({ tid, comm: t.comm, main: tid === pid, usPerRequest: us, voluntaryPerK, involuntaryPerK })
    else {
      rest += us
      restVoluntary += voluntaryPerK
      restInvoluntary += involuntaryPerK
    }
  }
  shares.sort((a, b) => (a.main ? -1 : b.main ? 1 : b.usPerRequest - a.usPerRequest))
  if (rest > 0 || restVoluntary > 0) shares.push({ tid: 0, comm: 'rest', main: false, usPerRequest: rest, voluntaryPerK: restVoluntary, involuntaryPerK: restInvoluntary })
  return shares
}

/**
 * `main 0.2 (cs 0.1+0.0) · 1234 node 18.4 (cs 3.1+0.4) · rest 0.8 (cs 0.2+0.0)`: µs per request,
 * then context switches per 1000 requests, voluntary + involuntary.
 */
export function sharesText (shares: readonly ThreadShare[]): string {
  return shares.map((s) => {
    const who = s.main ? 'main' : s.tid === 0 ? 'rest' : `${s.tid} ${s.comm}`
    return `${who} ${s.usPerRequest.toFixed(1)} (cs ${s.voluntaryPerK.toFixed(1)}+${s.involuntaryPerK.toFixed(1)})`
  }).join(' · ')
}
