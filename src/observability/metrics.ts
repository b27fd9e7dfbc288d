// API Gateway's CloudWatch metrics (Count, 4XXError, 5XXError, Latency,
// IntegrationLatency, CacheHitCount, CacheMissCount, by ApiName, Stage, Resource, Method),
// kept without a message per request:
//   - counters live in a SharedArrayBuffer each worker owns and writes alone (Atomics.add
//     on 32-bit halves); the main thread reads them whenever /metrics is scraped;
//   - latencies go into hdr-histogram-js histograms in the worker, snapshotted to the
//     main thread only on a scrape, and merged there.
// A series is one (ApiName, Stage, Resource, Method); it gets its slot at compile time, and
// the worker tells the main thread a slot's labels once, when the slot is made.
import * as hdr from 'hdr-histogram-js'

/** Counter fields of a series. */
export const enum Field {
  Count,
  Error4xx,
  Error5xx,
  CacheHit,
  CacheMiss,
  Throttled,
  QuotaExceeded,
  /** Slot 0 only: access and execution log lines dropped by a slow destination. */
  DroppedLogLines,
}
const FIELDS = 8
/** Series one worker can hold; more share the overflow slot (labels ApiName="_overflow"). */
export const MAX_SERIES = 2048
/** Slot 0: gateway-wide counters; slot 1: overflow. */
const FIRST_SLOT = 2
/** Latencies above this (ms) are recorded as this: the integration timeout's maximum is 29 s. */
const MAX_LATENCY_MS = 3_600_000
/**
 * Latencies under this (ms), nearly all of them, are counted per value in a small array and
 * added to the histogram on a scrape (recordValueWithCount): a request costs one increment
 * instead of hdr-histogram-js's recordValue (its bucket index takes a Math.pow and a few
 * calls: ≈ 0.2 µs measured under perf). The histogram ends up the same.
 */
const PENDING_MS = 64

/** The dimensions of one series. '' for Resource and Method at the stage level. */
export interface SeriesLabels {
  readonly api: string
  readonly stage: string
  readonly resource: string
  readonly method: string
}

/** What a worker tells the main thread: its counters and the labels of its slots. */
export interface MetricsRegistration {
  readonly threadId: number
  readonly counters: SharedArrayBuffer
  /** Slot → labels, for every slot made so far (index 0 and 1 are the reserved ones). */
  readonly labels: readonly SeriesLabels[]
}

/** Latency histograms of one worker on a scrape: [slot, [value, count, …], [value, count, …]]. */
export type HistogramSnapshot = [number, number[], number[]][]

function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: MAX_LATENCY_MS, numberOfSignificantValueDigits: 2, autoResize: false })
}

/** This thread's metrics: the worker side (every thread has one; only workers' are read). */
export class WorkerMetrics {
  #buffer: SharedArrayBuffer | null = null
  #counters: Int32Array | null = null
  readonly #slots = new Map<string, number>()
  readonly #labels: SeriesLabels[] = [{ api: '', stage: '', resource: '', method: '' }, { api: '_overflow', stage: '', resource: '', method: '' }]
  readonly #latency: (hdr.Histogram | null)[] = []
  readonly #integrationLatency: (hdr.Histogram | null)[] = []
  /** Per slot: counts of latencies 0 … PENDING_MS-1 ms not yet in its histogram. */
  readonly #pendingLatency: (Uint32Array | null)[] = []
  readonly #pendingIntegrationLatency: (Uint32Array | null)[] = []
  /** Called when a slot is made (compile time): the worker sends its registration. */
  onNewSeries: (() => void) | null = null

  get counters(): Int32Array {
    if (this.#counters === null) {
      this.#buffer = new SharedArrayBuffer(MAX_SERIES * FIELDS * 8)
      this.#counters = new Int32Array(this.#buffer)
    }
    return this.#counters
  }

  registration(threadId: number): MetricsRegistration {
    void this.counters
    return { threadId, counters: this.#buffer!, labels: this.#labels.slice() }
  }

  /** The slot of a series, made on first use. Compile time only. */
  slotFor(labels: SeriesLabels): number {
    const key = `${labels.api}\u0000${labels.stage}\u0000${labels.resource}\u0000${labels.method}`
    let slot = this.#slots.get(key)
    if (slot !== undefined) return slot
    if (this.#labels.length >= MAX_SERIES) return 1
    slot = Math.max(FIRST_SLOT, this.#labels.length)
    this.#slots.set(key, slot)
    this.#labels[slot] = Object.freeze({ ...labels })
    this.onNewSeries?.()
    return slot
  }

  /** Adds n to a counter: a 64-bit count in two 32-bit halves, carried when the low half wraps. */
  add(slot: number, field: Field, n = 1): void {
    const c = this.counters
    const i = (slot * FIELDS + field) * 2
    const before = Atomics.add(c, i, n) >>> 0
    if (before + n > 0xffffffff) Atomics.add(c, i + 1, 1)
  }

  recordLatency(slot: number, ms: number): void {
    record(this.#latency, this.#pendingLatency, slot, ms)
  }

  recordIntegrationLatency(slot: number, ms: number): void {
    record(this.#integrationLatency, this.#pendingIntegrationLatency, slot, ms)
  }

  /** Tests only: a slot's Latency histogram and its counts not yet moved into it (null until it has a value). */
  latencyStateForTest(slot: number): { histogram: hdr.Histogram | null, pending: Uint32Array | null } {
    return { histogram: this.#latency[slot] ?? null, pending: this.#pendingLatency[slot] ?? null }
  }

  /** Every histogram as [value, count] pairs: cumulative since start, so a lost scrape loses nothing. */
  snapshotHistograms(): HistogramSnapshot {
    settle(this.#latency, this.#pendingLatency)
    settle(this.#integrationLatency, this.#pendingIntegrationLatency)
    const out: HistogramSnapshot = []
    const n = Math.max(this.#latency.length, this.#integrationLatency.length)
    for (let slot = 0; slot < n; slot++) {
      const a = this.#latency[slot]
      const b = this.#integrationLatency[slot]
      if ((a === undefined || a === null) && (b === undefined || b === null)) continue
      out.push([slot, valuePairs(a ?? null), valuePairs(b ?? null)])
    }
    return out
  }
}

function record(histograms: (hdr.Histogram | null)[], pending: (Uint32Array | null)[], slot: number, ms: number): void {
  if (ms >= 0 && ms < PENDING_MS && (ms | 0) === ms) {
    let counts = pending[slot]
    if (counts === undefined || counts === null) {
      counts = pending[slot] = new Uint32Array(PENDING_MS)
      // The slot has a histogram as soon as it has a value: snapshotHistograms() lists it.
      if (histograms[slot] === undefined || histograms[slot] === null) histograms[slot] = newHistogram()
    }
    // A count about to wrap goes to the histogram first (a slot never scraped for 49 days at 1 k req/s).
    if (counts[ms] === 0xffffffff) settle(histograms, pending)
    counts[ms] = counts[ms]! + 1
    return
  }
  let h = histograms[slot]
  if (h === undefined || h === null) h = histograms[slot] = newHistogram()
  h.recordValue(ms < 0 ? 0 : ms > MAX_LATENCY_MS ? MAX_LATENCY_MS : ms)
}

/** Moves the pending counts into their histograms. */
function settle(histograms: (hdr.Histogram | null)[], pending: (Uint32Array | null)[]): void {
  for (let slot = 0; slot < pending.length; slot++) {
    const counts = pending[slot]
    if (counts === undefined || counts === null) continue
    const h = histograms[slot] ?? (histograms[slot] = newHistogram())
    for (let ms = 0; ms < PENDING_MS; ms++) {
      const n = counts[ms]!
      if (n !== 0) {
        h.recordValueWithCount(ms, n)
        counts[ms] = 0
      }
    }
  }
}

function valuePairs(h: hdr.Histogram | null): number[] {
  const out: number[] = []
  if (h === null || h.totalCount === 0) return out
  const it = (h as hdr.JsHistogram).recordedValuesIterator
  it.reset()
  while (it.hasNext()) {
    const v = it.next()
    out.push(v.valueIteratedTo, v.countAtValueIteratedTo)
  }
  return out
}

/** This thread's metrics. */
export const metrics = new WorkerMetrics()

/** Reads one 64-bit counter of a worker's buffer (high half read twice: no torn value). */
export function readCounter(c: Int32Array, slot: number, field: Field): number {
  const i = (slot * FIELDS + field) * 2
  for (;;) {
    const hi = Atomics.load(c, i + 1)
    const lo = Atomics.load(c, i) >>> 0
    if (Atomics.load(c, i + 1) === hi) return hi * 0x100000000 + lo
  }
}

// ---- main thread: merge the workers' series and render Prometheus' text format ----

/** Upper bounds (ms) of the exported latency buckets; API Gateway's integration timeout tops out at 29 s. */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 29000] as const

/** One merged series, ready to print. */
export interface MergedSeries {
  readonly labels: SeriesLabels
  readonly counts: number[]
  readonly latency: hdr.Histogram
  readonly integrationLatency: hdr.Histogram
}

/** The state of one worker as last seen: its counters (live) and its last histogram snapshot. */
export interface WorkerView {
  readonly counters: Int32Array
  labels: readonly SeriesLabels[]
  histograms: HistogramSnapshot
}

/**
 * Sums the workers' counters and histograms per series (labels compared as text). A worker
 * counts a request once, in its method's series (detailed metrics) or else in its stage's:
 * the stage-level series (Resource and Method '') is its own counts plus those of every
 * method series of the same ApiName and Stage, added here, at scrape time.
 */
export function mergeWorkers(views: Iterable<WorkerView>): { series: MergedSeries[]; droppedLogLines: number } {
  const byKey = new Map<string, MergedSeries>()
  let droppedLogLines = 0
  const get = (labels: SeriesLabels): MergedSeries => {
    const key = `${labels.api}\u0000${labels.stage}\u0000${labels.resource}\u0000${labels.method}`
    let s = byKey.get(key)
    if (s === undefined) {
      s = { labels, counts: new Array<number>(FIELDS).fill(0), latency: newHistogram(), integrationLatency: newHistogram() }
      byKey.set(key, s)
    }
    return s
  }
  // The series a slot's counts go to: its own, and for a method series its stage's too.
  const targets = (labels: SeriesLabels, slot: number): MergedSeries[] => {
    const own = get(labels)
    if (slot === 1 || (labels.resource === '' && labels.method === '')) return [own]
    return [own, get({ api: labels.api, stage: labels.stage, resource: '', method: '' })]
  }
  for (const w of views) {
    droppedLogLines += readCounter(w.counters, 0, Field.DroppedLogLines)
    for (let slot = 1; slot < w.labels.length; slot++) {
      const labels = w.labels[slot]
      if (labels === undefined) continue
      let any = false
      const values: number[] = []
      for (let f = 0; f < Field.DroppedLogLines; f++) {
        const v = readCounter(w.counters, slot, f)
        values.push(v)
        if (v !== 0) any = true
      }
      if (!any && slot === 1) continue
      for (const s of targets(labels, slot)) for (let f = 0; f < values.length; f++) s.counts[f]! += values[f]!
    }
    for (const [slot, lat, ilat] of w.histograms) {
      const labels = w.labels[slot]
      if (labels === undefined) continue
      for (const s of targets(labels, slot)) {
        for (let i = 0; i < lat.length; i += 2) s.latency.recordValueWithCount(lat[i]!, lat[i + 1]!)
        for (let i = 0; i < ilat.length; i += 2) s.integrationLatency.recordValueWithCount(ilat[i]!, ilat[i + 1]!)
      }
    }
  }
  return { series: [...byKey.values()], droppedLogLines }
}

/** Prometheus label value escaping (backslash, quote, newline). */
function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function labelText(l: SeriesLabels): string {
  return `ApiName="${esc(l.api)}",Stage="${esc(l.stage)}",Resource="${esc(l.resource)}",Method="${esc(l.method)}"`
}

/** Counter metrics: Prometheus name, help, field. */
const COUNTERS: readonly [string, string, Field][] = [
  ['backplane_count_total', 'Count: API requests (API Gateway metric Count)', Field.Count],
  ['backplane_4xx_error_total', 'Client-side errors (API Gateway metric 4XXError)', Field.Error4xx],
  ['backplane_5xx_error_total', 'Server-side errors (API Gateway metric 5XXError)', Field.Error5xx],
  ['backplane_cache_hit_count_total', 'Requests served from the API cache (API Gateway metric CacheHitCount)', Field.CacheHit],
  ['backplane_cache_miss_count_total', 'Requests served from the backend while the API cache is on (API Gateway metric CacheMissCount)', Field.CacheMiss],
  ['backplane_throttled_total', 'Requests answered 429 by throttling', Field.Throttled],
  ['backplane_quota_exceeded_total', 'Requests answered 429 because a usage plan quota was exceeded', Field.QuotaExceeded],
]

/** The series part of /metrics. */
export function renderSeries(series: readonly MergedSeries[]): string {
  let out = ''
  for (const [name, help, field] of COUNTERS) {
    out += `# HELP ${name} ${help}\n# TYPE ${name} counter\n`
    for (const s of series) out += `${name}{${labelText(s.labels)}} ${s.counts[field]}\n`
  }
  out += renderHistogram('backplane_latency_milliseconds', 'Time from receiving a request to returning its response (API Gateway metric Latency)', series, (s) => s.latency)
  out += renderHistogram('backplane_integration_latency_milliseconds', 'Time from relaying a request to the backend to receiving its response (API Gateway metric IntegrationLatency)', series, (s) => s.integrationLatency)
  return out
}

function renderHistogram(name: string, help: string, series: readonly MergedSeries[], pick: (s: MergedSeries) => hdr.Histogram): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} histogram\n`
  for (const s of series) {
    const h = pick(s)
    const labels = labelText(s.labels)
    const pairs = valuePairs(h)
    let sum = 0
    for (let i = 0; i < pairs.length; i += 2) sum += pairs[i]! * pairs[i + 1]!
    let cumulative = 0
    let p = 0
    for (const le of LATENCY_BUCKETS_MS) {
      // A recorded value stands for its hdr bucket (exact below 256 ms, within 1 % above).
      while (p < pairs.length && (h as hdr.JsHistogram).lowestEquivalentValue(pairs[p]!) <= le) {
        cumulative += pairs[p + 1]!
        p += 2
      }
      out += `${name}_bucket{${labels},le="${le}"} ${cumulative}\n`
    }
    out += `${name}_bucket{${labels},le="+Inf"} ${h.totalCount}\n${name}_sum{${labels}} ${sum}\n${name}_count{${labels}} ${h.totalCount}\n`
  }
  return out
}
