// HTTP/2 cleartext (h2c, prior knowledge) sessions to gRPC backends: one node:http2 client
// session per origin per worker, kept open and shared by every call (HTTP/2 multiplexes
// them), replaced after the backend's GOAWAY or a close. The handlers are module
// functions: nothing here allocates a closure per call.
//
// Why node:http2 and not undici: undici 7.30 does speak h2c (H2CClient, `useH2c`: prior
// knowledge over cleartext, checked in node_modules/undici/lib/dispatcher/h2c-client.js),
// but its HTTP/2 path (client-h2.js) is itself a layer over node:http2 that allocates about
// half a dozen closures and a parsed header object per stream, on top of undici's own
// request object; driving node:http2 directly does less per call and keeps the session's
// GOAWAY and close in the gateway's hands. undici stays the client of HTTP/1.1 backends
// (grpc: false).
import { connect, constants, type ClientHttp2Session } from 'node:http2'

/** The peer's SETTINGS decide the rest; push is never wanted from a backend. */
const SESSION_OPTIONS = Object.freeze({ settings: Object.freeze({ enablePush: false }) })

const kOrigin = Symbol('origin')

interface PooledSession extends ClientHttp2Session {
  [kOrigin]: string
}

const sessions = new Map<string, PooledSession>()

function forget(session: PooledSession): void {
  if (sessions.get(session[kOrigin]) === session) sessions.delete(session[kOrigin])
}

/** The streams report the error too (as their cause); the session only leaves the pool. */
function onSessionError(this: PooledSession): void {
  forget(this)
}

/** GOAWAY: no new streams on this session; those in flight finish, the next call connects anew. */
function onSessionGoaway(this: PooledSession): void {
  forget(this)
  if (!this.closed) this.close()
}

function onSessionClose(this: PooledSession): void {
  forget(this)
}

/** The live session to `origin` ('http://host:port'), connecting when there is none. */
export function sessionFor(origin: string): ClientHttp2Session {
  const known = sessions.get(origin)
  if (known !== undefined && !known.closed && !known.destroyed) return known
  const session = connect(origin, SESSION_OPTIONS) as PooledSession
  session[kOrigin] = origin
  session.on('error', onSessionError)
  session.on('goaway', onSessionGoaway)
  session.on('close', onSessionClose)
  sessions.set(origin, session)
  return session
}

export function closeGrpcSessions(): void {
  for (const s of sessions.values()) s.destroy()
  sessions.clear()
}

export const CANCEL = constants.NGHTTP2_CANCEL
