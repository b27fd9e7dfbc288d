// Backend faults through an HTTP_PROXY integration: each gets its answer in bounded time,
// the gateway's memory stays bounded, and the gateway goes on serving.
//
// Facts pinned (API Gateway developer guide and AWS's recorded messages):
// - a response larger than 10 MB fails as a configuration error: "Execution failed due to
//   configuration error: Integration response of reported length 10548739 is larger than
//   allowed maximum of 10485760 bytes" (AWS re:Post, REST API payload quota), and a
//   configuration error is 500 {"message": "Internal server error"};
// - "Payload size: 10 MB" (Quotas for configuring and running a REST API): 10485760
//   bytes still pass;
// - past timeoutInMillis: 504 {"message": "Endpoint request timed out"}.
import t from 'tap'
import { startGateway, writeApi, request } from '../helpers/index.js'
import { proxyApi, startFaultProxy } from '../helpers/fault-backend.js'
import { watchRss, MB } from '../helpers/raw-http.js'

const INTERNAL = '{"message": "Internal server error"}'
const MAX = 10 * 1024 * 1024

t.test('backend faults', async (t) => {
  const { backend, gw } = await startFaultProxy(t, { timeoutMs: 2_000 })
  // Warm the worker, then take the baseline.
  t.equal((await request(`${gw.url}/test/ok`)).status, 200)
  const rss = watchRss(gw.pid)
  t.teardown(() => rss.stop())
  const baseline = rss.peak()

  t.test('a refused connection: 500 Internal server error', async (t) => {
    const closed = await startGateway({ args: [writeApi(t, proxyApi(2_000)), '--stage-var', 'backend=http://127.0.0.1:1', '--workers', '1'] })
    t.teardown(() => closed.stop())
    const res = await request(`${closed.url}/test/ok`)
    t.equal(res.status, 500)
    t.equal(res.text, INTERNAL)
  })

  t.test('a reset connection: 502', async (t) => {
    const res = await request(`${gw.url}/test/reset`)
    t.equal(res.status, 502)
    t.equal(res.text, INTERNAL)
  })

  t.test('an answer that is not HTTP: 502', async (t) => {
    const res = await request(`${gw.url}/test/garbage`)
    t.equal(res.status, 502)
    t.equal(res.text, INTERNAL)
  })

  t.test('a backend that never answers: 504 at timeoutInMillis', async (t) => {
    const started = Date.now()
    const res = await request(`${gw.url}/test/hang`)
    t.equal(res.status, 504)
    t.equal(res.text, '{"message": "Endpoint request timed out"}')
    t.ok(Date.now() - started < 6_000, 'answered near the 2 s integration timeout')
  })

  t.test('an endless body stops at 10 MB: 500, and the backend is hung up on', async (t) => {
    const before = backend.requests.length
    const res = await request(`${gw.url}/test/endless`, { timeoutMs: 20_000 })
    t.equal(res.status, 500)
    t.equal(res.text, INTERNAL)
    const rec = backend.requests[before]!
    t.equal(rec.path, '/endless')
    await until(() => rec.abandoned, 5_000)
    t.ok(rec.abandoned, 'the gateway closed the backend connection')
    t.ok(rec.written < 64 * MB, `the backend wrote ${rec.written} bytes before the gateway hung up`)
  })

  t.test('a declared length past 10 MB fails before the body is read', async (t) => {
    const before = backend.requests.length
    const res = await request(`${gw.url}/test/huge-declared?mb=1024`, { timeoutMs: 20_000 })
    t.equal(res.status, 500)
    t.equal(res.text, INTERNAL)
    const rec = backend.requests[before]!
    await until(() => rec.abandoned, 5_000)
    t.ok(rec.abandoned)
    t.ok(rec.written < 64 * MB, `${rec.written} bytes written of 1 GB`)
  })

  t.test('exactly 10485760 bytes pass; one more is refused', async (t) => {
    const ok = await request(`${gw.url}/test/bytes?n=${MAX}`, { timeoutMs: 20_000 })
    t.equal(ok.status, 200)
    t.equal(ok.body.length, MAX)
    t.equal(ok.headers['content-length'], String(MAX))
    const over = await request(`${gw.url}/test/bytes?n=${MAX + 1}`, { timeoutMs: 20_000 })
    t.equal(over.status, 500)
    t.equal(over.text, INTERNAL)
  })

  t.test('the gateway still serves, and its memory stayed bounded', async (t) => {
    t.equal((await request(`${gw.url}/test/ok`)).text, '{"ok":true}')
    const grew = rss.peak() - baseline
    // A 10 MB reply lives in the worker, on its way to the main thread and in the front:
    // a few copies, never the 1 GB the backend offered.
    t.ok(grew < 200 * MB, `RSS grew by ${(grew / MB).toFixed(0)} MB`)
    t.match(gw.output(), /Integration response of reported length \d+ is larger than allowed maximum of 10485760 bytes/)
  })
})

async function until (cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}
