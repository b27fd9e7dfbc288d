// The gateway's own HTTP/2 client connection (RFC 9113) for gRPC unary calls over h2c
// (prior knowledge), over a net.Socket with TCP_NODELAY. Why not node:http2: its
// ClientHttp2Session.request() makes an AsyncResource, binds a callback and defines
// deprecate()d accessors per stream, builds a ClientHttp2Stream and emits five events per
// call (≈ 16 % of a worker on the gRPC bench route); undici's H2CClient calls the same
// request(). Here a call is one object (an H2Call subclass) that the session drives with
// method calls: no closure, no event, no stream object per call, and the frames of a turn
// go out in one socket write.
//
// What a unary client needs, and no more: the preface and SETTINGS exchange, HEADERS with
// CONTINUATION, DATA under connection and stream flow control both ways, RST_STREAM, PING,
// GOAWAY, SETTINGS_MAX_CONCURRENT_STREAMS (calls wait in a queue), stream id exhaustion
// (the session drains and the pool opens another). No server push (disabled in our
// SETTINGS), no priorities (PRIORITY frames are read and ignored).
import { connect as connectTcp, type Socket } from 'node:net'
import { HpackDecoder, HpackError } from './hpack.js'
import { IdTable } from '../../../util/id-table.js'

// Frame types (RFC 9113 §6).
const DATA = 0x0
const HEADERS = 0x1
const PRIORITY = 0x2
const RST_STREAM = 0x3
const SETTINGS = 0x4
const PUSH_PROMISE = 0x5
const PING = 0x6
const GOAWAY = 0x7
const WINDOW_UPDATE = 0x8
const CONTINUATION = 0x9
// Flags.
const END_STREAM = 0x1
const ACK = 0x1
const END_HEADERS = 0x4
const PADDED = 0x8
const PRIORITY_FLAG = 0x20
// SETTINGS identifiers (§6.5.2).
const SETTINGS_HEADER_TABLE_SIZE = 0x1
const SETTINGS_ENABLE_PUSH = 0x2
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4
const SETTINGS_MAX_FRAME_SIZE = 0x5
// Error codes (§7).
export const NO_ERROR = 0x0
export const PROTOCOL_ERROR = 0x1
export const INTERNAL_ERROR = 0x2
export const FLOW_CONTROL_ERROR = 0x3
export const FRAME_SIZE_ERROR = 0x6
export const REFUSED_STREAM = 0x7
export const CANCEL = 0x8
export const COMPRESSION_ERROR = 0x9
const ERROR_NAMES = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
]
/** nghttp2's names (NGHTTP2_INTERNAL_ERROR …), as node:http2's messages and the logs have them. */
export function errorName(code: number): string {
  return `NGHTTP2_${ERROR_NAMES[code] ?? `UNKNOWN_${code}`}`
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const DEFAULT_WINDOW = 65_535
const MAX_WINDOW = 2 ** 31 - 1
const DEFAULT_MAX_FRAME = 16_384
const MAX_STREAM_ID = 2 ** 31 - 1
/**
 * Resets this session sends before it takes no new calls (they go to a fresh session; its
 * open streams finish). Node's HTTP/2 server, and so @grpc/grpc-js, ends a connection after
 * about 1,000 resets from its peer (its guard against "rapid reset", CVE-2023-44487), failing
 * every call still on it; the gateway resets a call whose client left, that timed out, or
 * whose answer passed 10 MB, so many leaving clients would otherwise meet that guard.
 */
export const MAX_RESETS_PER_SESSION = 500
/**
 * The largest header block (HEADERS and its CONTINUATIONs) and decoded header list an answer
 * may carry; past either the session ends with a protocol error, its calls failed (502). As
 * generous as undici's 16 KB HTTP/1.1 head ×4; without a bound a backend sending CONTINUATION
 * frames without end would grow memory without end (the "CONTINUATION flood").
 */
export const MAX_HEADER_BLOCK_BYTES = 64 * 1024
const FRAME_HEADER = 9

/** What a session announces and how far it lets a peer send ahead. */
export interface H2Options {
  /** SETTINGS_INITIAL_WINDOW_SIZE: how much of each answer may be in flight unread. */
  streamWindow: number
  /** The connection's receive window (raised from 65,535 by a WINDOW_UPDATE after the preface). */
  connectionWindow: number
  /** SETTINGS_HEADER_TABLE_SIZE: the peer encoder's dynamic table bound. */
  headerTableSize: number
  /** The first stream id (odd; tests start near 2^31 to see exhaustion). */
  firstStreamId: number
}

export const DEFAULT_H2_OPTIONS: H2Options = Object.freeze({
  // Unary answers are small; a 1 MiB window lets nearly all arrive without a WINDOW_UPDATE,
  // and the 10 MB answer cap of the caller bounds what one stream may hold.
  streamWindow: 1 << 20,
  connectionWindow: 16 << 20,
  headerTableSize: 4096,
  firstStreamId: 1,
})

/** Why a call failed: a socket error (code ECONNREFUSED …), a reset, a GOAWAY, or a protocol error. */
export class H2Error extends Error {
  readonly code: string
  /** The RST_STREAM or GOAWAY error code, or -1. */
  readonly h2code: number
  /** The peer never processed the call (RFC 9113 §8.7): it may be sent again. */
  readonly unprocessed: boolean

  constructor(message: string, code: string, h2code: number, unprocessed: boolean) {
    super(message)
    this.code = code
    this.h2code = h2code
    this.unprocessed = unprocessed
  }
}

// A call's state on its session.
const IDLE = 0
/** HEADERS sent; the body (if not all sent) waits for flow-control credit. */
const OPEN = 1
const CLOSED = 2

/**
 * One request/response exchange on a session. The subclass (the gRPC exchange) is the
 * handler: one object per call carries both the stream's state and the call's.
 */
export abstract class H2Call {
  h2session: H2Session | null = null
  h2id = 0
  h2state = IDLE
  /** The request's header block (HPACK) and body. */
  h2block: Buffer | null = null
  h2body: Buffer | null = null
  h2sent = 0
  h2sendWindow = 0
  /** What the peer may still send us on this stream, and what was read since the last WINDOW_UPDATE. */
  h2recvWindow = 0
  h2recvUnacked = 0
  /** The peer ended its side (END_STREAM). */
  h2remoteDone = false
  /** Response headers were delivered (the next HEADERS are trailers). */
  h2gotHeaders = false

  /** A header block of the answer: the response headers (informational ones skipped), then trailers. */
  abstract h2Headers(fields: string[], trailers: boolean, endStream: boolean): void
  /** A piece of the answer's body (a view of the read; valid as long as it is kept). */
  abstract h2Data(chunk: Buffer): void
  /** The exchange is over: answered in full (null), or failed. Called once. */
  abstract h2Closed(error: H2Error | null): void
}

/** Listens for the session leaving service (the pool drops it). */
export interface H2SessionOwner {
  sessionGone(session: H2Session): void
}

/**
 * One connection. Calls are submitted with submit(); frames written during a turn go out
 * together at the end of it (process.nextTick), in one socket write.
 */
export class H2Session {
  readonly origin: string
  readonly options: H2Options
  readonly owner: H2SessionOwner | null
  readonly socket: Socket
  readonly decoder: HpackDecoder
  /** Open streams by id. */
  /** Open streams by id (not a Map: see IdTable). */
  readonly streams = new IdTable<H2Call>()
  /** Calls waiting for a stream (SETTINGS_MAX_CONCURRENT_STREAMS), oldest first. */
  waiting: H2Call[] = []
  waitingHead = 0
  /** Calls whose body waits for flow-control credit. */
  blocked: H2Call[] = []
  nextStreamId: number
  // The peer's settings.
  peerMaxConcurrent = Infinity
  peerInitialWindow = DEFAULT_WINDOW
  peerMaxFrame = DEFAULT_MAX_FRAME
  sendWindow = DEFAULT_WINDOW
  recvWindow: number
  recvUnacked = 0
  /** The peer's GOAWAY last-stream-id, or -1: streams above it were not processed. */
  goawayLast = -1
  /** No new streams (GOAWAY either way, ids exhausted, closing). */
  draining = false
  closed = false
  connected = false
  /** The socket's error, reported to the calls it ends. */
  socketError: Error | null = null
  // Reading: an incomplete frame's bytes, and a header block spread over CONTINUATION frames.
  partial: Buffer | null = null
  blockStream = 0
  blockFlags = 0
  blockParts: Buffer[] | null = null
  blockBytes = 0
  // Writing: frames of this turn, flushed together.
  out: Buffer[] = []
  outBytes = 0
  flushScheduled = false
  /** Streams started, for the keepalive's idleness check. */
  started = 0
  /** RST_STREAM frames sent (MAX_RESETS_PER_SESSION). */
  resetsSent = 0

  constructor(origin: string, options: H2Options = DEFAULT_H2_OPTIONS, owner: H2SessionOwner | null = null) {
    this.origin = origin
    this.options = options
    this.owner = owner
    this.nextStreamId = options.firstStreamId
    this.recvWindow = options.connectionWindow
    this.decoder = new HpackDecoder(options.headerTableSize)
    const url = new URL(origin)
    const host = url.hostname.charCodeAt(0) === 91 ? url.hostname.slice(1, -1) : url.hostname
    // TCP_NODELAY: a call's small writes must not wait for the ACK of the last (Nagle + delayed ACK).
    const socket = connectTcp({ host, port: url.port === '' ? 80 : Number(url.port), noDelay: true })
    this.socket = socket
    ;(socket as SessionSocket)[kSession] = this
    socket.on('connect', onSocketConnect)
    socket.on('data', onSocketData)
    socket.on('error', onSocketError)
    socket.on('close', onSocketClose)
    // The preface, our SETTINGS, and the connection window raised: the peer may answer at once.
    const settings = Buffer.allocUnsafe(FRAME_HEADER + 18)
    writeFrameHeader(settings, 0, 18, SETTINGS, 0, 0)
    writeSetting(settings, 9, SETTINGS_ENABLE_PUSH, 0)
    writeSetting(settings, 15, SETTINGS_INITIAL_WINDOW_SIZE, options.streamWindow)
    writeSetting(settings, 21, SETTINGS_HEADER_TABLE_SIZE, options.headerTableSize)
    this.queue(PREFACE)
    this.queue(settings)
    if (options.connectionWindow > DEFAULT_WINDOW) this.queue(windowUpdate(0, options.connectionWindow - DEFAULT_WINDOW))
  }

  /** Whether a new call may go on this session. */
  get usable(): boolean {
    return !this.draining && !this.closed
  }

  /** Open streams and queued calls. */
  get load(): number {
    return this.streams.size + this.waiting.length - this.waitingHead
  }

  /** Sends `call` (its h2block and h2body set), or queues it until a stream is free. */
  submit(call: H2Call): void {
    call.h2session = this
    call.h2state = IDLE
    this.started++
    if (this.streams.size >= this.peerMaxConcurrent || this.waitingHead < this.waiting.length) {
      this.waiting.push(call)
      return
    }
    this.open(call)
  }

  open(call: H2Call): void {
    const id = this.nextStreamId
    this.nextStreamId += 2
    if (this.nextStreamId > MAX_STREAM_ID) this.drain()
    call.h2id = id
    call.h2state = OPEN
    call.h2sent = 0
    call.h2sendWindow = this.peerInitialWindow
    call.h2recvWindow = this.options.streamWindow
    call.h2recvUnacked = 0
    call.h2remoteDone = false
    call.h2gotHeaders = false
    this.streams.set(id, call)
    const block = call.h2block!
    const body = call.h2body
    const bodyLen = body === null ? 0 : body.length
    // The common case, in one buffer: HEADERS (END_HEADERS) then the whole body as one DATA (END_STREAM).
    if (block.length <= this.peerMaxFrame && bodyLen <= this.peerMaxFrame && bodyLen <= this.sendWindow && bodyLen <= call.h2sendWindow) {
      const frames = Buffer.allocUnsafe(FRAME_HEADER + block.length + (body === null ? 0 : FRAME_HEADER + bodyLen))
      writeFrameHeader(frames, 0, block.length, HEADERS, body === null ? END_HEADERS | END_STREAM : END_HEADERS, id)
      block.copy(frames, FRAME_HEADER)
      if (body !== null) {
        const at = FRAME_HEADER + block.length
        writeFrameHeader(frames, at, bodyLen, DATA, END_STREAM, id)
        body.copy(frames, at + FRAME_HEADER)
        this.sendWindow -= bodyLen
        call.h2sendWindow -= bodyLen
        call.h2sent = bodyLen
      }
      this.queue(frames)
      return
    }
    this.writeHeaders(id, block, body === null)
    if (body !== null) this.sendBody(call)
  }

  /** A header block in HEADERS and as many CONTINUATION frames as the peer's max frame size asks. */
  writeHeaders(id: number, block: Buffer, endStream: boolean): void {
    const max = this.peerMaxFrame
    let at = 0
    let type = HEADERS
    do {
      const len = Math.min(max, block.length - at)
      const last = at + len === block.length
      const frame = Buffer.allocUnsafe(FRAME_HEADER + len)
      const flags = (last ? END_HEADERS : 0) | (type === HEADERS && endStream ? END_STREAM : 0)
      writeFrameHeader(frame, 0, len, type, flags, id)
      block.copy(frame, FRAME_HEADER, at, at + len)
      this.queue(frame)
      at += len
      type = CONTINUATION
    } while (at < block.length)
  }

  /** As much of the body as the windows allow; the rest waits in `blocked` for a WINDOW_UPDATE. */
  sendBody(call: H2Call): void {
    const body = call.h2body!
    if (body.length === 0) {
      const frame = Buffer.allocUnsafe(FRAME_HEADER)
      writeFrameHeader(frame, 0, 0, DATA, END_STREAM, call.h2id)
      this.queue(frame)
      return
    }
    while (call.h2sent < body.length) {
      const len = Math.min(this.sendWindow, call.h2sendWindow, this.peerMaxFrame, body.length - call.h2sent)
      if (len <= 0) {
        if (!this.blocked.includes(call)) this.blocked.push(call)
        return
      }
      const last = call.h2sent + len === body.length
      const frame = Buffer.allocUnsafe(FRAME_HEADER + len)
      writeFrameHeader(frame, 0, len, DATA, last ? END_STREAM : 0, call.h2id)
      body.copy(frame, FRAME_HEADER, call.h2sent, call.h2sent + len)
      this.queue(frame)
      this.sendWindow -= len
      call.h2sendWindow -= len
      call.h2sent += len
    }
  }

  /** Credit arrived: the blocked bodies go on, oldest first. */
  unblock(): void {
    if (this.blocked.length === 0) return
    const blocked = this.blocked
    this.blocked = []
    for (const call of blocked) {
      if (call.h2state !== OPEN || call.h2session !== this) continue
      this.sendBody(call)
    }
  }

  /** The caller gives up on `call` (deadline, client gone, answer too large): RST_STREAM CANCEL; no h2Closed follows. */
  cancel(call: H2Call): void {
    if (call.h2session !== this) return
    if (call.h2state === IDLE) {
      const i = this.waiting.indexOf(call, this.waitingHead)
      if (i !== -1) this.waiting.splice(i, 1)
      call.h2state = CLOSED
      return
    }
    if (call.h2state !== OPEN) return
    this.release(call)
    if (this.closed) return
    this.queue(rstStream(call.h2id, CANCEL))
    if (++this.resetsSent >= MAX_RESETS_PER_SESSION) this.drain()
  }

  /** The stream leaves the session; a waiting call may take its place. */
  release(call: H2Call): void {
    call.h2state = CLOSED
    this.streams.delete(call.h2id)
    call.h2body = null
    this.startWaiting()
    if (this.draining && this.streams.size === 0 && this.waitingHead === this.waiting.length) this.close()
  }

  startWaiting(): void {
    while (this.waitingHead < this.waiting.length && this.streams.size < this.peerMaxConcurrent && this.usable) {
      const call = this.waiting[this.waitingHead]!
      this.waiting[this.waitingHead++] = undefined as unknown as H2Call
      this.open(call)
    }
    if (this.waitingHead === this.waiting.length && this.waitingHead > 0) {
      this.waiting = []
      this.waitingHead = 0
    }
  }

  /** An answer's stream ended (END_STREAM both ways) or failed: tell the call. */
  finish(call: H2Call, error: H2Error | null): void {
    if (call.h2state === CLOSED) return
    const wasOpen = call.h2state === OPEN
    this.release(call)
    // The peer answered before taking all the body (§8.1): stop sending, free its stream.
    if (error === null && wasOpen && call.h2sent < (call.h2body?.length ?? 0)) this.queue(rstStream(call.h2id, NO_ERROR))
    call.h2Closed(error)
  }

  // ---------------------------------------------------------------------------------------
  // Writing

  queue(buf: Buffer): void {
    this.out.push(buf)
    this.outBytes += buf.length
    if (!this.flushScheduled) {
      this.flushScheduled = true
      process.nextTick(flushSession, this)
    }
  }

  flush(): void {
    this.flushScheduled = false
    const out = this.out
    if (out.length === 0) return
    const buf = out.length === 1 ? out[0]! : Buffer.concat(out, this.outBytes)
    this.out = []
    this.outBytes = 0
    if (!this.socket.destroyed) this.socket.write(buf)
  }

  ping(payload: Buffer): void {
    const frame = Buffer.allocUnsafe(FRAME_HEADER + 8)
    writeFrameHeader(frame, 0, 8, PING, 0, 0)
    payload.copy(frame, FRAME_HEADER, 0, 8)
    this.queue(frame)
  }

  /** Called with the payload of a PING ACK (the pool's keepalive overrides it). */
  onPingAck(_payload: Buffer): void {}

  // ---------------------------------------------------------------------------------------
  // Reading

  onData(chunk: Buffer): void {
    let buf = chunk
    if (this.partial !== null) {
      buf = Buffer.concat([this.partial, chunk])
      this.partial = null
    }
    let at = 0
    const end = buf.length
    while (!this.closed && end - at >= FRAME_HEADER) {
      const len = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!
      // We announced no SETTINGS_MAX_FRAME_SIZE: 16,384 is the most a peer may send (§4.2).
      if (len > DEFAULT_MAX_FRAME) return this.connectionError(FRAME_SIZE_ERROR, `a frame of ${len} octets, above the 16384 allowed`)
      if (end - at < FRAME_HEADER + len) break
      const type = buf[at + 3]!
      const flags = buf[at + 4]!
      const id = buf.readUInt32BE(at + 5) & 0x7fffffff
      const start = at + FRAME_HEADER
      at = start + len
      try {
        this.onFrame(buf, type, flags, id, start, at)
      } catch (err) {
        if (err instanceof HpackError) return this.connectionError(COMPRESSION_ERROR, err.message)
        throw err
      }
    }
    if (at < end && !this.closed) this.partial = buf.subarray(at)
  }

  onFrame(buf: Buffer, type: number, flags: number, id: number, start: number, end: number): void {
    // A header block in progress admits only its CONTINUATION frames (§6.10).
    if (this.blockParts !== null && (type !== CONTINUATION || id !== this.blockStream)) {
      return this.connectionError(PROTOCOL_ERROR, 'a frame inside a header block')
    }
    switch (type) {
      case DATA:
        return this.onDataFrame(buf, flags, id, start, end)
      case HEADERS: {
        if (id === 0) return this.connectionError(PROTOCOL_ERROR, 'HEADERS on stream 0')
        let s = start
        let e = end
        if ((flags & PADDED) !== 0) {
          const pad = buf[s++]!
          e -= pad
        }
        if ((flags & PRIORITY_FLAG) !== 0) s += 5
        if (s > e) return this.connectionError(PROTOCOL_ERROR, 'HEADERS padding longer than the frame')
        if ((flags & END_HEADERS) !== 0) return this.onHeaderBlock(id, flags, buf, s, e)
        this.blockStream = id
        this.blockFlags = flags
        this.blockParts = [buf.subarray(s, e)]
        this.blockBytes = e - s
        return
      }
      case CONTINUATION: {
        if (this.blockParts === null) return this.connectionError(PROTOCOL_ERROR, 'CONTINUATION without HEADERS')
        this.blockBytes += end - start
        if (this.blockBytes > MAX_HEADER_BLOCK_BYTES) return this.connectionError(PROTOCOL_ERROR, `a header block over ${MAX_HEADER_BLOCK_BYTES} octets`)
        this.blockParts.push(buf.subarray(start, end))
        if ((flags & END_HEADERS) === 0) return
        const block = Buffer.concat(this.blockParts)
        this.blockParts = null
        return this.onHeaderBlock(this.blockStream, this.blockFlags, block, 0, block.length)
      }
      case PRIORITY:
        return
      case RST_STREAM: {
        if (end - start !== 4) return this.connectionError(FRAME_SIZE_ERROR, 'RST_STREAM of a wrong size')
        const call = this.streams.get(id)
        if (call === undefined) return
        const code = buf.readUInt32BE(start)
        const refused = code === REFUSED_STREAM
        this.finish(call, new H2Error(`Stream closed with error code ${errorName(code)}`, 'ERR_HTTP2_STREAM_ERROR', code, refused))
        return
      }
      case SETTINGS:
        return this.onSettings(buf, flags, id, start, end)
      case PUSH_PROMISE:
        return this.connectionError(PROTOCOL_ERROR, 'PUSH_PROMISE, though push is disabled')
      case PING: {
        if (end - start !== 8) return this.connectionError(FRAME_SIZE_ERROR, 'PING of a wrong size')
        if ((flags & ACK) !== 0) return this.onPingAck(buf.subarray(start, end))
        const frame = Buffer.allocUnsafe(FRAME_HEADER + 8)
        writeFrameHeader(frame, 0, 8, PING, ACK, 0)
        buf.copy(frame, FRAME_HEADER, start, end)
        this.queue(frame)
        return
      }
      case GOAWAY: {
        if (end - start < 8) return this.connectionError(FRAME_SIZE_ERROR, 'GOAWAY too short')
        return this.onGoaway(buf.readUInt32BE(start) & 0x7fffffff, buf.readUInt32BE(start + 4))
      }
      case WINDOW_UPDATE: {
        if (end - start !== 4) return this.connectionError(FRAME_SIZE_ERROR, 'WINDOW_UPDATE of a wrong size')
        const inc = buf.readUInt32BE(start) & 0x7fffffff
        if (id === 0) {
          if (inc === 0) return this.connectionError(PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0')
          this.sendWindow += inc
          if (this.sendWindow > MAX_WINDOW) return this.connectionError(FLOW_CONTROL_ERROR, 'the connection window past 2^31-1')
        } else {
          const call = this.streams.get(id)
          if (call === undefined) return
          if (inc === 0) return this.streamError(call, PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0')
          call.h2sendWindow += inc
          if (call.h2sendWindow > MAX_WINDOW) return this.streamError(call, FLOW_CONTROL_ERROR, 'a stream window past 2^31-1')
        }
        return this.unblock()
      }
      default:
        // Unknown frame types are ignored (§4.1).
        return
    }
  }

  onDataFrame(buf: Buffer, flags: number, id: number, start: number, end: number): void {
    const len = end - start
    // Flow control counts the whole payload, padding included (§6.9.1).
    this.recvWindow -= len
    if (this.recvWindow < 0) return this.connectionError(FLOW_CONTROL_ERROR, 'DATA beyond the connection window')
    this.recvUnacked += len
    if (this.recvUnacked >= this.options.connectionWindow >> 1) {
      this.queue(windowUpdate(0, this.recvUnacked))
      this.recvWindow += this.recvUnacked
      this.recvUnacked = 0
    }
    const call = this.streams.get(id)
    // A stream we reset or finished: its data only counted for the connection.
    if (call === undefined) return
    if (!call.h2gotHeaders || call.h2remoteDone) return this.streamError(call, PROTOCOL_ERROR, 'DATA before the response headers')
    call.h2recvWindow -= len
    if (call.h2recvWindow < 0) return this.streamError(call, FLOW_CONTROL_ERROR, 'DATA beyond the stream window')
    let s = start
    let e = end
    if ((flags & PADDED) !== 0) {
      if (len === 0) return this.streamError(call, PROTOCOL_ERROR, 'a PADDED DATA frame without its length')
      const pad = buf[s++]!
      e -= pad
      if (s > e) return this.streamError(call, PROTOCOL_ERROR, 'DATA padding longer than the frame')
    }
    if (e > s) call.h2Data(buf.subarray(s, e))
    // h2Data may have cancelled the call (an answer too large).
    if (call.h2state !== OPEN) return
    if ((flags & END_STREAM) !== 0) {
      call.h2remoteDone = true
      return this.finish(call, null)
    }
    call.h2recvUnacked += len
    if (call.h2recvUnacked >= this.options.streamWindow >> 1) {
      this.queue(windowUpdate(id, call.h2recvUnacked))
      call.h2recvWindow += call.h2recvUnacked
      call.h2recvUnacked = 0
    }
  }

  onHeaderBlock(id: number, flags: number, buf: Buffer, start: number, end: number): void {
    // The call keeps the headers until the trailers came: a list per block.
    const fields: string[] = []
    // Decoded whatever the stream: the HPACK context is the connection's.
    this.decoder.decode(buf, start, end, fields, MAX_HEADER_BLOCK_BYTES)
    const call = this.streams.get(id)
    if (call === undefined) return
    const endStream = (flags & END_STREAM) !== 0
    if (call.h2remoteDone) return this.streamError(call, PROTOCOL_ERROR, 'HEADERS after the end of the stream')
    if (!call.h2gotHeaders) {
      // 1xx answers precede the real one (§8.1).
      const status = fields[0] === ':status' ? fields[1]! : ''
      if (status.length === 3 && status.charCodeAt(0) === 49 && !endStream) return
      call.h2gotHeaders = true
      call.h2Headers(fields, false, endStream)
    } else {
      if (!endStream) return this.streamError(call, PROTOCOL_ERROR, 'trailers without END_STREAM')
      call.h2Headers(fields, true, true)
    }
    if (endStream && call.h2state === OPEN) {
      call.h2remoteDone = true
      this.finish(call, null)
    }
  }

  onSettings(buf: Buffer, flags: number, id: number, start: number, end: number): void {
    if (id !== 0) return this.connectionError(PROTOCOL_ERROR, 'SETTINGS on a stream')
    if ((flags & ACK) !== 0) return
    if ((end - start) % 6 !== 0) return this.connectionError(FRAME_SIZE_ERROR, 'SETTINGS of a wrong size')
    for (let i = start; i < end; i += 6) {
      const key = buf.readUInt16BE(i)
      const value = buf.readUInt32BE(i + 2)
      switch (key) {
        case SETTINGS_MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrent = value
          break
        case SETTINGS_INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) return this.connectionError(FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE past 2^31-1')
          // §6.9.2: the open streams' windows move by the difference.
          const delta = value - this.peerInitialWindow
          this.peerInitialWindow = value
          for (const [, call] of this.streams.entries()) call.h2sendWindow += delta
          break
        }
        case SETTINGS_MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME || value > 16_777_215) return this.connectionError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`)
          this.peerMaxFrame = value
          break
        default:
          // SETTINGS_HEADER_TABLE_SIZE: our encoder never indexes. ENABLE_PUSH is a server's to obey. Unknown: ignored.
          break
      }
    }
    const ack = Buffer.allocUnsafe(FRAME_HEADER)
    writeFrameHeader(ack, 0, 0, SETTINGS, ACK, 0)
    this.queue(ack)
    this.unblock()
    this.startWaiting()
  }

  /** GOAWAY: streams above `last` were not processed (they fail as unprocessed, for a retry elsewhere); the others finish. */
  onGoaway(last: number, code: number): void {
    this.goawayLast = last
    this.drain()
    const error = `the backend sent GOAWAY ${errorName(code)}`
    for (const [, call] of this.streams.entries()) {
      if (call.h2id > last) this.finish(call, new H2Error(error, 'ERR_HTTP2_GOAWAY_SESSION', code, true))
    }
    if (this.streams.size === 0) this.close()
  }

  /** No new streams here: the pool forgets the session; waiting calls go to another. */
  drain(): void {
    if (this.draining) return
    this.draining = true
    if (this.owner !== null) this.owner.sessionGone(this)
    this.failWaiting()
  }

  /** Calls that never got a stream here: unprocessed, sent again by their owner. */
  failWaiting(): void {
    if (this.waitingHead === this.waiting.length) return
    const waiting = this.waiting.slice(this.waitingHead)
    this.waiting = []
    this.waitingHead = 0
    for (const call of waiting) {
      if (call.h2state !== IDLE) continue
      call.h2state = CLOSED
      call.h2Closed(new H2Error('the session closed before the call was sent', 'ERR_HTTP2_GOAWAY_SESSION', -1, true))
    }
  }

  streamError(call: H2Call, code: number, reason: string): void {
    this.queue(rstStream(call.h2id, code))
    this.finish(call, new H2Error(`the backend broke HTTP/2: ${reason}`, 'ERR_HTTP2_STREAM_ERROR', code, false))
  }

  /** A protocol violation: GOAWAY with its code, and every call fails (those not yet sent as unprocessed). */
  connectionError(code: number, reason: string): void {
    if (this.closed) return
    this.queue(goaway(code))
    this.flush()
    this.destroy(new H2Error(`the backend broke HTTP/2 (${errorName(code)}): ${reason}`, 'ERR_HTTP2_SESSION_ERROR', code, false))
  }

  /** Closes gracefully: our GOAWAY, then the socket once written. */
  close(): void {
    if (this.closed) return
    this.drain()
    this.queue(goaway(NO_ERROR))
    this.flush()
    this.closed = true
    this.socket.end()
    this.failAll(null)
  }

  /** Tears the connection down: open calls fail with `error` (or the socket's). */
  destroy(error: H2Error | null): void {
    if (this.closed && this.streams.size === 0) {
      if (!this.socket.destroyed) this.socket.destroy()
      return
    }
    this.drain()
    this.closed = true
    this.socket.destroy()
    this.failAll(error)
  }

  failAll(error: H2Error | null): void {
    this.failWaiting()
    if (this.streams.size === 0) return
    const cause = this.socketError as (Error & { code?: string }) | null
    for (const [, call] of this.streams.entries()) {
      const unprocessed = this.goawayLast >= 0 && call.h2id > this.goawayLast
      const err = error ?? (cause !== null
        ? new H2Error(cause.message, cause.code ?? 'ECONNRESET', -1, unprocessed)
        : new H2Error('the connection closed before the answer ended', 'ECONNRESET', -1, unprocessed))
      this.finish(call, err)
    }
  }
}

// Socket listeners: module functions, the session found on the socket.
const kSession = Symbol('h2session')
interface SessionSocket extends Socket {
  [kSession]: H2Session
}
function onSocketConnect(this: SessionSocket): void {
  this[kSession].connected = true
}
function onSocketData(this: SessionSocket, chunk: Buffer): void {
  this[kSession].onData(chunk)
}
function onSocketError(this: SessionSocket, err: Error): void {
  this[kSession].socketError ??= err
}
function onSocketClose(this: SessionSocket): void {
  const session = this[kSession]
  session.drain()
  session.closed = true
  session.failAll(null)
}
function flushSession(session: H2Session): void {
  session.flush()
}

function writeFrameHeader(buf: Buffer, at: number, len: number, type: number, flags: number, id: number): void {
  buf[at] = len >>> 16
  buf[at + 1] = (len >>> 8) & 0xff
  buf[at + 2] = len & 0xff
  buf[at + 3] = type
  buf[at + 4] = flags
  buf.writeUInt32BE(id, at + 5)
}

function writeSetting(buf: Buffer, at: number, key: number, value: number): void {
  buf.writeUInt16BE(key, at)
  buf.writeUInt32BE(value, at + 2)
}

function windowUpdate(id: number, inc: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER + 4)
  writeFrameHeader(frame, 0, 4, WINDOW_UPDATE, 0, id)
  frame.writeUInt32BE(inc, FRAME_HEADER)
  return frame
}

function rstStream(id: number, code: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER + 4)
  writeFrameHeader(frame, 0, 4, RST_STREAM, 0, id)
  frame.writeUInt32BE(code, FRAME_HEADER)
  return frame
}

/** GOAWAY with last-stream-id 0 (we accept no streams from the peer) and `code`. */
function goaway(code: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER + 8)
  writeFrameHeader(frame, 0, 8, GOAWAY, 0, 0)
  frame.writeUInt32BE(0, FRAME_HEADER)
  frame.writeUInt32BE(code, FRAME_HEADER + 4)
  return frame
}
