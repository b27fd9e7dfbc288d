// What one backend call costs this thread, from the bare socket up to the whole worker path
// (issue 11: "stay on undici's dispatch() unless figures show it cannot fit"). Against the
// bench's echo backend in a child process, OUTSTANDING calls in flight, the same GET and the
// same headers the http_proxy route sends:
//   raw       one net.Socket per connection, the request prebuilt, the answer's head scanned
//             for Content-Length: the floor any Node client stands on
//   dispatch  undici Pool.dispatch() with one handler object per call (upstream.ts's way
//             for TLS backends, and for all of them before the gateway's own client)
//   dispatch0 the same with headersTimeout and bodyTimeout 0 (no undici timer per request)
//   http1     the gateway's own client (src/integrations/http1/pool.ts), one request object per call
//   pipeline  handleRequest() on the bench API's http_proxy route: router, method request,
//             HttpExchange (dispatch), the reply record; no front, no uWS
// Each prints calls/s and this process's CPU µs per call. Pin it apart from the backend:
//   npm run build && taskset -c 1 node dist/bench/micro/integrations/upstream-floor.bench.js [seconds] [mode,…]
// (the backend is started on CPU 0 when the machine has two CPUs or more).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect, type Socket } from 'node:net'
import { availableParallelism } from 'node:os'
import { Pool, type Dispatcher } from 'undici'
import { loadGateway } from '../../../src/config/load.js'
import { compileGateway, type CompiledGateway } from '../../../src/pipeline/compile.js'
import { handleRequest } from '../../../src/pipeline/handle-request.js'
import { installMappingEngine } from '../../../src/mapping/install-engine.js'
import type { ReplyRecord, RequestRecord } from '../../../src/pool/protocol.js'
import { closeUpstreams } from '../../../src/integrations/upstream.js'
import { spawnServer } from '../../e2e/child-process.js'
import { Http1Pool, buildHead, type Connection, type Http1Request } from '../../../src/integrations/http1/pool.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const SECONDS = Number(process.argv[2] ?? 5)
const MODES = (process.argv[3] ?? 'raw,dispatch,http1,pipeline').split(',')
const OUTSTANDING = 64

/** The headers upstream.ts's HttpExchange sends for wrk's GET (headers.ts's proxy list). */
const HEADERS = ['host', '127.0.0.1', 'x-forwarded-for', '127.0.0.1', 'User-Agent', 'AmazonAPIGateway_bench', 'X-Amzn-Trace-Id', 'Root=1-00000000-000000000000000000000000', 'X-Amzn-Apigateway-Api-Id', 'bench']

interface Rate {
  perSecond: number
  /** CPU time of this process per call, µs. */
  cpuMicros: number
}

/** A loop that keeps OUTSTANDING calls going: `issue` starts one, `done` is called per answer. */
async function measure(start: (done: (ok: boolean) => void) => void, ms: number): Promise<Rate> {
  let count = 0
  let bad = 0
  let stopAt = 0
  let inFlight = 0
  let resolve!: () => void
  const done = (ok: boolean): void => {
    inFlight--
    count++
    if (!ok) bad++
    if (Date.now() < stopAt) issue()
    else if (inFlight === 0) resolve()
  }
  const issue = (): void => {
    inFlight++
    start(done)
  }
  const round = async (length: number): Promise<void> => {
    const finished = new Promise<void>((r) => { resolve = r })
    stopAt = Date.now() + length
    for (let i = 0; i < OUTSTANDING; i++) issue()
    await finished
  }
  await round(1000) // warm-up
  count = 0
  const started = Date.now()
  const cpu = process.cpuUsage()
  await round(ms)
  const used = process.cpuUsage(cpu)
  if (bad > 0) throw new Error(`${bad} wrong answers`)
  return { perSecond: count / ((Date.now() - started) / 1000), cpuMicros: (used.user + used.system) / count }
}

/** Minimal keep-alive client on raw sockets: one request in flight per socket. */
function rawClient(port: number): Promise<(done: (ok: boolean) => void) => void> {
  const head = 'GET /hello HTTP/1.1\r\n' + HEADERS.reduce((s, v, i) => (i % 2 === 0 ? s + v + ': ' : s + v + '\r\n'), '') + 'connection: keep-alive\r\n\r\n'
  const request = Buffer.from(head, 'latin1')
  interface Conn { socket: Socket; done: ((ok: boolean) => void) | null; buf: Buffer | null }
  const idle: Conn[] = []
  const open: Promise<void>[] = []
  for (let i = 0; i < OUTSTANDING; i++) {
    const c: Conn = { socket: connect(port, '127.0.0.1'), done: null, buf: null }
    c.socket.setNoDelay(true)
    c.socket.on('data', (chunk: Buffer) => {
      const buf = c.buf === null ? chunk : Buffer.concat([c.buf, chunk])
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) { c.buf = buf; return }
      const lenAt = buf.indexOf('content-length: ', 0, 'latin1')
      const length = lenAt === -1 || lenAt > end ? 0 : parseInt(buf.toString('latin1', lenAt + 16, buf.indexOf('\r\n', lenAt)), 10)
      if (buf.length < end + 4 + length) { c.buf = buf; return }
      c.buf = null
      const done = c.done!
      c.done = null
      idle.push(c)
      done(buf[9] === 50 /* '2' */)
    })
    open.push(new Promise((r) => c.socket.once('connect', () => r())))
    idle.push(c)
  }
  return Promise.all(open).then(() => (done) => {
    const c = idle.pop()!
    c.done = done
    c.socket.write(request)
  })
}

/** undici's handler protocol, one object per call as HttpExchange does. */
class Call implements Dispatcher.DispatchHandler {
  status = 0
  constructor(readonly done: (ok: boolean) => void) {}
  onConnect(): void {}
  onHeaders(statusCode: number): boolean { this.status = statusCode; return true }
  onData(): boolean { return true }
  onComplete(): void { this.done(this.status === 200) }
  onError(): void { this.done(false) }
}

function dispatchClient(url: string): (done: (ok: boolean) => void) => void {
  const pool = new Pool(url, { connections: OUTSTANDING, pipelining: 1 })
  return (done) => {
    pool.dispatch({ method: 'GET', path: '/hello', headers: HEADERS.slice(), body: null, headersTimeout: 29_000, bodyTimeout: 29_000 }, new Call(done))
  }
}

function dispatch0Client(url: string): (done: (ok: boolean) => void) => void {
  const pool = new Pool(url, { connections: OUTSTANDING, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 })
  return (done) => {
    pool.dispatch({ method: 'GET', path: '/hello', headers: HEADERS.slice(), body: null, headersTimeout: 0, bodyTimeout: 0 }, new Call(done))
  }
}

/** The gateway's own client's request protocol, one object per call as HttpExchange is. */
class Http1Call implements Http1Request {
  h1Head: string
  h1Body = null
  h1HeadMethod = false
  h1Idempotent = true
  h1Retried = false
  h1Queued = false
  h1Conn: Connection | null = null
  status = 0
  constructor(head: string, readonly done: (ok: boolean) => void) { this.h1Head = head }
  onHttp1Head(statusCode: number): boolean { this.status = statusCode; return true }
  onData(): boolean { return true }
  onComplete(): void { this.done(this.status === 200) }
  onError(): void { this.done(false) }
}

function http1Client(url: string): (done: (ok: boolean) => void) => void {
  const pool = new Http1Pool(url, { connections: OUTSTANDING, connectTimeoutMs: 10_000, keepAliveMs: 4_000 })
  return (done) => {
    // Built per call, as HttpExchange builds it from the request's headers.
    pool.dispatch(new Http1Call(buildHead('GET', '/hello', HEADERS, pool.hostHeader, 0)!, done))
  }
}

function pipelineClient(gw: CompiledGateway): (done: (ok: boolean) => void) => void {
  let nextId = 1
  return (done) => {
    const record: RequestRecord = { id: nextId++, method: 'GET', url: '/test/proxy/hello', query: '', headers: ['host', '127.0.0.1', 'user-agent', 'wrk', 'accept', '*/*'], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.now() }
    handleRequest(gw, record, { reply: (r: ReplyRecord) => done(r.status === 200) })
  }
}

const echo = await spawnServer({
  name: 'echo',
  args: [join(ROOT, 'dist', 'bench', 'e2e', 'servers', 'echo-backend.js')],
  cwd: ROOT,
  readyPattern: /listening on (http:\/\/\S+)/,
  timeoutMs: 10_000,
  ...(availableParallelism() >= 2 ? { wrapper: ['taskset', '-c', '0'] } : {}),
})
// A mode that fails (wrong answers) sets the exit code; the finally's exit must not hide it.
let failed = false
try {
  for (const mode of MODES) {
    let start: (done: (ok: boolean) => void) => void
    if (mode === 'raw') start = await rawClient(echo.port)
    else if (mode === 'dispatch') start = dispatchClient(echo.url)
    else if (mode === 'dispatch0') start = dispatch0Client(echo.url)
    else if (mode === 'http1') start = http1Client(echo.url)
    else if (mode === 'pipeline') {
      const loaded = loadGateway({ apiFiles: [join(ROOT, 'bench', 'fixtures', 'bench-api.json')], configFile: null, stageVariables: { backend: echo.url } })
      const gw = compileGateway(loaded.gateway, [])
      installMappingEngine(gw)
      start = pipelineClient(gw)
    } else throw new Error(`unknown mode ${mode}`)
    const r = await measure(start, SECONDS * 1000)
    console.log(`${mode.padEnd(9)} ${r.perSecond.toFixed(0).padStart(7)} calls/s, ${r.cpuMicros.toFixed(1).padStart(6)} µs CPU per call`)
  }
} catch (err) {
  failed = true
  console.error(err)
} finally {
  await closeUpstreams()
  await echo.stop()
  process.exit(failed ? 1 : 0)
}
