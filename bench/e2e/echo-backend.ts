// The loopback echo backend: the upstream behind every http_proxy / HTTP integration
// in the integration tests (through test/helpers/echo-backend.ts) and in `npm run bench`
// (through bench/e2e/servers/echo-backend.ts, one child process).
//
// Every request is answered with JSON describing what arrived:
//   { method, path, query, headers, body, bodyBase64 }
// `query` is the raw query string (no '?'), `body` the utf8 text, `bodyBase64` the bytes.
//
// Request headers steer the answer (they are echoed like any other header):
//   x-echo-status: N          answer with status N (default 200)
//   x-echo-delay-ms: N        wait N ms before answering
//   x-echo-header-<name>: v   add response header `<name>: v`
// Paths with a behaviour of their own:
//   countPath (an option)     answered {"requests": N}: how many requests it has served
//   /hang                     never answered (the socket stays open until close())
//   /reset                    the socket is destroyed once the request has arrived
//
// close() destroys every open socket and pending timer, so it never hangs.

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'

/** What the backend saw, and what it answers with (as JSON). */
export interface EchoedRequest {
  /** Request method as received, e.g. `GET`. */
  method: string
  /** Path part of the request target, without the query string. */
  path: string
  /** Raw query string without the leading `?`; `''` when there is none. */
  query: string
  /** Request headers as node:http lower-cases and joins them. */
  headers: IncomingHttpHeaders
  /** The body decoded as utf8. */
  body: string
  /** The body bytes, base64. */
  bodyBase64: string
}

export interface EchoBackendOptions {
  /** Interface to bind; default 127.0.0.1 (tests and benchmarks stay on loopback). */
  host?: string
  /** Port; default 0, a free one. */
  port?: number
  /** Keep every request in `requests`; default true. The bench server turns it off. */
  record?: boolean
  /**
   * A path answered with `{"requests": N}`, the requests served so far (this one and earlier
   * ones to it not counted): the bench checks that a cache hit never reached the backend.
   */
  countPath?: string
}

export interface EchoBackend {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string
  port: number
  /** Requests in arrival order (when `record` is on), including /hang and /reset ones. */
  requests: EchoedRequest[]
  close(): Promise<void>
}

/** The bench server's countPath. */
export const ECHO_COUNT_PATH = '/__bench/requests'

/** Upstreams keep connections alive longer than the proxies in front of them (undici's 4 s). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000
const HEADER_PREFIX = 'x-echo-header-'

export function startEchoBackend (opts: EchoBackendOptions = {}): Promise<EchoBackend> {
  const host = opts.host ?? '127.0.0.1'
  const record = opts.record ?? true
  const requests: EchoedRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  const countPath = opts.countPath ?? null
  let served = 0

  const server = http.createServer((req, res) => {
    if (countPath !== null && req.url === countPath) {
      req.resume()
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ requests: served }))
      return
    }
    served++
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => { chunks.push(chunk) })
    req.on('end', () => {
      const echoed = describe(req, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
      if (record) requests.push(echoed)
      answer(req, res, echoed)
    })
    req.on('error', () => { /* the client went away; nothing to answer */ })
  })
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000

  function answer (req: IncomingMessage, res: ServerResponse, echoed: EchoedRequest): void {
    if (echoed.path === '/hang') return
    if (echoed.path === '/reset') {
      req.socket.destroy()
      return
    }
    const headers = req.headers
    const delay = Number(headers['x-echo-delay-ms'] ?? 0)
    if (delay > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer)
        send(res, echoed, headers)
      }, delay)
      timers.add(timer)
    } else {
      send(res, echoed, headers)
    }
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject)
      const port = (server.address() as AddressInfo).port
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        port,
        requests,
        close: () => new Promise<void>((resolveClose) => {
          for (const timer of timers) clearTimeout(timer)
          timers.clear()
          server.close(() => { resolveClose() })
          server.closeAllConnections()
        })
      })
    })
  })
}

function describe (req: IncomingMessage, body: Buffer): EchoedRequest {
  const target = req.url ?? '/'
  const q = target.indexOf('?')
  return {
    method: req.method ?? 'GET',
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? '' : target.slice(q + 1),
    headers: req.headers,
    body: body.toString('utf8'),
    bodyBase64: body.toString('base64')
  }
}

function send (res: ServerResponse, echoed: EchoedRequest, headers: IncomingHttpHeaders): void {
  if (res.destroyed) return
  let status = 200
  const wanted = headers['x-echo-status']
  if (wanted !== undefined) {
    const n = Number(wanted)
    if (Number.isInteger(n) && n >= 200 && n <= 599) status = n
  }
  for (const name in headers) {
    if (name.length > HEADER_PREFIX.length && name.startsWith(HEADER_PREFIX)) {
      res.setHeader(name.slice(HEADER_PREFIX.length), headers[name]!)
    }
  }
  res.statusCode = status
  if (status === 204 || status === 304) {
    res.end() // no body allowed
    return
  }
  const payload = JSON.stringify(echoed)
  res.setHeader('content-type', 'application/json')
  res.setHeader('content-length', Buffer.byteLength(payload))
  res.end(payload)
}
