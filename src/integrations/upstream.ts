// Backend connections: one undici Pool per origin per worker, keep-alive, reached with
// dispatch() and a handler object (DESIGN.md: ≈94 k GETs/s from one thread, against
// ≈65 k for request()). Nothing here allocates a closure per request.
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'

/** Connections per origin per worker: enough for 2 cores to saturate a loopback backend. */
export const UPSTREAM_CONNECTIONS = 64
/** Requests pipelined on one upstream connection (1 = none; see DESIGN.md). */
export const UPSTREAM_PIPELINING = 1
export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000
export const UPSTREAM_KEEP_ALIVE_MS = 4_000

const pools = new Map<string, Pool>()

/** tlsConfig of an integration: whether to verify the certificate, and the name to verify (SNI). */
export interface PoolTls {
  readonly rejectUnauthorized: boolean
  readonly servername: string | null
}

/** The pool for an origin; integrations with their own tlsConfig get pools of their own. */
export function poolFor(origin: string, tls: PoolTls | null = null): Pool {
  const key = tls === null ? origin : `${origin} ${tls.rejectUnauthorized ? 'verify' : 'insecure'} ${tls.servername ?? ''}`
  let pool = pools.get(key)
  if (pool === undefined) {
    const connect: { timeout: number; rejectUnauthorized?: boolean; servername?: string } = { timeout: UPSTREAM_CONNECT_TIMEOUT_MS }
    if (tls !== null) {
      connect.rejectUnauthorized = tls.rejectUnauthorized
      if (tls.servername !== null) connect.servername = tls.servername
    }
    pool = new Pool(origin, {
      connections: UPSTREAM_CONNECTIONS,
      pipelining: UPSTREAM_PIPELINING,
      connect,
      keepAliveTimeout: UPSTREAM_KEEP_ALIVE_MS,
      // The integration timeout is enforced by the caller over the whole exchange.
      headersTimeout: 0,
      bodyTimeout: 0,
    })
    pools.set(key, pool)
  }
  return pool
}

export async function closeUpstreams(): Promise<void> {
  const all = [...pools.values()]
  pools.clear()
  await Promise.all(all.map((p) => p.destroy()))
}

export type { Dispatcher }
