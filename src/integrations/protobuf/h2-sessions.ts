// HTTP/2 cleartext (h2c, prior knowledge) sessions to gRPC backends: one node:http2 client
// session per origin per worker, kept open and shared by every call (HTTP/2 multiplexes
// them), replaced after the backend's GOAWAY or a close, and pinged while idle so that a
// dead connection is found and dropped before a call is lost on it. The handlers are module
// functions: nothing here allocates a closure per call.
//
// Why node:http2 and not undici: undici 7.30 does speak h2c (H2CClient, `useH2c`: prior
// knowledge over cleartext, checked in node_modules/undici/lib/dispatcher/h2c-client.js),
// but its HTTP/2 path (client-h2.js) is itself a layer over node:http2 that allocates about
// half a dozen closures and a parsed header object per stream, on top of undici's own
// request object; driving node:http2 directly does less per call and keeps the session's
// GOAWAY and close in the gateway's hands. undici stays the client of HTTP/1.1 backends
// (grpc: false).
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2'
import { connect as connectTcp, type Socket } from 'node:net'

/**
 * The session's TCP connection, with Nagle's algorithm off (TCP_NODELAY, as undici and uWS
 * set theirs): node:http2 leaves it on, and then a call's small HEADERS+DATA write waits for
 * the ACK of the previous write, which a peer's delayed ACK holds back (up to 40 ms on Linux).
 */
function connectNoDelay(url: URL): Socket {
  const host = url.hostname.charCodeAt(0) === 91 ? url.hostname.slice(1, -1) : url.hostname
  return connectTcp({ host, port: url.port === '' ? 80 : Number(url.port), noDelay: true })
}

/** The peer's SETTINGS decide the rest; push is never wanted from a backend. */
const SESSION_OPTIONS = Object.freeze({ settings: Object.freeze({ enablePush: false }), createConnection: connectNoDelay })

/**
 * Keepalive: a session that started no call for this long is sent an HTTP/2 PING. Five
 * minutes is the shortest interval gRPC servers accept from a client without calls by
 * default (gRPC core's min_recv_ping_interval_without_data, grpc-go's EnforcementPolicy
 * MinTime): pinging more often earns a GOAWAY "too_many_pings" from them.
 */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 300_000
/** A PING unanswered for this long means the connection is dead: the session is dropped (gRPC's default keepalive timeout). */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000

/** A non-negative integer of milliseconds from the environment, else the default (0 turns keepalive off). */
function envMs(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (Number.isInteger(n) && n >= 0) return n
  console.error(`${name}=${JSON.stringify(raw)} is not a number of milliseconds: ${fallback} is used`)
  return fallback
}

/** BACKPLANE_GRPC_KEEPALIVE_INTERVAL_MS (0: no pings) and BACKPLANE_GRPC_KEEPALIVE_TIMEOUT_MS, read once per worker. */
const KEEPALIVE_INTERVAL_MS = envMs('BACKPLANE_GRPC_KEEPALIVE_INTERVAL_MS', DEFAULT_KEEPALIVE_INTERVAL_MS)
const KEEPALIVE_TIMEOUT_MS = envMs('BACKPLANE_GRPC_KEEPALIVE_TIMEOUT_MS', DEFAULT_KEEPALIVE_TIMEOUT_MS)

const kOrigin = Symbol('origin')
const kGoawayLast = Symbol('goawayLastStreamId')
const kCalls = Symbol('calls')
const kCallsAtTick = Symbol('callsAtTick')
const kKeepalive = Symbol('keepalive')
const kPingDeadline = Symbol('pingDeadline')

interface PooledSession extends ClientHttp2Session {
  [kOrigin]: string
  /** The last-stream-id of the backend's GOAWAY, -1 before one: streams above it were never processed. */
  [kGoawayLast]: number
  /** Calls started on the session; a keepalive tick that sees the same count as the last one finds it idle. */
  [kCalls]: number
  [kCallsAtTick]: number
  /** The keepalive interval, or null (off, or closed). */
  [kKeepalive]: NodeJS.Timeout | null
  /** The deadline of the PING in flight, or null. */
  [kPingDeadline]: NodeJS.Timeout | null
}

const sessions = new Map<string, PooledSession>()

function forget(session: PooledSession): void {
  if (sessions.get(session[kOrigin]) === session) sessions.delete(session[kOrigin])
}

function stopKeepalive(session: PooledSession): void {
  if (session[kKeepalive] !== null) clearInterval(session[kKeepalive])
  if (session[kPingDeadline] !== null) clearTimeout(session[kPingDeadline])
  session[kKeepalive] = null
  session[kPingDeadline] = null
}

/** The streams report the error too (as their cause); the session only leaves the pool. */
function onSessionError(this: PooledSession): void {
  forget(this)
}

/**
 * GOAWAY: no new streams on this session; those up to its last-stream-id finish, those above
 * it were not processed (GrpcExchange retries them once, wasNotProcessed), the next call
 * connects anew.
 */
function onSessionGoaway(this: PooledSession, _code: number, lastStreamId: number): void {
  this[kGoawayLast] = lastStreamId
  forget(this)
  stopKeepalive(this)
  if (!this.closed) this.close()
}

function onSessionClose(this: PooledSession): void {
  forget(this)
  stopKeepalive(this)
}

function onKeepaliveTick(session: PooledSession): void {
  if (session[kCalls] !== session[kCallsAtTick]) {
    session[kCallsAtTick] = session[kCalls]
    return
  }
  if (session[kPingDeadline] !== null || session.closed || session.destroyed) return
  // One closure per ping (once per idle interval), none per call.
  const sent = session.ping((err) => {
    if (session[kPingDeadline] !== null) clearTimeout(session[kPingDeadline])
    session[kPingDeadline] = null
    if (err !== null) dropDead(session, `PING failed: ${err.message}`)
  })
  if (!sent) return
  session[kPingDeadline] = setTimeout(onPingTimeout, KEEPALIVE_TIMEOUT_MS, session)
  session[kPingDeadline].unref()
}

function onPingTimeout(session: PooledSession): void {
  session[kPingDeadline] = null
  dropDead(session, `no answer to a keepalive PING in ${KEEPALIVE_TIMEOUT_MS} ms`)
}

/** A session found dead: out of the pool and destroyed; the next call connects anew. */
function dropDead(session: PooledSession, reason: string): void {
  if (session.destroyed) return
  console.error(`gRPC ${session[kOrigin]}: ${reason}: the session is dropped`)
  forget(session)
  stopKeepalive(session)
  session.destroy()
}

/** The live session to `origin` ('http://host:port'), connecting when there is none. */
export function sessionFor(origin: string): ClientHttp2Session {
  let session = sessions.get(origin)
  if (session === undefined || session.closed || session.destroyed) {
    session = connect(origin, SESSION_OPTIONS) as PooledSession
    session[kOrigin] = origin
    session[kGoawayLast] = -1
    session[kCalls] = 0
    session[kCallsAtTick] = 0
    session[kKeepalive] = null
    session[kPingDeadline] = null
    session.on('error', onSessionError)
    session.on('goaway', onSessionGoaway)
    session.on('close', onSessionClose)
    if (KEEPALIVE_INTERVAL_MS > 0) {
      session[kKeepalive] = setInterval(onKeepaliveTick, KEEPALIVE_INTERVAL_MS, session)
      session[kKeepalive].unref()
    }
    sessions.set(origin, session)
  }
  session[kCalls]++
  return session
}

/**
 * The backend never processed this stream, so the call may be sent again: it was refused
 * (RST_STREAM REFUSED_STREAM), or the session's GOAWAY named a lower last-stream-id, or it
 * never left (the session went away while connecting). RFC 9113 §8.7 (§8.1.4 of RFC 7540).
 */
export function wasNotProcessed(session: ClientHttp2Session, stream: ClientHttp2Stream): boolean {
  if (stream.rstCode === constants.NGHTTP2_REFUSED_STREAM) return true
  const last = (session as PooledSession)[kGoawayLast]
  if (last === undefined || last < 0) return false
  return stream.id === undefined || stream.id > last
}

export function closeGrpcSessions(): void {
  for (const s of sessions.values()) {
    stopKeepalive(s)
    s.destroy()
  }
  sessions.clear()
}

export const CANCEL = constants.NGHTTP2_CANCEL
