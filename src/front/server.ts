// The front end: copy each request out of uWebSockets.js at once, collect its body, hand
// it to the dispatcher, write the reply when it comes back. It runs on the main thread
// (the dispatcher batches requests to the piscina workers) or, with the per-worker front,
// in each worker (front/worker-front.ts: the dispatcher runs the request in that thread).
import uWS from 'uWebSockets.js'
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js'
import type { ReplyRecord, RequestRecord } from '../pool/protocol.js'
import { MAX_REQUEST_BODY_BYTES } from '../config/model.js'
import { PendingResponse, writeFrontReply, writeReply, type PendingOwner } from './respond.js'
import { FrontCheck, checkRequestHead } from './request-limits.js'
import { IdTable } from '../util/id-table.js'

/** Where the front sends the requests it copied, and names those whose client went away. */
export interface FrontDispatcher {
  submit(record: RequestRecord): void
  /** The client of request `id` has gone: leave it out if not started, cancel its backend exchange if under way. */
  cancel(id: number): void
}

const decoder = new TextDecoder()
/** How often a draining front checks for requests still open. */
const DRAIN_POLL_MS = 20
/** The drain ends once nothing is in flight and no request has come for this long. */
const DRAIN_QUIET_MS = 250
/**
 * A client that takes none of a streaming reply for this long is disconnected (uWebSockets.js
 * times out idle connections after 10 s, but not one with a reply under backpressure).
 */
export const WRITE_STALL_TIMEOUT_MS = 10_000
/** How often stalled replies are looked for. */
const STALL_SWEEP_MS = 1_000

/**
 * The record of a request that runs in the thread whose front received it (the per-worker
 * front): the remote address stays uWebSockets.js's bytes until something asks for its text
 * ($context.identity.sourceIp, X-Forwarded-For, a policy's aws:SourceIp, access logs), which
 * most requests never do. The bytes themselves are copied at once, as res is valid only until
 * the reply ends and access logs read the address after it. Not for a record that crosses
 * threads: structured cloning keeps own data fields only, so the main-thread front sends
 * plain records with the text decoded.
 */
export class LocalRequestRecord implements RequestRecord {
  #remoteAddress: string | null = null
  constructor(
    readonly id: number,
    readonly method: string,
    readonly url: string,
    readonly query: string,
    readonly headers: string[],
    /** res.getRemoteAddressAsText(): a copy, valid after the handler. */
    readonly remoteAddressText: ArrayBuffer,
    /** Set by the body collector before the record is submitted. */
    public body: ArrayBuffer | null,
    public bodyTooLarge: boolean,
    readonly receivedAt: number,
  ) {}

  get remoteAddress(): string {
    if (this.#remoteAddress === null) this.#remoteAddress = decoder.decode(this.remoteAddressText)
    return this.#remoteAddress
  }
}

/** A body collector's finished record: a local one is completed in place, a plain one copied. */
function withBody(record: RequestRecord, body: ArrayBuffer | null, bodyTooLarge: boolean): RequestRecord {
  if (record instanceof LocalRequestRecord) {
    record.body = body
    record.bodyTooLarge = bodyTooLarge
    return record
  }
  return { ...record, body, bodyTooLarge }
}

export interface FrontServerOptions {
  /**
   * The requests run in this thread (the per-worker front): records are LocalRequestRecords.
   * False for the main-thread front, whose records go to workers by structured clone.
   */
  readonly recordsStayInThread: boolean
}

export class FrontServer implements PendingOwner {
  readonly app: TemplatedApp
  /** See FrontServerOptions. */
  readonly #local: boolean
  /** Requests received and not yet answered whole (a streaming reply stays until its last byte). */
  /** Requests not yet answered, by id (not a Map: see IdTable). */
  readonly pending = new IdTable<PendingResponse>()
  dispatcher: FrontDispatcher | null = null
  /** Set once a stop began: every reply closes its connection. */
  draining = false
  #listenSocket: us_listen_socket | null = null
  #nextId = 1
  /** Date.now() of the newest request (the drain waits for a quiet moment). */
  #lastReceivedAt = 0
  // forEach's callback fills this list: one function for all requests, no closure each.
  #headerTarget: string[] = []
  readonly #collectHeader = (k: string, v: string) => {
    this.#headerTarget.push(k, v)
  }
  /** Replies streaming under backpressure, swept for stalled clients. */
  readonly #streaming = new Set<PendingResponse>()
  #stallTimer: NodeJS.Timeout | null = null
  /** A streamed reply has gone out whole. */
  readonly #streamDone = (p: PendingResponse) => {
    this.pending.delete(p.id)
    this.#streaming.delete(p)
  }
  readonly #sweepStalled = () => {
    const now = Date.now()
    // close() runs onAborted, which takes the reply out of the set.
    for (const p of this.#streaming) if (now - p.lastProgress > WRITE_STALL_TIMEOUT_MS) p.res.close()
    if (this.#streaming.size === 0 && this.#stallTimer !== null) {
      clearInterval(this.#stallTimer)
      this.#stallTimer = null
    }
  }

  constructor(options: FrontServerOptions) {
    this.#local = options.recordsStayInThread
    this.app = uWS.App()
    this.app.any('/*', (res, req) => this.#onRequest(res, req))
  }

  /** PendingOwner: the client of `p` has gone (its onAborted ran). */
  responseAborted(p: PendingResponse): void {
    this.pending.delete(p.id)
    this.#streaming.delete(p)
    // Not sent yet: its batch leaves it out; sent: the worker cancels its exchange.
    this.dispatcher!.cancel(p.id)
  }

  #onRequest(res: HttpResponse, req: HttpRequest): void {
    // req is valid only inside this handler: copy everything now.
    const method = req.getCaseSensitiveMethod().toUpperCase()
    const url = req.getUrl()
    const query = req.getQuery() ?? ''
    const headers: string[] = []
    this.#headerTarget = headers
    req.forEach(this.#collectHeader)
    const check = checkRequestHead(method, url, query, headers)
    if (check !== FrontCheck.OK) {
      rejectRequest(res, check)
      return
    }
    const id = this.#nextId++
    const pending = new PendingResponse(id, res, method === 'HEAD', this)
    this.pending.set(id, pending)
    res.onAborted(clientGone.bind(pending))
    const address = res.getRemoteAddressAsText()
    const receivedAt = Date.now()
    this.#lastReceivedAt = receivedAt
    const record: RequestRecord = this.#local
      ? new LocalRequestRecord(id, method, url, query, headers, address, null, false, receivedAt)
      : { id, method, url, query, headers, remoteAddress: decoder.decode(address), body: null, bodyTooLarge: false, receivedAt }

    const lengthHeader = req.getHeader('content-length')
    const chunked = req.getHeader('transfer-encoding') !== ''
    const declared = lengthHeader === '' ? (chunked ? -1 : 0) : Number(lengthHeader)
    if (declared === 0) {
      this.#submit(record)
      return
    }
    new BodyCollector(this, pending, record, declared).attach(res)
  }

  #submit(record: RequestRecord): void {
    this.dispatcher!.submit(record)
  }

  submitWithBody(record: RequestRecord): void {
    this.#submit(record)
  }

  /** Called by the dispatcher for each reply. */
  deliver(reply: ReplyRecord): void {
    const p = this.pending.get(reply.id)
    if (p === undefined) return
    if (writeReply(p, reply, p.closeAfter || this.draining)) {
      this.pending.delete(reply.id)
      return
    }
    p.onDone = this.#streamDone
    this.#streaming.add(p)
    if (this.#stallTimer === null) {
      this.#stallTimer = setInterval(this.#sweepStalled, STALL_SWEEP_MS)
      this.#stallTimer.unref()
    }
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port}`))
          return
        }
        this.#listenSocket = socket
        resolve(uWS.us_socket_local_port(socket))
      })
    })
  }

  /** Stops accepting connections; requests already received keep their chance to finish. */
  stopListening(): void {
    if (this.#listenSocket !== null) uWS.us_listen_socket_close(this.#listenSocket)
    this.#listenSocket = null
  }

  /**
   * The stop's drain: requests on connections already open are still served, and every
   * reply from now on closes its connection. Resolves once no request is in flight (the
   * last reply written whole), or after `ms`.
   */
  async drain(ms: number): Promise<void> {
    this.draining = true
    const until = Date.now() + ms
    // Also wait until no request has come for DRAIN_QUIET_MS: a keep-alive client may have
    // sent its next request just as the last one was answered (it is on the wire, or not
    // yet read), and it gets its answer, with Connection: close, rather than a closed socket.
    for (;;) {
      const now = Date.now()
      if (now >= until || (this.pending.size === 0 && now - this.#lastReceivedAt >= DRAIN_QUIET_MS)) break
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS))
    }
  }

  close(): void {
    this.stopListening()
    if (this.#stallTimer !== null) clearInterval(this.#stallTimer)
    this.#stallTimer = null
    for (const [, p] of this.pending.entries()) if (!p.aborted) p.res.close()
    this.pending.clear()
  }

  /**
   * Closes every connection, idle keep-alive ones too, and the app. A worker must do this
   * before it ends: a worker thread that stops with uWebSockets.js sockets open aborts the
   * whole process (Node's uv_loop_close check; measured with the 20.30 build).
   */
  closeAll(): void {
    this.close()
    ;(this.app as TemplatedApp & { close(): void }).close()
  }
}

/** The front's own answers, each closing the connection (see request-limits.ts). */
function rejectRequest(res: HttpResponse, check: FrontCheck): void {
  switch (check) {
    case FrontCheck.URL_TOO_LONG:
      writeFrontReply(res, 414, 'Request URI too long')
      break
    case FrontCheck.HEADERS_TOO_LARGE:
      writeFrontReply(res, 431, 'Request Header Fields Too Large')
      break
    case FrontCheck.UNKNOWN_TRANSFER_CODING:
      writeFrontReply(res, 501, 'Not Implemented')
      break
    default:
      writeFrontReply(res, 400, 'Bad Request')
  }
}

/** Copies body chunks (valid only inside onData) into one ArrayBuffer. */
class BodyCollector {
  #buf: Uint8Array
  #size = 0
  /** Past MAX_REQUEST_BODY_BYTES: chunks are dropped, and 413 goes out at the end. */
  #draining: boolean
  constructor(
    readonly front: FrontServer,
    readonly pending: PendingResponse,
    readonly record: RequestRecord,
    declared: number,
  ) {
    this.#draining = declared > MAX_REQUEST_BODY_BYTES
    this.#buf = new Uint8Array(this.#draining ? 0 : declared > 0 ? declared : 16 * 1024)
  }

  attach(res: HttpResponse): void {
    // Bound, as onAborted's handler: no closure context beside the collector.
    res.onData(onBodyData.bind(this))
  }

  /** res.onData's handler (bound to this collector). */
  onData(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.pending.aborted) return
    const n = chunk.byteLength
    if (this.#draining || this.#size + n > MAX_REQUEST_BODY_BYTES) {
      // Drop the rest unbuffered; answering before the client has sent it all would make
      // it fail on a broken pipe instead of reading the 413. The worker renders the API's
      // REQUEST_TOO_LARGE gateway response, and the connection closes after it.
      this.#draining = true
      this.#buf = new Uint8Array(0)
      if (!isLast) return
      this.pending.closeAfter = true
      this.front.submitWithBody(withBody(this.record, null, true))
      return
    }
    if (this.#size + n > this.#buf.byteLength) {
      const next = new Uint8Array(Math.min(MAX_REQUEST_BODY_BYTES, Math.max(this.#buf.byteLength * 2, this.#size + n)))
      next.set(this.#buf.subarray(0, this.#size))
      this.#buf = next
    }
    this.#buf.set(new Uint8Array(chunk), this.#size)
    this.#size += n
    if (!isLast) return
    const body = this.#size === 0 ? null : this.#size === this.#buf.byteLength ? (this.#buf.buffer as ArrayBuffer) : (this.#buf.buffer.slice(0, this.#size) as ArrayBuffer)
    this.front.submitWithBody(withBody(this.record, body, false))
  }
}

const clientGone = PendingResponse.prototype.clientGone
const onBodyData = BodyCollector.prototype.onData
