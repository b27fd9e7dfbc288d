// Protobuf transcoding, run step, for an http integration with x-backplane-protobuf:
//
//   method request → integration request (requestParameters, request template)
//     → JSON body + query string + path parameters → request message (json-mapping.ts)
//     → gRPC unary call over h2c (GrpcExchange) | application/x-protobuf POST (ProtobufHttpExchange)
//     → response message or gRPC status → canonical JSON, status by grpc-gateway's table
//     → integration response (selectionPattern on that status, templates on the JSON)
//
// A body that does not fit the message: 400 naming the field. An answer that does not
// decode: 502, the reason logged. Past timeoutInMillis (sent as grpc-timeout): 504.
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, IncomingHttpStatusHeader, OutgoingHttpHeaders } from 'node:http2'
import { gunzip, inflate } from 'node:zlib'
import type { CompiledIntegration } from '../compile.js'
import type { CompiledProtobuf } from './compile.js'
import type { RequestContext } from '../../pipeline/context.js'
import type { PreparedRequest } from '../../integration-request/prepare.js'
import { prepareIntegrationRequest } from '../../integration-request/prepare.js'
import { sendGatewayResponse } from '../../method-response/gateway-responses.js'
import { completeIntegration } from '../../integration-response/complete.js'
import { pushResponseHeader } from '../headers.js'
import { HttpExchange, buildBackendPath } from '../http.js'
import { TIMED_OUT, classifyUpstreamError, type UpstreamFailure } from '../upstream-errors.js'
import { setHeader } from '../../util/header-pairs.js'
import { MappingError, decodeToJson, encodeJson, readMessage, setFromParameter } from './json-mapping.js'
import { GRPC_CODE_NAMES, decodeGrpcMessage, grpcCodeFromHttp, httpStatusFromGrpc } from './grpc-status.js'
import { CANCEL, sessionFor, wasNotProcessed } from './h2-sessions.js'

const decoder = new TextDecoder()
const encoder = new TextEncoder()
const JSON_CONTENT_TYPE = 'application/json'
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf'
/** A backend answer that breaks gRPC or does not decode: API Gateway's 502 for a bad integration response. */
const BAD_ANSWER: UpstreamFailure = Object.freeze({ type: 'DEFAULT_5XX', status: 502, message: 'Internal server error' })
/** Request headers that are not gRPC metadata (transport, or set here). */
const NOT_METADATA = new Set(['content-type', 'content-length', 'te', 'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'accept-encoding', 'user-agent'])
/** grpc-timeout takes at most 8 digits. */
const MAX_TIMEOUT_DIGITS = 99_999_999
/** The message encodings the gateway decodes, offered to backends (grpc-js offers the same). */
const GRPC_ACCEPT_ENCODING = 'identity,deflate,gzip'
/** A compressed answer may not inflate past API Gateway's 10 MB payload limit. */
const MAX_DECOMPRESSED_BYTES = 10 * 1024 * 1024
const INFLATE_OPTIONS = Object.freeze({ maxOutputLength: MAX_DECOMPRESSED_BYTES })
/** The options of every call: the body follows the headers (node:http2 copies the object). */
const STREAM_OPTIONS = Object.freeze({ endStream: false })

/**
 * The request message from the prepared body (JSON; empty means {}), then the query string
 * and the path parameters, grpc-gateway's way: a parameter names a field by its proto or
 * JSON name ('.' into nested messages); query parameters fill fields the body left unset,
 * path parameters always win; a name that is no field is not the message's and is skipped.
 * Returns null after answering 400.
 */
export function buildRequestMessage(ctx: RequestContext, pb: CompiledProtobuf, body: Uint8Array | null): Uint8Array | null {
  let json: unknown = {}
  if (body !== null && body.byteLength > 0) {
    const text = decoder.decode(body)
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text)
      } catch (err) {
        sendGatewayResponse(ctx, 'BAD_REQUEST_BODY', `Invalid request body: not JSON (${(err as Error).message})`)
        return null
      }
    }
  }
  let object: Record<string, unknown>
  try {
    object = readMessage(pb.request, json, '', pb)
  } catch (err) {
    if (!(err instanceof MappingError)) throw err
    sendGatewayResponse(ctx, 'BAD_REQUEST_BODY', `Invalid request body: ${err.message}`)
    return null
  }
  try {
    if (ctx.request.query !== '') for (const [name, values] of ctx.queryParameters()) setFromParameter(pb.request, object, name, values, true, pb)
    const params = ctx.match!.params
    for (let i = 0; i < params.length; i += 2) setFromParameter(pb.request, object, params[i]!, [params[i + 1]!], false, pb)
  } catch (err) {
    if (!(err instanceof MappingError)) throw err
    sendGatewayResponse(ctx, 'BAD_REQUEST_PARAMETERS', `Invalid request parameter ${err.message}`)
    return null
  }
  return encodeJson(pb.request, object)
}

/** The backend's answer as JSON: through the integration response when the integration declares responses, else as it is (grpc-gateway's way). */
function completeTranscoded(ctx: RequestContext, integ: CompiledIntegration, status: number, headers: string[], body: Uint8Array): void {
  if (integ.responses.length === 0 && integ.defaultResponse === null) {
    ctx.send(status, ['Content-Type', JSON_CONTENT_TYPE], body)
    return
  }
  completeIntegration(ctx, integ, { selector: String(status), headers, body })
}

/** Decodes a response message to JSON bytes, or answers 502 and logs why; null then. */
function decodeAnswer(ctx: RequestContext, pb: CompiledProtobuf, bytes: Uint8Array): Uint8Array | null {
  try {
    return encoder.encode(JSON.stringify(decodeToJson(pb.response, bytes)))
  } catch (err) {
    console.error(`[${ctx.requestId}] Execution failed: the backend's answer does not decode as ${pb.response.fullName}: ${(err as Error).message}`)
    sendGatewayResponse(ctx, BAD_ANSWER.type, BAD_ANSWER.message, BAD_ANSWER.status)
    return null
  }
}

export function runProtobuf(ctx: RequestContext, integ: CompiledIntegration): void {
  const pb = integ.protobuf!
  const prepared = prepareIntegrationRequest(ctx, integ)
  if (prepared === null) return
  const message = buildRequestMessage(ctx, pb, prepared.body)
  if (message === null) return
  if (pb.grpc) {
    new GrpcExchange(ctx, integ, pb).start(prepared, message)
    return
  }
  const headers = prepared.headers
  setHeader(headers, 'content-type', PROTOBUF_CONTENT_TYPE)
  setHeader(headers, 'accept', PROTOBUF_CONTENT_TYPE)
  new ProtobufHttpExchange(ctx, integ, pb).startPrepared({ headers, body: message, overrides: prepared.overrides })
}

// ---------------------------------------------------------------------------------------
// protobuf over HTTP/1.1: the HTTP integration's exchange (undici), its answer decoded.

/** An HTTP exchange whose 2xx body is the response message; other answers pass undecoded. */
export class ProtobufHttpExchange extends HttpExchange {
  readonly pb: CompiledProtobuf
  constructor(ctx: RequestContext, integ: CompiledIntegration, pb: CompiledProtobuf) {
    super(ctx, integ, false)
    this.pb = pb
  }

  override onComplete(): void {
    if (this.settled) return
    this.markSettled()
    const body = this.size === 0 ? Buffer.alloc(0) : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size)
    if (this.status < 200 || this.status > 299) {
      // An error answer is not the response message: its body and Content-Type pass as they are,
      // to the integration response, or (none declared) to the client.
      if (this.integ.responses.length === 0 && this.integ.defaultResponse === null) {
        // Straight to the client: the backend's headers as API Gateway returns an endpoint's
        // (hop-by-hop dropped, Content-Length and the like remapped to x-amzn-Remapped-*).
        const out: string[] = []
        for (let i = 0; i + 1 < this.headers.length; i += 2) pushResponseHeader(out, this.headers[i]!, this.headers[i + 1]!, true, false)
        this.ctx.send(this.status, out, body.byteLength === 0 ? null : body)
      }
      else completeIntegration(this.ctx, this.integ, { selector: String(this.status), headers: this.headers, body: body.byteLength === 0 ? null : body })
      return
    }
    const json = decodeAnswer(this.ctx, this.pb, body)
    if (json === null) return
    const headers = this.headers
    setHeader(headers, 'content-type', JSON_CONTENT_TYPE)
    completeTranscoded(this.ctx, this.integ, this.status, headers, json)
  }
}

// ---------------------------------------------------------------------------------------
// gRPC unary over HTTP/2 cleartext (node:http2; see h2-sessions.ts for why not undici).

const kExchange = Symbol('grpcExchange')
/** completeTranscoded ignores the headers of an integration without responses: none are built. */
const NO_HEADERS: string[] = []
const EMPTY = Buffer.alloc(0)

interface GrpcStream extends ClientHttp2Stream {
  [kExchange]: GrpcExchange
}

// Stream listeners are these module functions, the exchange found on the stream: no closure per call.
function onStreamResponse(this: GrpcStream, headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void {
  this[kExchange].onResponse(headers)
}
function onStreamData(this: GrpcStream, chunk: Buffer): void {
  this[kExchange].onData(chunk)
}
function onStreamTrailers(this: GrpcStream, trailers: IncomingHttpHeaders): void {
  this[kExchange].trailers = trailers
}
function onStreamError(this: GrpcStream, err: Error): void {
  this[kExchange].error ??= err
}
function onStreamClose(this: GrpcStream): void {
  this[kExchange].onClose()
}
function onGrpcTimeout(exchange: GrpcExchange): void {
  exchange.timeout()
}

/** grpc-timeout: milliseconds when they fit 8 digits, else seconds. */
export function grpcTimeout(ms: number): string {
  return ms <= MAX_TIMEOUT_DIGITS ? `${ms}m` : `${Math.ceil(ms / 1000)}S`
}

/** A route's request headers for one backend path, built once and frozen (the path changes only with path parameters or stage variables in the URI). */
interface RouteHeaders {
  path: string
  headers: OutgoingHttpHeaders
}
const routeHeaderCache = new WeakMap<CompiledIntegration, RouteHeaders>()

/** The call's headers for `path`: the last ones built for the route when the path is the same. */
function routeHeaders(integ: CompiledIntegration, path: string): OutgoingHttpHeaders {
  const cached = routeHeaderCache.get(integ)
  if (cached !== undefined && cached.path === path) return cached.headers
  const headers: OutgoingHttpHeaders = Object.freeze({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    // The integration timeout is the call's deadline, for the backend to see too.
    'grpc-timeout': grpcTimeout(integ.timeoutMs),
    'grpc-accept-encoding': GRPC_ACCEPT_ENCODING,
  })
  routeHeaderCache.set(integ, { path, headers })
  return headers
}

/** One gRPC unary call. */
export class GrpcExchange {
  readonly ctx: RequestContext
  readonly integ: CompiledIntegration
  readonly pb: CompiledProtobuf
  stream: GrpcStream | null = null
  /** The response headers, or null before them. */
  headers: (IncomingHttpHeaders & IncomingHttpStatusHeader) | null = null
  /** The trailers, or null (none yet, or a trailers-only answer: grpc-status is in the headers). */
  trailers: IncomingHttpHeaders | null = null
  /** The answer's first chunk (a unary answer is most often one), then every chunk once a second came. */
  first: Buffer | null = null
  chunks: Buffer[] | null = null
  size = 0
  error: Error | null = null
  timer: NodeJS.Timeout | null = null
  settled = false
  /** The session the stream went out on. */
  session: ClientHttp2Session | null = null
  /** What was sent, kept for the one retry a GOAWAY allows. */
  requestHeaders: OutgoingHttpHeaders | null = null
  frame: Buffer | null = null
  /** The call was sent a second time (at most once: after a GOAWAY or REFUSED_STREAM left it unprocessed). */
  retried = false

  constructor(ctx: RequestContext, integ: CompiledIntegration, pb: CompiledProtobuf) {
    this.ctx = ctx
    this.integ = integ
    this.pb = pb
  }

  start(prepared: PreparedRequest, message: Uint8Array): void {
    const integ = this.integ
    const base = routeHeaders(integ, buildBackendPath(this.ctx, integ, false, prepared.overrides))
    // Mapped headers (requestParameters, template overrides) travel as metadata; without any,
    // the route's frozen headers go as they are (node:http2 copies what it is given).
    let headers: OutgoingHttpHeaders = base
    const h = prepared.headers
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!.toLowerCase()
      if (NOT_METADATA.has(name) || name.startsWith('grpc-') || name.charCodeAt(0) === 58) continue
      if (headers === base) headers = { ...base }
      headers[name] = h[i + 1]!
    }
    // The length-prefixed message: flag 0 (not compressed), 4-byte big-endian length.
    const frame = Buffer.allocUnsafe(5 + message.byteLength)
    frame[0] = 0
    frame.writeUInt32BE(message.byteLength, 1)
    frame.set(message, 5)
    this.requestHeaders = headers
    this.frame = frame
    this.timer = setTimeout(onGrpcTimeout, integ.timeoutMs, this)
    this.send()
  }

  /** Opens the stream and sends the message (again, after a GOAWAY left it unprocessed). */
  send(): void {
    let stream: GrpcStream
    try {
      this.session = sessionFor(this.integ.origin!)
      stream = this.session.request(this.requestHeaders!, STREAM_OPTIONS) as GrpcStream
    } catch (err) {
      this.fail(classifyUpstreamError(err), `cannot start the call: ${(err as Error).message}`)
      return
    }
    stream[kExchange] = this
    this.stream = stream
    stream.on('response', onStreamResponse)
    stream.on('data', onStreamData)
    stream.on('trailers', onStreamTrailers)
    stream.on('error', onStreamError)
    stream.on('close', onStreamClose)
    stream.end(this.frame!)
  }

  onResponse(headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void {
    this.headers = headers
  }

  onData(chunk: Buffer): void {
    if (this.first === null) this.first = chunk
    else if (this.chunks === null) this.chunks = [this.first, chunk]
    else this.chunks.push(chunk)
    this.size += chunk.length
  }

  timeout(): void {
    this.timer = null
    this.fail(TIMED_OUT, null)
    if (this.stream !== null && !this.stream.closed) this.stream.close(CANCEL)
  }

  fail(f: UpstreamFailure, reason: string | null): void {
    if (this.settled) return
    this.settled = true
    if (this.timer !== null) clearTimeout(this.timer)
    if (reason !== null) console.error(`[${this.ctx.requestId}] Execution failed: gRPC ${this.integ.origin}: ${reason}`)
    sendGatewayResponse(this.ctx, f.type, f.message, f.status)
  }

  /** The stream is done (answered, reset or broken): settle the call. */
  onClose(): void {
    if (this.settled) return
    const h = this.headers
    if (h === null) {
      // Not processed by the backend (above a GOAWAY's last-stream-id, or refused): once more, on a new session.
      if (!this.retried && this.session !== null && this.stream !== null && wasNotProcessed(this.session, this.stream)) {
        this.retried = true
        this.error = null
        this.trailers = null
        this.send()
        return
      }
      // No answer at all: a refused or broken connection, or a reset stream.
      // A call queued on a connection that failed is cancelled "caused by" the socket's error (ECONNREFUSED …).
      const cause = this.error === null ? null : (this.error as Error & { cause?: unknown }).cause
      const err = cause instanceof Error ? cause : this.error
      this.fail(classifyUpstreamError(err), err === null ? `the stream closed without an answer (RST_STREAM ${this.stream?.rstCode ?? '?'})` : err.message)
      return
    }
    const status = Number(h[':status'])
    // A trailers-only answer carries grpc-status in its headers.
    const meta = this.trailers !== null ? this.trailers : h
    const rawCode = meta['grpc-status']
    let code: number
    let message: string
    if (rawCode === undefined) {
      if (status === 200) {
        this.fail(BAD_ANSWER, this.error !== null ? `the call broke: ${this.error.message}` : 'the answer has no grpc-status')
        return
      }
      // Not a gRPC answer (a proxy's error page, say): the spec's HTTP → gRPC table.
      code = grpcCodeFromHttp(status)
      message = `the backend answered HTTP ${status} without grpc-status`
    } else {
      code = Number(rawCode)
      if (!Number.isInteger(code) || code < 0) {
        this.fail(BAD_ANSWER, `grpc-status ${JSON.stringify(rawCode)} is not a status code`)
        return
      }
      message = decodeGrpcMessage(String(meta['grpc-message'] ?? ''))
    }
    this.settled = true
    if (this.timer !== null) clearTimeout(this.timer)
    if (code !== 0) {
      const body = encoder.encode(JSON.stringify({ code, message, details: [] }))
      if (rawCode === undefined) console.error(`[${this.ctx.requestId}] gRPC ${this.integ.origin}: ${message}: taken as ${GRPC_CODE_NAMES[code]}`)
      completeTranscoded(this.ctx, this.integ, httpStatusFromGrpc(code), this.metadataFor(meta), body)
      return
    }
    const contentType = String(h['content-type'] ?? '')
    if (!contentType.startsWith('application/grpc')) return this.badAnswer(`Content-Type ${JSON.stringify(contentType)} is not application/grpc`)
    const data = this.chunks !== null ? Buffer.concat(this.chunks, this.size) : this.first ?? EMPTY
    if (data.length < 5) return this.badAnswer(data.length === 0 ? 'grpc-status OK without a response message' : 'a truncated message frame')
    const length = data.readUInt32BE(1)
    if (5 + length !== data.length) return this.badAnswer(5 + length > data.length ? 'a truncated message frame' : 'more than one message for a unary call')
    const flag = data[0]!
    if (flag === 0) return this.answer(data.subarray(5), meta)
    if (flag !== 1) return this.badAnswer(`a message frame with compressed-flag ${flag}`)
    // Compressed-flag 1: the message is in the answer's grpc-encoding (gRPC spec, PROTOCOL-HTTP2.md "Length-Prefixed-Message").
    const encoding = String(h['grpc-encoding'] ?? 'identity')
    const inflater = encoding === 'gzip' ? gunzip : encoding === 'deflate' ? inflate : null
    if (inflater === null) return this.badAnswer(`a message compressed with grpc-encoding ${JSON.stringify(encoding)}, which was not offered (${GRPC_ACCEPT_ENCODING})`)
    // Off the thread (zlib's pool), a closure for compressed answers only.
    inflater(data.subarray(5), INFLATE_OPTIONS, (err, out) => {
      if (err !== null) this.badAnswer(`the ${encoding} message does not decompress: ${err.message}`)
      else this.answer(out, meta)
    })
  }

  /** The response message (uncompressed) to JSON, through the integration response. */
  answer(bytes: Uint8Array, meta: IncomingHttpHeaders): void {
    let json: Uint8Array
    try {
      json = encoder.encode(JSON.stringify(decodeToJson(this.pb.response, bytes)))
    } catch (err) {
      return this.badAnswer(`the message does not decode as ${this.pb.response.fullName}: ${(err as Error).message}`)
    }
    completeTranscoded(this.ctx, this.integ, 200, this.metadataFor(meta), json)
  }

  /** The metadata as headers when the integration response reads them; an integration without responses does not. */
  metadataFor(meta: IncomingHttpHeaders): string[] {
    return this.integ.responses.length === 0 && this.integ.defaultResponse === null ? NO_HEADERS : this.metadata(meta)
  }

  /** After settled was set: 502 with the reason logged. */
  badAnswer(reason: string): void {
    console.error(`[${this.ctx.requestId}] Execution failed: gRPC ${this.integ.origin}: ${reason}`)
    sendGatewayResponse(this.ctx, BAD_ANSWER.type, BAD_ANSWER.message, BAD_ANSWER.status)
  }

  /** Response headers and trailers as integration.response.header.* (grpc-status and grpc-message included); Content-Type is the JSON's. */
  metadata(meta: IncomingHttpHeaders): string[] {
    const out: string[] = ['content-type', JSON_CONTENT_TYPE]
    addMetadata(out, this.headers!)
    if (meta !== this.headers) addMetadata(out, meta)
    return out
  }
}

function addMetadata(out: string[], src: IncomingHttpHeaders): void {
  for (const name in src) {
    if (name.charCodeAt(0) === 58 || name === 'content-type' || name === 'content-length' || name === 'date') continue
    const v = src[name]
    if (v === undefined) continue
    out.push(name, name === 'grpc-message' ? decodeGrpcMessage(String(v)) : Array.isArray(v) ? v.join(',') : String(v))
  }
}
