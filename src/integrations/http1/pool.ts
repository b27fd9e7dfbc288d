// The gateway's own HTTP/1.1 client for plain-HTTP backends (issue 11): keep-alive
// connections per origin, bounded, reused last-in first-out, one request at a time on each
// (no pipelining: a slow answer never holds up another request), the request's head
// prebuilt as one string and written with one write (head and body corked together). The
// request is the exchange object itself (Http1Request): nothing is allocated per request
// here beyond the head string and the response's header strings.
//
// Measured against undici Pool.dispatch() (bench/micro/integrations/upstream-floor.bench.ts,
// the upstream report): undici's per-request Request object, header validation, FastTimer
// swaps and stream plumbing cost about as much again as the socket itself. undici stays for
// what this client does not cover (upstream.ts: TLS backends, tlsConfig, and any request
// whose headers only undici's checks should judge: buildHead returns null and the exchange
// dispatches it there), so nothing regresses there.
import { connect, type Socket } from 'node:net'
import { ResponseParser, type ResponseSink } from './response-parser.js'

/** An exchange as this client drives it (HttpExchange implements it). */
export interface Http1Request {
  /** The request line and headers, CRLF-terminated, written as latin1. */
  h1Head: string
  h1Body: Buffer | null
  /** HEAD: the response has no body. */
  h1HeadMethod: boolean
  /** May go out again when a reused connection closed before any byte of the answer came. */
  h1Idempotent: boolean
  h1Retried: boolean
  /** Waiting in its pool's queue for a connection. */
  h1Queued: boolean
  /** The connection carrying it, or null. */
  h1Conn: Connection | null
  /** The final head; false stops the exchange (the connection is dropped). */
  onHttp1Head(status: number, headers: string[]): boolean
  onData(chunk: Buffer): boolean
  onComplete(): void
  onError(err: Error): void
}

export interface Http1PoolOptions {
  connections: number
  connectTimeoutMs: number
  keepAliveMs: number
}

/** undici's keepAliveTimeoutThreshold: a backend's Keep-Alive hint less this much. */
const KEEP_ALIVE_MARGIN_MS = 2_000
/** How often idle connections past their keep-alive are closed (one timer per pool). */
const SWEEP_MS = 1_000

/** An error with the code classifyUpstreamError() maps (undici's names where it has one). */
export class Http1Error extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/
const BAD_PATH = /[^\x21-\xff]/
/** Request headers whose meaning undici's Request judges (framing, the connection, Expect): those requests go to undici. */
const FRAMING = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect'])

/**
 * The request head as undici writes it (request line, host, connection: keep-alive, the
 * headers in order, content-length), or null when the request is one for undici to judge:
 * an odd method or path, a header that frames the message, a name or value undici refuses.
 */
export function buildHead(method: string, path: string, headers: readonly string[], defaultHost: string, bodyLength: number): string | null {
  if (!TOKEN.test(method) || method === 'CONNECT' || path.charCodeAt(0) !== 47 || BAD_PATH.test(path)) return null
  let host: string | null = null
  let fields = ''
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!
    const value = headers[i + 1]!
    if (typeof value !== 'string' || !TOKEN.test(name) || BAD_VALUE.test(value)) return null
    const n = name.length
    if (n === 4 || n === 6 || n === 7 || n === 10 || n === 14 || n === 17) {
      const lower = name.toLowerCase()
      if (lower === 'host') {
        host = value
        continue
      }
      if (FRAMING.has(lower)) return null
    }
    fields += name + ': ' + value + '\r\n'
  }
  let head = method + ' ' + path + ' HTTP/1.1\r\nhost: ' + (host ?? defaultHost) + '\r\nconnection: keep-alive\r\n' + fields
  if (bodyLength > 0) head += 'content-length: ' + bodyLength + '\r\n'
  else if (method === 'POST' || method === 'PUT' || method === 'PATCH') head += 'content-length: 0\r\n'
  return head + '\r\n'
}

export function isIdempotent(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'PUT' || method === 'DELETE' || method === 'TRACE'
}

/** One keep-alive connection; its listeners are bound once, for every request it carries. */
export class Connection implements ResponseSink {
  readonly pool: Http1Pool
  readonly socket: Socket
  readonly parser: ResponseParser
  req: Http1Request | null = null
  connected = false
  dead = false
  /** Responses completed on it. */
  served = 0
  /** When it stops being reusable, while idle. */
  idleUntil = 0

  constructor(pool: Http1Pool) {
    this.pool = pool
    this.parser = new ResponseParser(this)
    const socket = connect({ host: pool.hostname, port: pool.port, noDelay: true })
    this.socket = socket
    socket.setTimeout(pool.options.connectTimeoutMs)
    socket.on('connect', () => this.#onConnect())
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('end', () => this.#onEnd())
    socket.on('error', (err) => this.#fail(err))
    socket.on('close', () => this.#fail(new Http1Error('UND_ERR_SOCKET', 'other side closed')))
    socket.on('timeout', () => this.#fail(new Http1Error('UND_ERR_CONNECT_TIMEOUT', 'connect timeout')))
  }

  /** Sends `req` on this connection (at once when connected, else on connect). */
  assign(req: Http1Request): void {
    this.req = req
    req.h1Conn = this
    this.parser.begin(req.h1HeadMethod)
    if (this.connected) this.#write(req)
  }

  #write(req: Http1Request): void {
    const socket = this.socket
    if (req.h1Body === null || req.h1Body.length === 0) {
      socket.write(req.h1Head, 'latin1')
      return
    }
    socket.cork()
    socket.write(req.h1Head, 'latin1')
    socket.write(req.h1Body)
    socket.uncork()
  }

  #onConnect(): void {
    this.connected = true
    this.socket.setTimeout(0)
    if (this.req !== null) this.#write(this.req)
  }

  #onData(chunk: Buffer): void {
    const req = this.req
    if (req === null) {
      // Bytes nobody asked for (after a response, or on an idle connection): not reusable.
      this.destroy()
      return
    }
    let rest: number
    try {
      rest = this.parser.execute(chunk)
    } catch (err) {
      this.#fail(err as Error)
      return
    }
    if (this.req !== req) return // stopped by its exchange during a callback
    if (this.parser.done) this.#complete(rest !== -1)
  }

  #onEnd(): void {
    if (this.req !== null && this.parser.eof()) {
      this.#complete(true)
      return
    }
    this.#fail(new Http1Error('UND_ERR_SOCKET', 'other side closed'))
  }

  #complete(unreusable: boolean): void {
    const req = this.req!
    this.req = null
    req.h1Conn = null
    this.served++
    const parser = this.parser
    let keepMs = this.pool.options.keepAliveMs
    if (parser.keepAliveHintMs !== -1) keepMs = Math.min(keepMs, parser.keepAliveHintMs - KEEP_ALIVE_MARGIN_MS)
    try {
      req.onComplete()
    } finally {
      if (unreusable || !parser.keepAlive || keepMs <= 0 || this.dead || this.pool.closed) this.destroy()
      else this.pool.release(this, keepMs)
    }
  }

  #fail(err: Error): void {
    if (this.dead && this.req === null) return
    const req = this.req
    const retry = req !== null && this.served > 0 && !this.parser.received && req.h1Idempotent && !req.h1Retried && !this.pool.closed
    this.req = null
    this.destroy()
    if (req === null) return
    req.h1Conn = null
    if (retry) {
      // A reused connection the backend had closed before our request reached it: nothing
      // of the answer came, so the request goes out once more on another connection.
      req.h1Retried = true
      this.pool.dispatch(req)
      return
    }
    req.onError(err)
  }

  /** Closes it for good; its request, if any, is the caller's to settle. */
  destroy(): void {
    if (this.dead) return
    this.dead = true
    this.socket.destroy()
    this.pool.forget(this)
  }

  // ResponseSink: handed straight to the request.
  onResponseHead(status: number, headers: string[]): void {
    const req = this.req
    if (req !== null && !req.onHttp1Head(status, headers) && this.req === req) {
      this.req = null
      req.h1Conn = null
      this.destroy()
    }
  }

  onResponseBody(chunk: Buffer): void {
    const req = this.req
    if (req !== null && !req.onData(chunk) && this.req === req) {
      this.req = null
      req.h1Conn = null
      this.destroy()
    }
  }

  onResponseEnd(): void {
    // Completion is handled once execute() has returned (#onData, #onEnd): the connection
    // may take its next request only when the parser is done with this read.
  }
}

export class Http1Pool {
  readonly hostname: string
  readonly port: number
  /** What `host:` says when the request names none (the origin's host[:port]). */
  readonly hostHeader: string
  readonly options: Http1PoolOptions
  /** Idle connections, the most recently used last (taken first). */
  readonly idle: Connection[] = []
  readonly all = new Set<Connection>()
  /** Requests waiting for a connection; entries whose h1Queued went false were aborted. */
  #queue: Http1Request[] = []
  #queueHead = 0
  #sweeper: NodeJS.Timeout | null = null
  closed = false

  constructor(origin: string, options: Http1PoolOptions) {
    const url = new URL(origin)
    this.hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    this.port = url.port === '' ? 80 : Number(url.port)
    this.hostHeader = url.host
    this.options = options
  }

  dispatch(req: Http1Request): void {
    if (this.closed) {
      req.onError(new Http1Error('UND_ERR_DESTROYED', 'the pool is closed'))
      return
    }
    const conn = this.idle.pop()
    if (conn !== undefined) {
      conn.assign(req)
      return
    }
    if (this.all.size < this.options.connections) {
      const fresh = new Connection(this)
      this.all.add(fresh)
      fresh.assign(req)
      return
    }
    req.h1Queued = true
    this.#queue.push(req)
  }

  /** Stops `req`: out of the queue, or its connection closed (it is mid-exchange). */
  abort(req: Http1Request): void {
    if (req.h1Queued) {
      req.h1Queued = false
      return
    }
    const conn = req.h1Conn
    if (conn !== null && conn.req === req) {
      conn.req = null
      req.h1Conn = null
      conn.destroy()
    }
  }

  #nextQueued(): Http1Request | null {
    const q = this.#queue
    while (this.#queueHead < q.length) {
      const req = q[this.#queueHead]!
      q[this.#queueHead++] = undefined as unknown as Http1Request
      if (req.h1Queued) {
        req.h1Queued = false
        return req
      }
    }
    if (this.#queueHead > 0) {
      q.length = 0
      this.#queueHead = 0
    }
    return null
  }

  /** A connection done with its request: the next queued request, or the idle stack. */
  release(conn: Connection, keepMs: number): void {
    const next = this.#nextQueued()
    if (next !== null) {
      conn.assign(next)
      return
    }
    conn.idleUntil = Date.now() + keepMs
    this.idle.push(conn)
    if (this.#sweeper === null) {
      this.#sweeper = setInterval(sweep, SWEEP_MS, this)
      this.#sweeper.unref()
    }
  }

  /** A connection has closed: out of the books; a waiting request gets a new one. */
  forget(conn: Connection): void {
    this.all.delete(conn)
    const i = this.idle.lastIndexOf(conn)
    if (i !== -1) this.idle.splice(i, 1)
    if (this.closed) return
    const next = this.#nextQueued()
    if (next !== null) this.dispatch(next)
  }

  sweepIdle(now: number): void {
    const idle = this.idle
    for (let i = idle.length - 1; i >= 0; i--) {
      const conn = idle[i]!
      if (conn.idleUntil <= now) conn.destroy()
    }
    if (idle.length === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper)
      this.#sweeper = null
    }
  }

  /** Closes every connection; requests under way fail (as undici's destroy() fails them). */
  close(): void {
    this.closed = true
    if (this.#sweeper !== null) clearInterval(this.#sweeper)
    this.#sweeper = null
    for (const conn of [...this.all]) {
      const req = conn.req
      conn.req = null
      conn.destroy()
      if (req !== null) {
        req.h1Conn = null
        req.onError(new Http1Error('UND_ERR_DESTROYED', 'the pool is closed'))
      }
    }
    let req: Http1Request | null
    while ((req = this.#nextQueued()) !== null) req.onError(new Http1Error('UND_ERR_DESTROYED', 'the pool is closed'))
  }
}

function sweep(pool: Http1Pool): void {
  pool.sweepIdle(Date.now())
}
