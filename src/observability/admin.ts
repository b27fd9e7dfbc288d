// The admin listener (off unless configured): /metrics in Prometheus' text format,
// /health (the process answers), /ready (every worker has compiled the configuration).
// node:http on the main thread: scrapes are rare, and none of this touches the front.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ObservabilityHub } from './hub.js'

/** Prometheus' text exposition format, version 0.0.4. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export interface AdminListener {
  readonly port: number
  readonly url: string
  close(): Promise<void>
}

/** What `POST /cache/flush?api=&stage=` calls (response-cache/memory.ts): null when flushed, else why not. */
export interface StageCacheFlusher {
  flush(apiId: string, stage: string): Promise<string | null>
}

export function startAdminListener(hub: ObservabilityHub, host: string, port: number, caches: StageCacheFlusher | null = null): Promise<AdminListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    // FlushStageCache for `backplane cache flush` (src/response-cache/flush.ts).
    if (path === '/cache/flush' && req.method === 'POST' && caches !== null) {
      const q = new URL(req.url ?? '/', 'http://admin').searchParams
      caches.flush(q.get('api') ?? '', q.get('stage') ?? '').then(
        (why) => (why === null ? res.writeHead(202, { 'content-type': 'text/plain' }).end('flushed\n') : res.writeHead(404, { 'content-type': 'text/plain' }).end(`${why}\n`)),
        (err: unknown) => res.writeHead(503, { 'content-type': 'text/plain' }).end(`flush failed: ${(err as Error).message}\n`),
      )
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n')
      return
    }
    switch (path) {
      case '/metrics':
        hub.scrape().then(
          (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(req.method === 'HEAD' ? undefined : text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${(err as Error).message}\n`),
        )
        return
      case '/health':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
        return
      case '/ready':
        if (hub.ready()) res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n')
        else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${hub.readyWorkers()} workers have compiled the configuration\n`)
        return
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics, /health, /ready\n')
    }
  })
  server.keepAliveTimeout = 5000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const actual = (server.address() as AddressInfo).port
      resolve({
        port: actual,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections()
          server.close(() => r())
        }),
      })
    })
  })
}
