// Throttling is exact with any number of workers: the buckets live in one SharedArrayBuffer
// that every worker takes from (DESIGN.md: "N workers never mean N times the limit"). Four
// workers under 10 s of overload hold a 100 req/s, burst 10 method limit to within 1 %: the
// bucket starts full, so 10 + 100 × 10 = 1010 requests are let through (token bucket, "Throttle
// requests to your REST APIs"), and every other request is 429.
import t from 'tap'
import autocannon from 'autocannon'
import { startGateway, request } from '../helpers/index.js'
import { writeLimitedMethodConfig } from '../helpers/throttling.js'

const RATE = 100
const BURST = 10
const DURATION_S = 10

t.test('4 workers, 10 s of overload, a 100 req/s burst 10 limit: 1010 let through, within 1 %', async (t) => {
  const config = writeLimitedMethodConfig(t, { id: 'exact', workers: 4, rate: RATE, burst: BURST })
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  // Four workers compile before they answer: on a loaded 2-core machine that takes seconds.
  t.equal((await request(`${gw.url}/prod/nothing`, { timeoutMs: 60_000 })).status, 403)

  // A run lets through more than the limit only if the buckets are wrong; it lets through fewer
  // when every thread of the gateway (or the load generator) stalls longer than a refill of
  // the burst (100 ms) on a loaded machine, so a later run (three at most) may confirm the lower bound.
  const expected = BURST + RATE * DURATION_S
  let lowest = Infinity
  for (let run = 1; run <= 3; run++) {
    // The bucket is full again after burst / rate = 100 ms without requests.
    await new Promise((r) => setTimeout(r, 200))
    const started = performance.now()
    const result = await autocannon({ url: `${gw.url}/prod/limited`, connections: 32, duration: DURATION_S, timeout: 10 })
    const seconds = (performance.now() - started) / 1000
    const ok = result['2xx']
    const throttled = result.non2xx
    t.equal(result.errors, 0, `run ${run}: no connection errors`)
    t.equal(result.timeouts, 0, `run ${run}: no timeouts`)
    t.ok(ok + throttled > 10 * expected, `run ${run}: overload, ${ok + throttled} requests in ${seconds.toFixed(2)} s`)
    t.ok(ok <= expected * 1.01, `run ${run}: ${ok} let through, at most ${expected} + 1 %`)
    // Every answer that is not a 200 is the THROTTLED response.
    t.equal(result.statusCodeStats['429']?.count ?? 0, throttled, `run ${run}: all the others are 429`)
    lowest = Math.min(lowest, Math.abs(ok - expected))
    if (ok >= expected * 0.99) break
    t.comment(`run ${run}: ${ok} let through, under ${expected} - 1 %: the machine stalled; running again`)
  }
  t.ok(lowest <= expected * 0.01, `within 1 % of ${expected} (off by ${lowest})`)
})
