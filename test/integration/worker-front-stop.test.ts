// The per-worker front's stop (`--front workers`, issue 11): SIGTERM drains every front
// (requests in flight answered with Connection: close, exit 0); a second signal stops at
// once with exit 1, not an abort (a worker that ends with uWS sockets open would abort the
// whole process, so every front closes its sockets first).
import t from 'tap'
import { writeApi, request, until } from '../helpers/index.js'
import { startWorkerFrontGateway } from '../helpers/worker-front.js'
import { startFaultBackend, proxyApi } from '../helpers/fault-backend.js'

t.test('SIGTERM drains the fronts; a second signal stops at once with exit 1', async (t) => {
  const backend = await startFaultBackend()
  t.teardown(() => backend.close())
  const args = [writeApi(t, proxyApi()), '--stage-var', `backend=${backend.url}`, '--workers', '2']

  const gw = await startWorkerFrontGateway(args)
  t.teardown(() => gw.stop())
  const inFlight = request(`${gw.url}/test/delay?ms=1500`)
  await until(() => backend.requests.some((r) => r.path === '/delay'), 'the request at the backend', 5_000)
  gw.signal('SIGTERM')
  const res = await inFlight
  t.equal(res.status, 200, 'the request in flight is answered')
  t.equal(res.headers.connection, 'close', 'with Connection: close')
  t.same(await gw.exited, { code: 0, signal: null }, 'then the gateway exits 0')

  const gw2 = await startWorkerFrontGateway(args)
  t.teardown(() => gw2.stop())
  const slow = request(`${gw2.url}/test/delay?ms=20000`).catch(() => null)
  await until(() => backend.requests.filter((r) => r.path === '/delay').length === 2, 'the second request at the backend', 5_000)
  gw2.signal('SIGTERM')
  await new Promise((r) => setTimeout(r, 300))
  const second = Date.now()
  gw2.signal('SIGTERM')
  t.same(await gw2.exited, { code: 1, signal: null }, 'exit 1, not an abort')
  t.ok(Date.now() - second < 5_000, 'at once, without waiting for the request in flight')
  t.notMatch(gw2.output(), /Assertion failed|uv_loop_close/, 'no worker ended with sockets open')
  await slow
})
