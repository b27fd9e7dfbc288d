// The per-worker front (`--front workers`, issue 11): every worker listens on the gateway's
// port with its own uWebSockets.js app and serves requests end to end in its thread. The
// front's behaviours hold as with the main-thread front: reload, /ready once every front
// listens with the newest configuration, pipelining protection, cancellation of a backend
// exchange whose client left, the drain on SIGTERM with Connection: close, and a second
// signal that stops at once (exit 1, not an abort: a worker that ends with uWS sockets
// open would abort the whole process).
import t from 'tap'
import net from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import { startGateway, writeApi, request } from '../helpers/index.js'
import { startFaultBackend, proxyApi } from '../helpers/fault-backend.js'
import { rawExchange } from '../helpers/raw-http.js'

/**
 * The listening line waits for the first worker's front: a worker's start (module graph,
 * compile, WASM) is on its path, which the main-thread front does not wait for. Bounded
 * wider than startGateway's default for a loaded CI machine.
 */
const START_TIMEOUT_MS = 60_000

const mock = (body: string) => ({
  type: 'mock',
  requestTemplates: { 'application/json': '{"statusCode": 200}' },
  responses: { default: { statusCode: '200', responseTemplates: { 'application/json': body } } },
})
const mockApi = (body: string) => ({ openapi: '3.0.1', info: { title: 'fronts', version: '1' }, paths: { '/v': { get: { 'x-amazon-apigateway-integration': mock(body) } } } })

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Listening TCP sockets on 127.0.0.1:`port` (/proc/net/tcp: local address, state 0A = LISTEN). */
function listeners(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => {
    const f = l.trim().split(/\s+/)
    return f[1] === local && f[3] === '0A'
  }).length
}

/** One request on a fresh connection (no keep-alive), so the kernel picks a front each time. */
function freshGet(port: number, path: string): Promise<string> {
  return rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`, { expect: 1 }).then((r) => r.responses[0]?.body.toString() ?? `no answer (${r.error ?? 'closed'})`)
}

t.test('two workers, two listeners on one port; reload and /ready cover both', async (t) => {
  const file = writeApi(t, mockApi('"v1"'))
  const gw = await startGateway({ args: [file, '--workers', '2', '--front', 'workers', '--admin-port', '0'], timeoutMs: START_TIMEOUT_MS })
  t.teardown(() => gw.stop())
  t.match(gw.output(), /front end: .*, one per worker/)
  await until(() => /backplane admin on http/.test(gw.output()), 'the admin line')
  const admin = /backplane admin on (http:\/\/\S+)/.exec(gw.output())![1]!
  // /ready once both fronts listen with the configuration (the second may still be starting).
  await until(async () => (await request(`${admin}/ready`)).status === 200, '/ready')
  t.equal(listeners(gw.port), 2, 'each worker listens on the shared port (SO_REUSEPORT)')
  const answers = await Promise.all(Array.from({ length: 30 }, () => freshGet(gw.port, '/test/v')))
  t.strictSame([...new Set(answers)], ['"v1"'], 'every connection answered, whichever front took it')

  writeFileSync(file, JSON.stringify(mockApi('"v2"')))
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 1/.test(gw.output()), 'the reload line')
  t.equal((await request(`${admin}/ready`)).status, 200, 'ready: every front compiled version 1')
  const after = await Promise.all(Array.from({ length: 30 }, () => freshGet(gw.port, '/test/v')))
  t.strictSame([...new Set(after)], ['"v2"'], 'both fronts serve the new version')
})

t.test('pipelining and clients that leave, in a worker front', async (t) => {
  const backend = await startFaultBackend()
  t.teardown(() => backend.close())
  const gw = await startGateway({ args: [writeApi(t, proxyApi(10_000)), '--stage-var', `backend=${backend.url}`, '--workers', '1', '--front', 'workers'], timeoutMs: START_TIMEOUT_MS })
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

t.test('SIGTERM drains the fronts; a second signal stops at once with exit 1', async (t) => {
  const backend = await startFaultBackend()
  t.teardown(() => backend.close())
  const args = [writeApi(t, proxyApi()), '--stage-var', `backend=${backend.url}`, '--workers', '2', '--front', 'workers']

  const gw = await startGateway({ args, timeoutMs: START_TIMEOUT_MS })
  t.teardown(() => gw.stop())
  const inFlight = request(`${gw.url}/test/delay?ms=1500`)
  await until(() => backend.requests.some((r) => r.path === '/delay'), 'the request at the backend', 5_000)
  gw.signal('SIGTERM')
  const res = await inFlight
  t.equal(res.status, 200, 'the request in flight is answered')
  t.equal(res.headers.connection, 'close', 'with Connection: close')
  t.same(await gw.exited, { code: 0, signal: null }, 'then the gateway exits 0')

  const gw2 = await startGateway({ args, timeoutMs: START_TIMEOUT_MS })
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
