// Metrics without a message per request: counters in a worker-owned SharedArrayBuffer,
// merged in the main thread with the workers' histograms into Prometheus' text format.
import t from 'tap'
import * as hdr from 'hdr-histogram-js'
import { Field, WorkerMetrics, mergeWorkers, readCounter, renderSeries } from '../../../src/observability/metrics.js'

const labels = { api: 'pets', stage: 'prod', resource: '/pets', method: 'GET' }

t.test('a slot per series, made once; counters are 64-bit across two 32-bit halves', async (t) => {
  const m = new WorkerMetrics()
  let made = 0
  m.onNewSeries = () => made++
  const slot = m.slotFor(labels)
  t.equal(m.slotFor({ ...labels }), slot)
  t.equal(made, 1)
  m.add(slot, Field.Count, 0xffffffff)
  m.add(slot, Field.Count, 2)
  t.equal(readCounter(m.counters, slot, Field.Count), 0x100000001)
  t.equal(readCounter(m.counters, slot, Field.Error4xx), 0)
})

t.test('two workers merge into one series; histograms become cumulative buckets', async (t) => {
  const a = new WorkerMetrics()
  const b = new WorkerMetrics()
  // Different slot orders in each worker: labels, not slot numbers, identify a series.
  a.slotFor({ ...labels, resource: '/other' })
  const sa = a.slotFor(labels)
  const sb = b.slotFor(labels)
  t.not(sa, sb)
  a.add(sa, Field.Count, 2)
  a.add(sa, Field.Error5xx)
  b.add(sb, Field.Count, 3)
  b.add(sb, Field.Error4xx)
  for (const ms of [1, 7]) a.recordLatency(sa, ms)
  for (const ms of [30, 2000, 40000]) b.recordLatency(sb, ms)
  b.recordIntegrationLatency(sb, 20)
  const view = (m: WorkerMetrics) => ({ counters: m.counters, labels: m.registration(1).labels, histograms: m.snapshotHistograms() })
  const { series, droppedLogLines } = mergeWorkers([view(a), view(b)])
  t.equal(droppedLogLines, 0)
  const s = series.find((x) => x.labels.resource === '/pets')!
  t.equal(s.counts[Field.Count], 5)
  t.equal(s.counts[Field.Error4xx], 1)
  t.equal(s.counts[Field.Error5xx], 1)
  const text = renderSeries(series)
  const l = 'ApiName="pets",Stage="prod",Resource="/pets",Method="GET"'
  t.match(text, `backplane_count_total{${l}} 5\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${l},le="1"} 1\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${l},le="5"} 1\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${l},le="10"} 2\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${l},le="50"} 3\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${l},le="2500"} 4\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${l},le="29000"} 4\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${l},le="+Inf"} 5\n`)
  t.match(text, `backplane_latency_milliseconds_count{${l}} 5\n`)
  t.match(text, `backplane_integration_latency_milliseconds_count{${l}} 1\n`)
  t.match(text, '# TYPE backplane_5xx_error_total counter\n')
})

t.test('label values are escaped as Prometheus requires', async (t) => {
  const m = new WorkerMetrics()
  const slot = m.slotFor({ api: 'say "hi"\\', stage: 's', resource: '', method: '' })
  m.add(slot, Field.Count)
  const text = renderSeries(mergeWorkers([{ counters: m.counters, labels: m.registration(1).labels, histograms: [] }]).series)
  t.match(text, 'backplane_count_total{ApiName="say \\"hi\\"\\\\",Stage="s",Resource="",Method=""} 1\n')
})

t.test('dropped log lines are counted in slot 0', async (t) => {
  const m = new WorkerMetrics()
  m.add(0, Field.DroppedLogLines, 7)
  t.equal(mergeWorkers([{ counters: m.counters, labels: m.registration(1).labels, histograms: [] }]).droppedLogLines, 7)
})

t.test('a request counts in one series; the stage-level series is the sum of its own and its methods\' on a scrape', async (t) => {
  const m = new WorkerMetrics()
  const stage = m.slotFor({ api: 'pets', stage: 'prod', resource: '', method: '' })
  const get = m.slotFor(labels)
  const other = m.slotFor({ api: 'pets', stage: 'beta', resource: '/pets', method: 'GET' })
  m.add(stage, Field.Count) // a method without metricsEnabled
  m.add(get, Field.Count, 2)
  m.add(get, Field.Error5xx)
  m.add(other, Field.Count, 5)
  m.recordLatency(stage, 3)
  m.recordLatency(get, 40)
  m.recordIntegrationLatency(get, 30)
  const { series } = mergeWorkers([{ counters: m.counters, labels: m.registration(1).labels, histograms: m.snapshotHistograms() }])
  const text = renderSeries(series)
  const prod = 'ApiName="pets",Stage="prod",Resource="",Method=""'
  t.match(text, `backplane_count_total{${prod}} 3\n`)
  t.match(text, `backplane_5xx_error_total{${prod}} 1\n`)
  t.match(text, `backplane_count_total{ApiName="pets",Stage="prod",Resource="/pets",Method="GET"} 2\n`)
  t.match(text, `backplane_latency_milliseconds_count{${prod}} 2\n`)
  t.match(text, `backplane_latency_milliseconds_bucket{${prod},le="5"} 1\n`)
  t.match(text, `backplane_integration_latency_milliseconds_count{${prod}} 1\n`)
  t.match(text, 'backplane_count_total{ApiName="pets",Stage="beta",Resource="",Method=""} 5\n', 'a stage with only method series gets its sum too')
})

// Latencies of 0–63 ms are counted per value and moved into the histogram on a scrape
// (metrics.ts PENDING_MS): what a scrape shows must be what recording every value shows.
t.test('a scrape shows the histogram that recording every value into it gives, scrape after scrape', async (t) => {
  const m = new WorkerMetrics()
  const slot = m.slotFor(labels)
  const expected = hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 2, autoResize: false })
  // Pending values (0, 1, 63 and between), the first ones past it (64, 65), fractions, negatives
  // and values past the maximum, which take recordValue's path.
  const values = [0, 1, 1, 2, 7, 7, 7, 63, 64, 65, 100, 1.5, 62.9, -3, 250, 4_000_000, 0, 63, 29_000]
  const scrapes: number[][] = []
  for (let round = 0; round < 3; round++) {
    for (const [i, ms] of values.entries()) {
      m.recordLatency(slot, ms + (round === 2 && i % 3 === 0 ? 5 : 0))
      expected.recordValue(Math.min(3_600_000, Math.max(0, ms + (round === 2 && i % 3 === 0 ? 5 : 0))))
    }
    const snap = m.snapshotHistograms().find(([s]) => s === slot)!
    const pairs: number[] = []
    const it = (expected as hdr.JsHistogram).recordedValuesIterator
    it.reset()
    while (it.hasNext()) {
      const v = it.next()
      pairs.push(v.valueIteratedTo, v.countAtValueIteratedTo)
    }
    t.strictSame(snap[1], pairs, `scrape ${round + 1}: cumulative, nothing counted twice or lost`)
    scrapes.push(snap[1])
  }
  t.equal(scrapes[2]!.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0), values.length * 3, 'every value counted once')
  t.strictSame(m.snapshotHistograms().find(([s]) => s === slot)![1], scrapes[2], 'a scrape with nothing new shows the same histogram')
})

t.test('a slot with only pending values is listed by a scrape, its integration latency apart', async (t) => {
  const m = new WorkerMetrics()
  const slot = m.slotFor(labels)
  m.recordIntegrationLatency(slot, 4)
  m.recordIntegrationLatency(slot, 4)
  const snap = m.snapshotHistograms()
  t.strictSame(snap, [[slot, [], [4, 2]]])
})

t.test('a pending count about to wrap is moved into the histogram first: nothing lost', async (t) => {
  const m = new WorkerMetrics()
  const slot = m.slotFor(labels)
  m.recordLatency(slot, 5)
  m.recordLatency(slot, 9)
  const { pending, histogram } = m.latencyStateForTest(slot)
  t.ok(pending !== null && histogram !== null)
  const h = histogram as hdr.JsHistogram
  const countAt = (ms: number): number => h.getCountAtIndex(h.countsArrayIndex(ms))
  pending![5] = 0xffffffff - 1 // as after 4 294 967 294 requests of 5 ms without a scrape
  m.recordLatency(slot, 5)
  t.equal(pending![5], 0xffffffff, 'the count reaches its maximum')
  t.equal(countAt(5), 0, 'still pending')
  m.recordLatency(slot, 5)
  t.equal(countAt(5), 0xffffffff, 'the full count went to the histogram')
  t.equal(countAt(9), 1, 'with the other pending values of the slot')
  t.equal(pending![5], 1, 'and the pending count restarted with this request, not wrapped to 0')
  t.equal(pending![9], 0)
})
