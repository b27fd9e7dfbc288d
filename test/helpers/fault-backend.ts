// startFaultBackend(): a loopback upstream that misbehaves on request, for the reliability
// suite. Paths (the query string steers sizes and delays):
//   /ok                   200 {"ok":true}
//   /bytes?n=N            200 with exactly N bytes (Content-Length)
//   /delay?ms=N           200 {"ok":true} after N ms
//   /endless              200, chunked, 64 KB chunks until the gateway hangs up
//   /huge-declared?mb=N   200 with Content-Length N MB, the body streamed until the gateway hangs up
//   /garbage              bytes that are not HTTP, then close
//   /reset                the socket destroyed as soon as the request arrived
//   /hang                 never answered
// Every request is recorded with its x-request-tag header and whether the gateway closed
// the connection before the answer was complete (`abandoned`).

import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { writeApi, UNTHROTTLED, type TestdirOwner } from './api.js'
import { startGateway, type Gateway } from './gateway.js'

export interface FaultRequest {
  path: string
  /** The x-request-tag header, '' when absent. */
  tag: string
  /** The gateway closed the connection before the whole answer went out. */
  abandoned: boolean
  /** Bytes of body written before the answer ended or was abandoned. */
  written: number
}

export interface FaultBackend {
  url: string
  port: number
  requests: FaultRequest[]
  close(): Promise<void>
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61)

/**
 * Writes `left` bytes of 64 KB chunks to `res`, then ends it (Infinity: until the client hangs
 * up), honouring backpressure; counts what went out in `rec.written`.
 */
export function streamBytes (res: http.ServerResponse, left: number, rec: { written: number }): void {
  while (left > 0 && !res.destroyed) {
    const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
    left -= chunk.length
    rec.written += chunk.length
    if (!res.write(chunk)) {
      res.once('drain', () => streamBytes(res, left, rec))
      return
    }
  }
  if (left <= 0 && !res.destroyed) res.end()
}

export async function startFaultBackend (): Promise<FaultBackend> {
  const requests: FaultRequest[] = []
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const rec: FaultRequest = { path: url.pathname, tag: String(req.headers['x-request-tag'] ?? ''), abandoned: false, written: 0 }
    requests.push(rec)
    res.on('close', () => { if (!res.writableFinished) rec.abandoned = true })
    req.resume()
    const stream = (left: number): void => streamBytes(res, left, rec)
    switch (url.pathname) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
        return
      case '/bytes': {
        const n = Number(url.searchParams.get('n'))
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) })
        stream(n)
        return
      }
      case '/delay': {
        const timer = setTimeout(() => {
          timers.delete(timer)
          if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
        }, Number(url.searchParams.get('ms')))
        timers.add(timer)
        return
      }
      case '/endless':
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        stream(Infinity)
        return
      case '/huge-declared': {
        const n = Number(url.searchParams.get('mb')) * 1024 * 1024
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) })
        stream(n)
        return
      }
      case '/garbage':
        req.socket.end('NOT HTTP AT ALL\r\n\u0000\u0001\r\n\r\n')
        return
      case '/reset':
        req.socket.destroy()
        return
      case '/hang':
        return
      default:
        res.writeHead(404).end()
    }
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer)
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  }
}

/** An API that proxies every path of the `test` stage to `${stageVariables.backend}`. */
export function proxyApi (timeoutMs = 29_000): object {
  return {
    openapi: '3.0.1',
    info: { title: 'reliability', version: '1' },
    paths: {
      '/{proxy+}': {
        'x-amazon-apigateway-any-method': {
          parameters: [{ name: 'proxy', in: 'path', required: true, schema: { type: 'string' } }],
          'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'ANY', uri: '${stageVariables.backend}/{proxy}', timeoutInMillis: timeoutMs }
        }
      }
    }
  }
}

export interface FaultProxyOptions {
  /** The integration's timeoutInMillis (proxyApi's default when absent). */
  timeoutMs?: number
  /** The gateway's --workers (default 1). */
  workers?: number
}

/** A fault backend and a gateway proxying its `test` stage to it (proxyApi); both stopped by `t`'s teardown. */
export async function startFaultProxy (t: TestdirOwner & { teardown(fn: () => unknown): void }, opts: FaultProxyOptions = {}): Promise<{ backend: FaultBackend, gw: Gateway }> {
  const backend = await startFaultBackend()
  t.teardown(() => backend.close())
  // Loss and duplication are measured, not throttling (429s are never forwarded).
  const unthrottled = writeApi(t, { throttling: UNTHROTTLED }, 'gateway.json')
  const gw = await startGateway({ args: [writeApi(t, proxyApi(opts.timeoutMs)), '--config', unthrottled, '--stage-var', `backend=${backend.url}`, '--workers', String(opts.workers ?? 1)] })
  t.teardown(() => gw.stop())
  return { backend, gw }
}
