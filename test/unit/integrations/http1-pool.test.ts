// The gateway's own HTTP/1.1 client (src/integrations/http1/pool.ts) against raw loopback
// backends: the request head it writes, keep-alive reuse (LIFO), the bound on connections,
// a backend that closes an idle connection as a request goes out (retried only when
// idempotent and nothing came back), abort, and errors with the codes the gateway maps.
import t, { type Test } from 'tap'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Http1Pool, buildHead, isIdempotent, type Connection, type Http1Request } from '../../../src/integrations/http1/pool.js'
import { classifyUpstreamError } from '../../../src/integrations/upstream-errors.js'

class Call implements Http1Request {
  h1Head: string
  h1Body: Buffer | null
  h1HeadMethod: boolean
  h1Idempotent: boolean
  h1Retried = false
  h1Queued = false
  h1Conn: Connection | null = null
  status = 0
  headers: string[] = []
  body: Buffer[] = []
  error: Error | null = null
  readonly done: Promise<void>
  #resolve!: () => void
  constructor(method: string, path: string, host: string, body: string | null = null, headers: string[] = []) {
    this.h1Body = body === null ? null : Buffer.from(body)
    this.h1Head = buildHead(method, path, headers, host, this.h1Body === null ? 0 : this.h1Body.length)!
    this.h1HeadMethod = method === 'HEAD'
    this.h1Idempotent = isIdempotent(method)
    this.done = new Promise((r) => { this.#resolve = r })
  }
  onHttp1Head(status: number, headers: string[]): boolean { this.status = status; this.headers = headers; return true }
  onData(chunk: Buffer): boolean { this.body.push(Buffer.from(chunk)); return true }
  onComplete(): void { this.#resolve() }
  onError(err: Error): void { this.error = err; this.#resolve() }
  text(): string { return Buffer.concat(this.body).toString() }
}

interface RawBackend {
  server: Server
  origin: string
  /** Every request head received, in order, with the connection's number. */
  heads: { conn: number, head: string }[]
  connections: number
  close(): Promise<void>
}

/** A backend on raw sockets: `answer` gets each request head and writes what it likes. */
async function rawBackend(t: Test, answer: (socket: Socket, head: string, conn: number, backend: RawBackend) => void): Promise<RawBackend> {
  const sockets = new Set<Socket>()
  const backend: RawBackend = { server: null as unknown as Server, origin: '', heads: [], connections: 0, close: async () => {} }
  const server = createServer((socket) => {
    const conn = ++backend.connections
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buf = ''
    socket.on('data', (d) => {
      buf += d.toString('latin1')
      for (;;) {
        const end = buf.indexOf('\r\n\r\n')
        if (end === -1) return
        const m = /content-length: (\d+)/i.exec(buf.slice(0, end))
        const length = m === null ? 0 : Number(m[1])
        if (buf.length < end + 4 + length) return
        const head = buf.slice(0, end + 4 + length)
        buf = buf.slice(end + 4 + length)
        backend.heads.push({ conn, head })
        answer(socket, head, conn, backend)
      }
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  backend.server = server
  backend.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  backend.close = () => new Promise<void>((r) => {
    for (const s of sockets) s.destroy()
    server.close(() => r())
  })
  t.teardown(() => backend.close())
  return backend
}

function ok(socket: Socket, body = 'ok'): void {
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
}

function pool(t: Test, origin: string, connections = 4): Http1Pool {
  const p = new Http1Pool(origin, { connections, connectTimeoutMs: 2_000, keepAliveMs: 4_000 })
  t.teardown(() => p.close())
  return p
}



t.test('buildHead writes what undici writes, or leaves the request to undici', async (t) => {
  t.equal(buildHead('GET', '/a?b=1', ['x-one', '1', 'User-Agent', 'ua'], '127.0.0.1:80', 0),
    'GET /a?b=1 HTTP/1.1\r\nhost: 127.0.0.1:80\r\nconnection: keep-alive\r\nx-one: 1\r\nUser-Agent: ua\r\n\r\n')
  t.equal(buildHead('POST', '/p', ['Host', 'named.example'], 'h:1', 5),
    'POST /p HTTP/1.1\r\nhost: named.example\r\nconnection: keep-alive\r\ncontent-length: 5\r\n\r\n', 'a Host header given replaces the origin\'s')
  t.equal(buildHead('POST', '/p', [], 'h:1', 0), 'POST /p HTTP/1.1\r\nhost: h:1\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n', 'a POST without a body says so')
  t.equal(buildHead('DELETE', '/p', [], 'h:1', 0), 'DELETE /p HTTP/1.1\r\nhost: h:1\r\nconnection: keep-alive\r\n\r\n')
  for (const [name, value] of [['Content-Length', '3'], ['transfer-encoding', 'chunked'], ['Connection', 'close'], ['expect', '100-continue'], ['upgrade', 'h2c'], ['keep-alive', '5'], ['x-bad', 'a\r\nb'], ['bad name', 'x'], ['x-nul', 'a\u0000']]) {
    t.equal(buildHead('GET', '/', [name!, value!], 'h', 0), null, `${name}: ${JSON.stringify(value)} goes to undici`)
  }
  t.equal(buildHead('GET', '/a b', [], 'h', 0), null, 'a raw space in the path')
  t.equal(buildHead('G T', '/', [], 'h', 0), null, 'a method that is not a token')
  t.equal(buildHead('CONNECT', '/', [], 'h', 0), null)
})

t.test('keep-alive: one connection carries request after request, each head written as built', async (t) => {
  const backend = await rawBackend(t, (socket, head) => ok(socket, head.startsWith('POST') ? 'posted' : 'got'))
  const p = pool(t, backend.origin)
  for (let i = 0; i < 5; i++) {
    const c = new Call('GET', `/n/${i}`, p.hostHeader)
    p.dispatch(c)
    await c.done
    t.equal(c.error, null)
    t.equal(c.status, 200)
    t.equal(c.text(), 'got')
  }
  const post = new Call('POST', '/body', p.hostHeader, '{"a":1}', ['content-type', 'application/json'])
  p.dispatch(post)
  await post.done
  t.equal(post.text(), 'posted')
  t.equal(backend.connections, 1, 'all on one connection')
  t.equal(backend.heads.length, 6)
  t.equal(backend.heads[5]!.head, `POST /body HTTP/1.1\r\nhost: ${p.hostHeader}\r\nconnection: keep-alive\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}`)
})

t.test('at most `connections` at once; the rest wait their turn and reuse them', async (t) => {
  const held: Socket[] = []
  const backend = await rawBackend(t, (socket) => { held.push(socket) })
  const p = pool(t, backend.origin, 2)
  const calls = [0, 1, 2, 3, 4].map((i) => new Call('GET', `/${i}`, p.hostHeader))
  for (const c of calls) p.dispatch(c)
  await new Promise((r) => setTimeout(r, 100))
  t.equal(backend.connections, 2)
  t.equal(held.length, 2, 'two requests out, three queued')
  // Abort one queued request: it never goes out.
  p.abort(calls[2]!)
  while (held.length > 0) {
    ok(held.shift()!)
    await new Promise((r) => setTimeout(r, 30))
  }
  for (const i of [0, 1, 3, 4]) {
    await calls[i]!.done
    t.equal(calls[i]!.status, 200, `call ${i}`)
  }
  t.equal(calls[2]!.status, 0, 'the aborted one got nothing')
  t.same(backend.heads.map((h) => h.head.split(' ')[1]), ['/0', '/1', '/3', '/4'])
  t.equal(backend.connections, 2)
})

t.test('the most recently used idle connection is taken first (LIFO)', async (t) => {
  const held: Socket[] = []
  const backend = await rawBackend(t, (socket) => { held.push(socket) })
  const p = pool(t, backend.origin, 4)
  const a = new Call('GET', '/a', p.hostHeader)
  const b = new Call('GET', '/b', p.hostHeader)
  p.dispatch(a)
  p.dispatch(b)
  await new Promise((r) => setTimeout(r, 100))
  ok(held[0]!)
  await new Promise((r) => setTimeout(r, 30))
  ok(held[1]!)
  await Promise.all([a.done, b.done])
  const c = new Call('GET', '/c', p.hostHeader)
  p.dispatch(c)
  await new Promise((r) => setTimeout(r, 50))
  ok(held[2]!)
  await c.done
  const connOf = (path: string): number => backend.heads.find((h) => h.head.startsWith(`GET ${path} `))!.conn
  t.equal(connOf('/c'), connOf('/b'), 'the connection freed last')
})

t.test('an idle connection the backend closed as the request went out: a GET is retried once, a POST fails', async (t) => {
  // The backend answers the first request on each connection, then closes it without a
  // word when the next request arrives (a keep-alive timeout racing the request).
  const backend = await rawBackend(t, (socket, _head, conn, b) => {
    const onConn = b.heads.filter((h) => h.conn === conn).length
    if (onConn === 1) ok(socket, 'first')
    else socket.destroy()
  })
  const p = pool(t, backend.origin, 4)
  const warm = new Call('GET', '/warm', p.hostHeader)
  p.dispatch(warm)
  await warm.done
  const get = new Call('GET', '/again', p.hostHeader)
  p.dispatch(get)
  await get.done
  t.equal(get.error, null, 'the GET went out again')
  t.equal(get.status, 200)
  t.equal(get.text(), 'first', 'answered on a new connection')
  t.equal(get.h1Retried, true)
  const post = new Call('POST', '/once', p.hostHeader, 'x')
  p.dispatch(post)
  await post.done
  t.ok(post.error !== null, 'a POST is never sent twice')
  t.equal(classifyUpstreamError(post.error).status, 502)
  t.equal(backend.heads.filter((h) => h.head.startsWith('POST')).length, 1)
})

t.test('a fresh connection that breaks is not retried', async (t) => {
  const backend = await rawBackend(t, (socket) => socket.destroy())
  const p = pool(t, backend.origin)
  const c = new Call('GET', '/reset', p.hostHeader)
  p.dispatch(c)
  await c.done
  t.equal(classifyUpstreamError(c.error).status, 502)
  t.equal(backend.heads.length, 1)
})

t.test('bad framing and an early close fail with 502; the connection is not reused', async (t) => {
  const answers = [
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort',
    'garbage\r\n\r\n',
  ]
  let n = 0
  const backend = await rawBackend(t, (socket) => {
    const a = answers[n++]!
    socket.end(a)
  })
  const p = pool(t, backend.origin)
  for (let i = 0; i < answers.length; i++) {
    const c = new Call('GET', `/${i}`, p.hostHeader)
    p.dispatch(c)
    await c.done
    t.ok(c.error !== null, `answer ${i} refused`)
    t.equal(classifyUpstreamError(c.error).status, 502)
  }
  t.equal(backend.connections, 3)
})

t.test('a close-delimited answer ends at the close', async (t) => {
  const backend = await rawBackend(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'))
  const p = pool(t, backend.origin)
  const c = new Call('GET', '/', p.hostHeader)
  p.dispatch(c)
  await c.done
  t.equal(c.error, null)
  t.equal(c.text(), 'until the end')
})

t.test('bytes past the declared length: the answer stands, the connection is dropped', async (t) => {
  const backend = await rawBackend(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'))
  const p = pool(t, backend.origin)
  const a = new Call('GET', '/a', p.hostHeader)
  p.dispatch(a)
  await a.done
  t.equal(a.text(), 'ok')
  const b = new Call('GET', '/b', p.hostHeader)
  p.dispatch(b)
  await b.done
  t.equal(b.text(), 'ok')
  t.equal(backend.connections, 2, 'not reused after the extra bytes')
})

t.test('abort mid-answer closes the connection', async (t) => {
  let closed = false
  const backend = await rawBackend(t, (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart')
    socket.on('close', () => { closed = true })
  })
  const p = pool(t, backend.origin)
  const c = new Call('GET', '/', p.hostHeader)
  p.dispatch(c)
  for (let i = 0; i < 50 && c.body.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
  t.equal(c.text(), 'part')
  p.abort(c)
  for (let i = 0; i < 50 && !closed; i++) await new Promise((r) => setTimeout(r, 10))
  t.ok(closed, 'the backend saw the close')
  t.equal(p.all.size, 0)
})

t.test('a refused connection maps to the gateway\'s unreachable answer', async (t) => {
  const p = pool(t, 'http://127.0.0.1:1')
  const c = new Call('GET', '/', p.hostHeader)
  p.dispatch(c)
  await c.done
  t.equal((c.error as NodeJS.ErrnoException).code, 'ECONNREFUSED')
  t.equal(classifyUpstreamError(c.error).type, 'API_CONFIGURATION_ERROR')
})

t.test('idle connections past their keep-alive are closed', async (t) => {
  let closed = 0
  const backend = await rawBackend(t, (socket) => {
    socket.on('close', () => { closed++ })
    ok(socket)
  })
  const p = new Http1Pool(backend.origin, { connections: 2, connectTimeoutMs: 2_000, keepAliveMs: 200 })
  t.teardown(() => p.close())
  const c = new Call('GET', '/', p.hostHeader)
  p.dispatch(c)
  await c.done
  t.equal(p.idle.length, 1)
  for (let i = 0; i < 40 && closed === 0; i++) await new Promise((r) => setTimeout(r, 100))
  t.equal(closed, 1, 'closed by the sweep')
  t.equal(p.idle.length, 0)
})
