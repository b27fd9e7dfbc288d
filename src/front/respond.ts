// Writes replies to uWebSockets.js responses. Every write happens in a later tick than
// the request, so it is corked (one syscall per response, DESIGN.md invariants).
//
// Backpressure: a body past STREAM_THRESHOLD_BYTES goes out with tryEnd(), as much as the
// socket takes, and the rest from onWritable as the client reads. The reply's one buffer
// is all that is held for a client that does not read; the front closes such a connection
// once it has taken nothing for WRITE_STALL_TIMEOUT_MS (server.ts), which aborts it.
import type { HttpResponse } from 'uWebSockets.js'
import { STATUS_CODES } from 'node:http'
import type { ReplyRecord } from '../pool/protocol.js'

/** "200 OK" etc., built once. */
const STATUS_LINES: string[] = []
for (let s = 100; s < 600; s++) STATUS_LINES[s] = `${s} ${STATUS_CODES[s] ?? 'Unknown'}`

/**
 * Bodies up to this size are handed to end() whole (it copies them into the socket's
 * buffer, one syscall); larger ones are streamed with tryEnd() under backpressure.
 */
export const STREAM_THRESHOLD_BYTES = 64 * 1024

/** Who keeps the pending responses (the front): told of each one whose client went away. */
export interface PendingOwner {
  responseAborted(p: PendingResponse): void
}

/** A response still waiting for its reply, or still writing a large one. */
export class PendingResponse {
  aborted = false
  /** Close the connection after the reply (a request body left unread, a stop under way). */
  closeAfter = false
  /** The body being streamed under backpressure, or null. */
  streaming: Uint8Array | null = null
  /** res.getWriteOffset() when the body started, so onWritable knows how much went out. */
  streamStart = 0
  /** Date.now() when the client last took some of a streaming body. */
  lastProgress = 0
  /** Called once the reply has gone out whole (or the client went away). */
  onDone: ((p: PendingResponse) => void) | null = null
  constructor(
    /** RequestRecord.id of the request this answers. */
    readonly id: number,
    readonly res: HttpResponse,
    /** HEAD answers carry the length but no body. */
    readonly isHead: boolean,
    /** Told when the client goes away before the reply is out whole. */
    readonly owner: PendingOwner,
  ) {}

  /**
   * res.onAborted's handler, bound to this response (PendingResponse.prototype.clientGone.bind):
   * uWebSockets.js calls it with no argument and no `this`, on a response object it makes
   * per request, so one function per request is the API's price; a bound method is the
   * cheapest (no closure context), and the front's handler is shared.
   */
  clientGone(): void {
    this.abort()
    this.owner.responseAborted(this)
  }

  /** uWebSockets.js says the socket can take more: continue the body where it stopped. */
  writable(offset: number): boolean {
    const body = this.streaming
    if (body === null || this.aborted) return true
    this.lastProgress = Date.now()
    const [ok, done] = this.res.tryEnd(body.subarray(offset - this.streamStart), body.byteLength)
    if (done) this.#finish()
    return ok
  }

  /** The client went away: drop the body being streamed, if any. */
  abort(): void {
    this.aborted = true
    this.streaming = null
  }

  #finish(): void {
    this.streaming = null
    this.onDone?.(this)
  }
}

// cork() runs its callback synchronously: these carry the arguments without a closure.
let curPending: PendingResponse | null = null
let curReply: ReplyRecord | null = null
let curClose = false
/** Set by writeCorked: the whole reply went out (false while a body streams). */
let curDone = true

function writeCorked(): void {
  const p = curPending!
  const res = p.res
  const reply = curReply!
  res.writeStatus(STATUS_LINES[reply.status] ?? `${reply.status} Unknown`)
  const h = reply.headers
  for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i]!, h[i + 1]!)
  const body = reply.body
  if (p.isHead) {
    res.endWithoutBody(body === null ? 0 : body.byteLength, curClose)
    return
  }
  // tryEnd() cannot close the connection after it: a closing reply is copied whole by end().
  if (body === null || body.byteLength <= STREAM_THRESHOLD_BYTES || curClose) {
    res.end(body === null ? '' : body, curClose)
    return
  }
  p.streamStart = res.getWriteOffset()
  const [, done] = res.tryEnd(body, body.byteLength)
  if (done) return
  p.streaming = body
  p.lastProgress = Date.now()
  // A handler only for the few replies that stream (uWebSockets.js passes it the offset, no
  // response): small replies, nearly all of them, allocate none.
  res.onWritable((offset) => p.writable(offset))
  curDone = false
}

/** Writes the reply; returns false while the body is still streaming (PendingResponse.onDone follows). */
export function writeReply(p: PendingResponse, reply: ReplyRecord, closeConnection = false): boolean {
  if (p.aborted) return true
  curPending = p
  curReply = reply
  curClose = closeConnection
  curDone = true
  p.res.cork(writeCorked)
  curPending = null
  curReply = null
  return curDone
}

/** An answer the front gives itself (before any worker sees the request), closing the connection. */
export function writeFrontReply(res: HttpResponse, status: number, message: string): void {
  res.writeStatus(STATUS_LINES[status] ?? `${status} Unknown`)
  res.writeHeader('Content-Type', 'application/json')
  res.end(`{"message":"${message}"}`, true)
}
