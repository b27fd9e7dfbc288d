// The per-worker front (`--front workers`, issue 11) keeps the main-thread front's
// protections: a pipelined request never reaches a backend, and the backend exchange of a
// client that left is cancelled (both handled in the worker that owns the connection).
import t from 'tap'
import net from 'node:net'
import { writeApi, request, until } from '../helpers/index.js'
import { startWorkerFrontGateway } from '../helpers/worker-front.js'
import { startFaultBackend, proxyApi } from '../helpers/fault-backend.js'
import { rawExchange } from '../helpers/raw-http.js'

t.test('pipelining and clients that leave, in a worker front', async (t) => {
  const backend = await startFaultBackend()
  t.teardown(() => backend.close())
  const gw = await startWorkerFrontGateway([writeApi(t, proxyApi(10_000)), '--stage-var', `backend=${backend.url}`, '--workers', '1'])
  t.teardown(() => gw.stop())
  t.equal((await request(`${gw.url}/test/ok`)).status, 200)
  const get = (path: string, tag: string) => `GET /test${path} HTTP/1.1\r\nHost: gw\r\nx-request-tag: ${tag}\r\n\r\n`
  const tagged = (tag: string) => backend.requests.filter((r) => r.tag === tag)

  const r = await rawExchange(gw.port, get('/ok', 'pipe-1') + get('/ok', 'pipe-2'), { ms: 5_000 })
  t.ok(r.closed, 'uWS closes a connection that pipelines')
  t.same(r.responses, [], 'no answer')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(tagged('pipe-1').length + tagged('pipe-2').length, 0, 'neither request reached the backend')

  const s = net.connect(gw.port, '127.0.0.1')
  t.teardown(() => s.destroy())
  s.on('error', () => {})
  s.write(get('/delay?ms=3000', 'gone'))
  await until(() => tagged('gone').length === 1, 'the request at the backend', 3_000)
  s.destroy()
  await until(() => tagged('gone')[0]?.abandoned === true, 'the cancelled exchange', 2_000)
  t.equal(tagged('gone')[0]?.abandoned, true, 'the backend exchange of a client that left is cancelled')
})

