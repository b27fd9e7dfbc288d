// One load run against a server in another process: wrk (a child process, when installed)
// or autocannon (in this process), as chooseGenerator() picks. autocannon's latencies are
// recorded into an hdr-histogram-js histogram in microseconds (its own histogram has 1 ms
// resolution, too coarse for sub-millisecond p50s); wrk reports its own, in µs too.

import autocannon from 'autocannon'
import * as hdr from 'hdr-histogram-js'
import { runWrk, wrkAvailable } from './wrk.js'

/** Every latency figure in reports, JSON and comparisons: this one list. */
export const PERCENTILES = [50, 90, 99, 99.9] as const
export type Percentile = typeof PERCENTILES[number]

/** Highest latency the histogram tracks: a request slower than 60 s is a hang, not a figure. */
const HIGHEST_TRACKABLE_US = 60_000_000
/** autocannon's per-request timeout (s): a stuck request becomes an error, never a stuck bench. */
const REQUEST_TIMEOUT_S = 10

export interface LoadOptions {
  url: string
  method?: string
  headers?: Record<string, string>
  body?: string
  connections: number
  pipelining: number
  /** Fixed total req/s, or null. */
  rate: number | null
  /** Seconds. */
  duration: number
}

/** Which program generates the load. */
export type Generator = 'wrk' | 'autocannon'

/**
 * wrk when asked for or by default when installed, except where it cannot do the job: a
 * fixed RATE (wrk has no such mode) or pipelining (wrk needs a script per depth). An explicit
 * LOADGEN=wrk that cannot be honoured is an error, not a silent fallback.
 */
export function chooseGenerator (wanted: Generator | null, opts: Pick<LoadOptions, 'rate' | 'pipelining'>, haveWrk = wrkAvailable()): Generator {
  const wrkFits = opts.rate === null && opts.pipelining === 1
  if (wanted === 'autocannon') return 'autocannon'
  if (wanted === 'wrk') {
    if (!haveWrk) throw new Error('LOADGEN=wrk: wrk is not installed (apt-get install wrk)')
    if (!wrkFits) throw new Error('LOADGEN=wrk: wrk has no fixed-rate (RATE) or pipelining mode; use autocannon')
    return 'wrk'
  }
  return haveWrk && wrkFits ? 'wrk' : 'autocannon'
}

export interface LoadResult {
  /** The program that measured this round. */
  generator: Generator
  /** 2xx responses per second over the run. */
  rps: number
  /** Responses with a 2xx status. */
  ok: number
  /** Responses with any other status. */
  non2xx: number
  /** Connection errors and timeouts (timeouts are counted in both). */
  errors: number
  timeouts: number
  /** Wall-clock seconds from the first request to the last response. */
  seconds: number
  /** Latency in milliseconds by percentile key (`p50`, `p99.9`, …), over every response. */
  latencyMs: Record<string, number>
  meanMs: number
  maxMs: number
  /** Response bytes per second (headers and body). */
  bytesPerSec: number
  /** CPU used by this process (the load generator) in % of one core: near 100 means the
   *  figure measures autocannon, not the server. */
  loadgenCpu: number
  /** CPU used by each server process during the round, in % of one core (filled by the runner). */
  serverCpu: Record<string, number | null>
  /** Whole machine busy during the round, % of all CPUs (filled by the runner): well under
   *  100 while nothing saturates means the host, not this VM, is the limit. */
  machineBusy: number | null
}

export function percentileKey (p: number): string {
  return `p${p}`
}

/** One round with the given generator (wrk runs with `wrkThreads` threads). */
export function runLoad (opts: LoadOptions, generator: Generator = 'autocannon', wrkThreads = 1): Promise<LoadResult> {
  return generator === 'wrk' ? runWrk(opts, wrkThreads) : runAutocannon(opts)
}

function runAutocannon (opts: LoadOptions): Promise<LoadResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3
  })
  let ok = 0
  let non2xx = 0
  let bytes = 0
  let startedAt = 0
  let cpuAtStart = process.cpuUsage()

  return new Promise<LoadResult>((resolve, reject) => {
    const instance = autocannon({
      url: opts.url,
      method: opts.method ?? 'GET',
      ...(opts.headers !== undefined ? { headers: opts.headers } : {}),
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      connections: opts.connections,
      pipelining: opts.pipelining,
      ...(opts.rate !== null ? { overallRate: opts.rate } : {}),
      duration: opts.duration,
      timeout: REQUEST_TIMEOUT_S
    }, (err, result) => {
      const seconds = (performance.now() - startedAt) / 1000
      const cpu = process.cpuUsage(cpuAtStart)
      if (err !== null) {
        histogram.destroy()
        reject(err)
        return
      }
      const latencyMs: Record<string, number> = {}
      for (const p of PERCENTILES) latencyMs[percentileKey(p)] = histogram.getValueAtPercentile(p) / 1000
      const out: LoadResult = {
        generator: 'autocannon',
        rps: ok / seconds,
        ok,
        non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        seconds,
        latencyMs,
        meanMs: histogram.mean / 1000,
        maxMs: histogram.maxValue / 1000,
        bytesPerSec: bytes / seconds,
        loadgenCpu: (cpu.user + cpu.system) / 1e6 / seconds * 100,
        serverCpu: {},
        machineBusy: null
      }
      histogram.destroy()
      resolve(out)
    })
    startedAt = performance.now()
    cpuAtStart = process.cpuUsage()
    instance.on('response', (_client, statusCode, resBytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) ok++
      else non2xx++
      bytes += resBytes
      histogram.recordValue(Math.max(1, Math.round(responseTimeMs * 1000)))
    })
  })
}
