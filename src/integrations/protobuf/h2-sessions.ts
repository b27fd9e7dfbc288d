// HTTP/2 cleartext (h2c, prior knowledge) sessions to gRPC backends: one session of the
// gateway's own client (h2/session.ts) per origin per worker, kept open and shared by every
// call (HTTP/2 multiplexes them), replaced after the backend's GOAWAY, a close or stream id
// exhaustion, and pinged while idle so that a dead connection is found and dropped before a
// call is lost on it. Nothing here allocates per call.
import { H2Session, type H2Call, type H2SessionOwner } from './h2/session.js'

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

const PING_PAYLOAD = Buffer.from('bkplane\0', 'latin1')

const sessions = new Map<string, PooledSession>()

/** The pool's owner hook: a session that leaves service (GOAWAY, close, ids exhausted) is forgotten. */
const POOL: H2SessionOwner = {
  sessionGone(session: H2Session): void {
    const s = session as PooledSession
    if (sessions.get(s.origin) === s) sessions.delete(s.origin)
    s.stopKeepalive()
  },
}

class PooledSession extends H2Session {
  /** Calls started at the last keepalive tick: the same count at the next one means idle. */
  startedAtTick = 0
  keepalive: NodeJS.Timeout | null = null
  /** The deadline of the PING in flight, or null. */
  pingDeadline: NodeJS.Timeout | null = null

  constructor(origin: string) {
    super(origin, undefined, POOL)
    if (KEEPALIVE_INTERVAL_MS > 0) {
      this.keepalive = setInterval(onKeepaliveTick, KEEPALIVE_INTERVAL_MS, this)
      this.keepalive.unref()
    }
  }

  override onPingAck(_payload: Buffer): void {
    if (this.pingDeadline !== null) clearTimeout(this.pingDeadline)
    this.pingDeadline = null
  }

  stopKeepalive(): void {
    if (this.keepalive !== null) clearInterval(this.keepalive)
    if (this.pingDeadline !== null) clearTimeout(this.pingDeadline)
    this.keepalive = null
    this.pingDeadline = null
  }
}

function onKeepaliveTick(session: PooledSession): void {
  if (session.started !== session.startedAtTick) {
    session.startedAtTick = session.started
    return
  }
  if (session.pingDeadline !== null || session.closed) return
  session.ping(PING_PAYLOAD)
  session.pingDeadline = setTimeout(onPingTimeout, KEEPALIVE_TIMEOUT_MS, session)
  session.pingDeadline.unref()
}

function onPingTimeout(session: PooledSession): void {
  session.pingDeadline = null
  if (session.closed) return
  console.error(`gRPC ${session.origin}: no answer to a keepalive PING in ${KEEPALIVE_TIMEOUT_MS} ms: the session is dropped`)
  session.destroy(null)
}

/** Sends `call` on the live session to `origin` ('http://host:port'), connecting when there is none. */
export function startCall(origin: string, call: H2Call): void {
  let session = sessions.get(origin)
  if (session === undefined || !session.usable) {
    session = new PooledSession(origin)
    sessions.set(origin, session)
  }
  session.submit(call)
}

export function closeGrpcSessions(): void {
  for (const s of [...sessions.values()]) s.destroy(null)
  sessions.clear()
}
