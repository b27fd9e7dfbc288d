// Backend connections, one pool per origin per worker, keep-alive. Plain-HTTP origins use
// the gateway's own HTTP/1.1 client (http1/pool.ts: about half undici's CPU per request,
// see the upstream bench); TLS origins and integrations with a tlsConfig use an undici
// Pool reached with dispatch() and a handler object (DESIGN.md: ≈94 k GETs/s from one
// thread, against ≈65 k for request()). Nothing here allocates a closure per request.
import { Pool } from 'undici'
import type { Dispatcher } from 'undici'
import { Http1Pool } from './http1/pool.js'
import { IdTable } from '../util/id-table.js'

/**
 * API Gateway's cap on what an integration answers: "Integration response of reported
 * length N is larger than allowed maximum of 10485760 bytes" (a configuration error: 500).
 */
export const MAX_INTEGRATION_RESPONSE_BYTES = 10 * 1024 * 1024

/** Connections per origin per worker: enough for 2 cores to saturate a loopback backend. */
export const UPSTREAM_CONNECTIONS = 64
/** Requests pipelined on one upstream connection (1 = none; see DESIGN.md). */
export const UPSTREAM_PIPELINING = 1
export const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000
export const UPSTREAM_KEEP_ALIVE_MS = 4_000

/** API Gateway's default integration timeout, undici's header and body timeouts when none is given. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 29_000

const pools = new Map<string, Pool>()
const http1Pools = new Map<string, Http1Pool>()

/**
 * BACKPLANE_UPSTREAM_CLIENT=undici sends plain-HTTP backends through undici as well (to
 * compare the two clients in one build; read once per worker).
 */
const USE_HTTP1 = process.env.BACKPLANE_UPSTREAM_CLIENT !== 'undici'

/** The gateway's own client for a plain-HTTP origin ('http://host[:port]'), or null (https: stays on undici). */
export function http1PoolFor(origin: string): Http1Pool | null {
  let pool = http1Pools.get(origin)
  if (pool === undefined) {
    if (!USE_HTTP1 || !origin.startsWith('http://')) return null
    pool = new Http1Pool(origin, { connections: UPSTREAM_CONNECTIONS, connectTimeoutMs: UPSTREAM_CONNECT_TIMEOUT_MS, keepAliveMs: UPSTREAM_KEEP_ALIVE_MS })
    http1Pools.set(origin, pool)
  }
  return pool
}

/** Something under way for a request that can be stopped once its client has gone. */
export interface Cancellable {
  cancel(): void
}

/** Exchanges in flight in this worker, by request id (RequestRecord.id); not a Map: see IdTable. */
const inflight = new IdTable<Cancellable>()

export function trackExchange(id: number, exchange: Cancellable): void {
  inflight.set(id, exchange)
}

export function untrackExchange(id: number): void {
  inflight.delete(id)
}

/** The exchange in flight for request `id`, or null (exported for its test). */
export function trackedExchange(id: number): Cancellable | null {
  return inflight.get(id) ?? null
}

/** The front's abort slots (pool/protocol.ts ABORT_SLOTS), once the worker has installed them. */
let abortFlags: Int32Array | null = null
let abortMask = 0

/** The worker hands over the slots shared with the front. */
export function setAbortFlags(flags: Int32Array): void {
  abortFlags = flags
  abortMask = flags.length - 1
}

/**
 * Whether request `id`'s client has gone. Checked again just before a backend call: a
 * request that waited (an authorizer, a template) must not go out once nobody waits for it.
 */
export function clientGone(id: number): boolean {
  return abortFlags !== null && Atomics.load(abortFlags, id & abortMask) === (id | 0)
}

/** The front says request `id`'s client has gone: stop its exchange (no-op when none runs here). */
export function cancelExchange(id: number): void {
  const exchange = trackedExchange(id)
  if (exchange === null) return
  untrackExchange(id)
  exchange.cancel()
}

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
      // Each exchange sets both to its integration timeout (HttpExchange); the caller's
      // timer also bounds the whole exchange. These are the defaults for any other use.
      headersTimeout: DEFAULT_UPSTREAM_TIMEOUT_MS,
      bodyTimeout: DEFAULT_UPSTREAM_TIMEOUT_MS,
    })
    pools.set(key, pool)
  }
  return pool
}

export async function closeUpstreams(): Promise<void> {
  for (const pool of http1Pools.values()) pool.close()
  http1Pools.clear()
  const all = [...pools.values()]
  pools.clear()
  await Promise.all(all.map((p) => p.destroy()))
}

export type { Dispatcher }
