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
import { RESPONSE_TOO_LARGE, TIMED_OUT, classifyUpstreamError, type UpstreamFailure } from '../upstream-errors.js'
import { MAX_INTEGRATION_RESPONSE_BYTES, clientGone, trackExchange, untrackExchange, type Cancellable } from '../upstream.js'
import { setHeader } from '../../util/header-pairs.js'
import { MappingError, decodeToJson, encodeJson, readMessage, setFromParameter } from './json-mapping.js'
import { GRPC_CODE_NAMES, decodeGrpcMessage, grpcCodeFromHttp, httpStatusFromGrpc } from './grpc-status.js'
import { startCall } from './h2-sessions.js'
import { H2Call, type H2Error } from './h2/session.js'
import { encodeBlock } from './h2/hpack.js'
import { armDeadline, disarmDeadline, type DeadlineList, type Expiring } from '../../util/deadlines.js'

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
const EMPTY = Buffer.alloc(0)

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
    // The body as HttpExchange.onData kept it: a declared length that came in more than one
    // read is in `buffer` (chunks stays empty then), else the chunks.
    const buffer = this.buffer
    const body = this.size === 0 ? EMPTY : buffer !== null ? (this.size === buffer.length ? buffer : buffer.subarray(0, this.size)) : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size)
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
// gRPC unary over HTTP/2 cleartext (the gateway's own client, h2/session.ts: see there for
// why neither node:http2 nor undici).

/** completeTranscoded ignores the headers of an integration without responses: none are built. */
const NO_HEADERS: string[] = []
/** A header value HTTP/2 cannot carry (RFC 9113 §8.2.1): node:http2 refused these too. */
const INVALID_FIELD_VALUE = /[\0\r\n]/

/** grpc-timeout: milliseconds when they fit 8 digits, else seconds. */
export function grpcTimeout(ms: number): string {
  return ms <= MAX_TIMEOUT_DIGITS ? `${ms}m` : `${Math.ceil(ms / 1000)}S`
}

/** A route's request header block (HPACK) for one backend path, built once (the path changes only with path parameters or stage variables in the URI). */
interface RouteBlock {
  path: string
  block: Buffer
}
const routeBlockCache = new WeakMap<CompiledIntegration, RouteBlock>()

/** The call's header block for `path`: the last one built for the route when the path is the same. */
export function routeBlock(integ: CompiledIntegration, path: string): Buffer {
  const cached = routeBlockCache.get(integ)
  if (cached !== undefined && cached.path === path) return cached.block
  const block = encodeBlock([
    ':method', 'POST',
    ':scheme', 'http',
    ':path', path,
    ':authority', new URL(integ.origin!).host,
    'content-type', 'application/grpc',
    'te', 'trailers',
    // The integration timeout is the call's deadline, for the backend to see too.
    'grpc-timeout', grpcTimeout(integ.timeoutMs),
    'grpc-accept-encoding', GRPC_ACCEPT_ENCODING,
  ])
  routeBlockCache.set(integ, { path, block })
  return block
}

/** The value of `name` in a decoded header list, or undefined. */
function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

/** A string as HTTP/2 carries it: octets (UTF-8 for what latin1 cannot hold). */
function octets(value: string): string {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return Buffer.from(value, 'utf8').toString('latin1')
  return value
}

/** One gRPC unary call: the HTTP/2 stream's handler (H2Call), its deadline, and what the client waits for. */
export class GrpcExchange extends H2Call implements Expiring, Cancellable {
  readonly ctx: RequestContext
  readonly integ: CompiledIntegration
  readonly pb: CompiledProtobuf
  /** The response headers, or null before them. */
  headers: string[] | null = null
  /** The trailers, or null (none yet, or a trailers-only answer: grpc-status is in the headers). */
  trailers: string[] | null = null
  /** The answer's first chunk (a unary answer is most often one), then every chunk once a second came. */
  first: Buffer | null = null
  chunks: Buffer[] | null = null
  size = 0
  settled = false
  /** The call was sent a second time (at most once: after a GOAWAY or REFUSED_STREAM left it unprocessed). */
  retried = false
  // Expiring: the integration timeout, on the worker's one deadline timer (src/util/deadlines.ts).
  expireAt = 0
  expirePrev: Expiring | null = null
  expireNext: Expiring | null = null
  expireList: DeadlineList | null = null
  /** What was sent, kept for the one retry a GOAWAY allows. */
  block: Buffer | null = null
  frame: Buffer | null = null

  constructor(ctx: RequestContext, integ: CompiledIntegration, pb: CompiledProtobuf) {
    super()
    this.ctx = ctx
    this.integ = integ
    this.pb = pb
  }

  start(prepared: PreparedRequest, message: Uint8Array): void {
    // The client left while the method request ran (an authorizer, say): nothing goes out.
    if (clientGone(this.ctx.request.id)) {
      this.settled = true
      return
    }
    const integ = this.integ
    let block = routeBlock(integ, buildBackendPath(this.ctx, integ, false, prepared.overrides))
    // Mapped headers (requestParameters, template overrides) travel as metadata, after the route's fields.
    const h = prepared.headers
    let metadata: string[] | null = null
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!.toLowerCase()
      if (NOT_METADATA.has(name) || name.startsWith('grpc-') || name.charCodeAt(0) === 58) continue
      const value = h[i + 1]!
      if (INVALID_FIELD_VALUE.test(value)) {
        this.fail(classifyUpstreamError(null), `cannot start the call: the value of header "${name}" holds a character HTTP/2 forbids`)
        return
      }
      metadata ??= []
      // One value per name, the last one (as the header object node:http2 took had it).
      const at = metadata.indexOf(name)
      if (at !== -1 && at % 2 === 0) metadata[at + 1] = octets(value)
      else metadata.push(name, octets(value))
    }
    if (metadata !== null) block = Buffer.concat([block, encodeBlock(metadata)])
    // The length-prefixed message: flag 0 (not compressed), 4-byte big-endian length.
    const frame = Buffer.allocUnsafe(5 + message.byteLength)
    frame[0] = 0
    frame.writeUInt32BE(message.byteLength, 1)
    frame.set(message, 5)
    this.block = block
    this.frame = frame
    armDeadline(this, integ.timeoutMs)
    trackExchange(this.ctx.request.id, this)
    this.send()
  }

  /** Opens the stream and sends the message (again, after a GOAWAY left it unprocessed). */
  send(): void {
    this.h2block = this.block
    this.h2body = this.frame
    try {
      startCall(this.integ.origin!, this)
    } catch (err) {
      this.fail(classifyUpstreamError(err), `cannot start the call: ${(err as Error).message}`)
    }
  }

  h2Headers(fields: string[], trailers: boolean): void {
    if (trailers) this.trailers = fields
    else this.headers = fields
  }

  h2Data(chunk: Buffer): void {
    if (this.settled) return
    this.size += chunk.length
    if (this.size > MAX_INTEGRATION_RESPONSE_BYTES) {
      console.error(`[${this.ctx.requestId}] Execution failed due to configuration error: Integration response of reported length ${this.size} is larger than allowed maximum of ${MAX_INTEGRATION_RESPONSE_BYTES} bytes.`)
      this.first = null
      this.chunks = null
      this.fail(RESPONSE_TOO_LARGE, null)
      this.h2session?.cancel(this)
      return
    }
    if (this.first === null) this.first = chunk
    else if (this.chunks === null) this.chunks = [this.first, chunk]
    else this.chunks.push(chunk)
  }

  /** The deadline passed: 504, and the stream reset (CANCEL). */
  expire(): void {
    this.fail(TIMED_OUT, null)
    this.h2session?.cancel(this)
  }

  /** The front says the client has gone: the stream is reset (CANCEL); nobody reads an answer. */
  cancel(): void {
    if (this.settled) return
    this.settle()
    this.first = null
    this.chunks = null
    this.h2session?.cancel(this)
  }

  settle(): void {
    this.settled = true
    disarmDeadline(this)
    untrackExchange(this.ctx.request.id)
  }

  fail(f: UpstreamFailure, reason: string | null): void {
    if (this.settled) return
    this.settle()
    if (reason !== null) console.error(`[${this.ctx.requestId}] Execution failed: gRPC ${this.integ.origin}: ${reason}`)
    sendGatewayResponse(this.ctx, f.type, f.message, f.status)
  }

  /** The stream is done (answered, reset or broken): settle the call. */
  h2Closed(error: H2Error | null): void {
    if (this.settled) return
    const h = this.headers
    if (h === null) {
      // Not processed by the backend (above a GOAWAY's last-stream-id, or refused): once more, on a live session.
      if (error !== null && error.unprocessed && !this.retried) {
        this.retried = true
        this.trailers = null
        this.send()
        return
      }
      // No answer at all: a refused or broken connection, or a reset stream.
      this.fail(classifyUpstreamError(error), error === null ? 'the stream closed without an answer' : error.message)
      return
    }
    const status = Number(field(h, ':status'))
    // A trailers-only answer carries grpc-status in its headers.
    const meta = this.trailers !== null ? this.trailers : h
    const rawCode = field(meta, 'grpc-status')
    let code: number
    let message: string
    if (rawCode === undefined) {
      if (status === 200) {
        this.fail(BAD_ANSWER, error !== null ? `the call broke: ${error.message}` : 'the answer has no grpc-status')
        return
      }
      // Not a gRPC answer (a proxy's error page, say): the spec's HTTP → gRPC table.
      code = grpcCodeFromHttp(status)
      message = `the backend answered HTTP ${status} without grpc-status`
    } else {
      code = Number(rawCode)
      if (rawCode === '' || !Number.isInteger(code) || code < 0) {
        this.fail(BAD_ANSWER, `grpc-status ${JSON.stringify(rawCode)} is not a status code`)
        return
      }
      message = decodeGrpcMessage(field(meta, 'grpc-message') ?? '')
    }
    this.settle()
    if (code !== 0) {
      const body = encoder.encode(JSON.stringify({ code, message, details: [] }))
      if (rawCode === undefined) console.error(`[${this.ctx.requestId}] gRPC ${this.integ.origin}: ${message}: taken as ${GRPC_CODE_NAMES[code]}`)
      completeTranscoded(this.ctx, this.integ, httpStatusFromGrpc(code), this.metadataFor(meta), body)
      return
    }
    const contentType = field(h, 'content-type') ?? ''
    if (!contentType.startsWith('application/grpc')) return this.badAnswer(`Content-Type ${JSON.stringify(contentType)} is not application/grpc`)
    const data = this.chunks !== null ? Buffer.concat(this.chunks, this.size) : this.first ?? EMPTY
    this.first = null
    this.chunks = null
    if (data.length < 5) return this.badAnswer(data.length === 0 ? 'grpc-status OK without a response message' : 'a truncated message frame')
    const length = data.readUInt32BE(1)
    if (5 + length !== data.length) return this.badAnswer(5 + length > data.length ? 'a truncated message frame' : 'more than one message for a unary call')
    const flag = data[0]!
    if (flag === 0) return this.answer(data.subarray(5), meta)
    if (flag !== 1) return this.badAnswer(`a message frame with compressed-flag ${flag}`)
    // Compressed-flag 1: the message is in the answer's grpc-encoding (gRPC spec, PROTOCOL-HTTP2.md "Length-Prefixed-Message").
    const encoding = field(h, 'grpc-encoding') ?? 'identity'
    const inflater = encoding === 'gzip' ? gunzip : encoding === 'deflate' ? inflate : null
    if (inflater === null) return this.badAnswer(`a message compressed with grpc-encoding ${JSON.stringify(encoding)}, which was not offered (${GRPC_ACCEPT_ENCODING})`)
    // Off the thread (zlib's pool), a closure for compressed answers only.
    inflater(data.subarray(5), INFLATE_OPTIONS, (err, out) => {
      if (err !== null) this.badAnswer(`the ${encoding} message does not decompress: ${err.message}`)
      else this.answer(out, meta)
    })
  }

  /** The response message (uncompressed) to JSON, through the integration response. */
  answer(bytes: Uint8Array, meta: string[]): void {
    let json: Uint8Array
    try {
      json = encoder.encode(JSON.stringify(decodeToJson(this.pb.response, bytes)))
    } catch (err) {
      return this.badAnswer(`the message does not decode as ${this.pb.response.fullName}: ${(err as Error).message}`)
    }
    completeTranscoded(this.ctx, this.integ, 200, this.metadataFor(meta), json)
  }

  /** The metadata as headers when the integration response reads them; an integration without responses does not. */
  metadataFor(meta: string[]): string[] {
    return this.integ.responses.length === 0 && this.integ.defaultResponse === null ? NO_HEADERS : this.metadata(meta)
  }

  /** After settled was set: 502 with the reason logged. */
  badAnswer(reason: string): void {
    console.error(`[${this.ctx.requestId}] Execution failed: gRPC ${this.integ.origin}: ${reason}`)
    sendGatewayResponse(this.ctx, BAD_ANSWER.type, BAD_ANSWER.message, BAD_ANSWER.status)
  }

  /** Response headers and trailers as integration.response.header.* (grpc-status and grpc-message included); Content-Type is the JSON's. */
  metadata(meta: string[]): string[] {
    const out: string[] = ['content-type', JSON_CONTENT_TYPE]
    addMetadata(out, this.headers!)
    if (meta !== this.headers) addMetadata(out, meta)
    return out
  }
}

function addMetadata(out: string[], src: readonly string[]): void {
  for (let i = 0; i < src.length; i += 2) {
    const name = src[i]!
    if (name.charCodeAt(0) === 58 || name === 'content-type' || name === 'content-length' || name === 'date') continue
    out.push(name, name === 'grpc-message' ? decodeGrpcMessage(src[i + 1]!) : src[i + 1]!)
  }
}
