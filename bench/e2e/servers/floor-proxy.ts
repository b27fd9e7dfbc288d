// Scenario server: the floor. The smallest honest reverse proxy in Node — node:http in
// front, an undici Pool behind, hop-by-hop headers dropped, no gateway features.
// Any Node gateway must beat it; Backplane's goal is 2× its req/s at no worse p99.
//
// Maps `/proxy/<rest>` to `<BACKEND_URL>/<rest>` like the bench API's `ANY /proxy/{proxy+}`.
// FLOOR_MODE=stream (the bench's default) lets `pool.stream()` write the upstream body into
// the response; FLOOR_MODE=request pipes `pool.request()`'s body instead, the more common
// idiom but ≈1.7× the CPU per request on the development machine: the floor is the better
// of the two minimal proxies, so that beating it means something.
//   BACKEND_URL=http://127.0.0.1:PORT node dist/bench/e2e/servers/floor-proxy.js

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { pipeline } from 'node:stream'
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'

const HOST = process.env.HOST ?? '127.0.0.1'
const PORT = Number(process.env.PORT ?? 0)
const BACKEND_URL = process.env.BACKEND_URL
if (BACKEND_URL === undefined) {
  console.error('floor-proxy: BACKEND_URL is required')
  process.exit(1)
}
const PREFIX = '/proxy'
const MODE = process.env.FLOOR_MODE ?? 'stream'
/** RFC 9110 §7.6.1 connection-specific fields, plus host (the Pool sets its own). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host'])

const pool = new Pool(BACKEND_URL)

function strip (headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value
  }
  return out
}

function badGateway (res: http.ServerResponse): void {
  if (res.headersSent) {
    res.destroy() // the upstream failed mid-body: cut the response short rather than corrupt it
    return
  }
  res.writeHead(502, { 'content-type': 'application/json' })
  res.end('{"message":"Bad Gateway"}')
}

const server = http.createServer((req, res) => {
  const target = req.url ?? '/'
  const path = target.startsWith(PREFIX + '/') ? target.slice(PREFIX.length) : target
  const method = (req.method ?? 'GET') as Dispatcher.HttpMethod
  const hasBody = method !== 'GET' && method !== 'HEAD'
  if (MODE === 'stream') {
    pool.stream({ method, path, headers: strip(req.headers), body: hasBody ? req : null }, (upstream) => {
      res.writeHead(upstream.statusCode, strip(upstream.headers as IncomingHttpHeaders) as OutgoingHttpHeaders)
      return res
    }).catch(() => { badGateway(res) })
    return
  }
  pool.request({ method, path, headers: strip(req.headers), body: hasBody ? req : null }).then(
    (upstream) => {
      res.writeHead(upstream.statusCode, strip(upstream.headers as IncomingHttpHeaders) as OutgoingHttpHeaders)
      pipeline(upstream.body, res, () => {})
    },
    () => { badGateway(res) }
  )
})
server.keepAliveTimeout = 65_000

server.listen(PORT, HOST, () => {
  console.log(`floor-proxy listening on http://${HOST}:${(server.address() as AddressInfo).port}`)
})

async function shutdown (): Promise<void> {
  server.closeAllConnections()
  server.close()
  await pool.destroy()
  process.exit(0)
}
process.on('SIGTERM', () => { void shutdown() })
process.on('SIGINT', () => { void shutdown() })
