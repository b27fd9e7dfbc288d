// HTTP and HTTP_PROXY integrations. HTTP_PROXY passes the method request to the backend
// as it is (method, path through the URI's {placeholders}, query string, headers, body)
// and the backend's response back as it is. HTTP (non-proxy) sends only what
// requestParameters and the request template produce, and its response goes through the
// integration response (selectionPattern on the status code, templates, parameters).
import type { Dispatcher } from 'undici'
import { SourceKind, TargetKind } from '../integration-request/compile.js'
import { type CompiledIntegration, type UriPiece } from './compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { completeIntegration } from '../integration-response/complete.js'
import type { TemplateOverrides } from '../mapping/templates.js'
import { resolveMapping, resolveSource, resolveSourceValues } from '../integration-request/parameters.js'
import type { PreparedRequest } from '../integration-request/prepare.js'
import { MAX_INTEGRATION_RESPONSE_BYTES, clientGone, http1PoolFor, poolFor, trackExchange, untrackExchange } from './upstream.js'
import { buildHead, isIdempotent, type Connection, type Http1Pool, type Http1Request } from './http1/pool.js'
import { armDeadline, disarmDeadline, type DeadlineList, type Expiring } from '../util/deadlines.js'
import { INVALID_STATUS, RESPONSE_TOO_LARGE, TIMED_OUT, classifyUpstreamError, type UpstreamFailure } from './upstream-errors.js'
import { addGatewayHeaders, buildProxyRequestHeaders, dropMappedHopByHop, pushResponseHeader } from './headers.js'
import { addTraceHeaders } from '../observability/tracing.js'
import { noteIntegrationError, noteIntegrationRequest, noteIntegrationResponse } from '../observability/observe.js'

/** A '.' or '..' segment, which a backend would resolve (RFC 3986 §5.2.4). */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/

/**
 * Percent-encodes a decoded path value, keeping '/' between segments. Dot segments ('..'
 * also arrives as '%2e%2e') are sent as %2E: a value never takes the backend path outside
 * the integration URI's prefix.
 */
function encodePathValue(v: string): string {
  if (/^[A-Za-z0-9\-._~/]*$/.test(v) && !DOT_SEGMENT.test(v)) return v
  return v.split('/').map(encodePathSegment).join('/')
}

function encodePathSegment(s: string): string {
  return s === '.' ? '%2E' : s === '..' ? '%2E%2E' : encodeURIComponent(s)
}


/**
 * Builds the backend path (with query string) from the URI pieces and the mappings. AWS
 * service integrations pass their path's own pieces (after the origin: originLength 0).
 */
export function buildBackendPath(ctx: RequestContext, integ: CompiledIntegration, passQuery: boolean, overrides: TemplateOverrides | null, pieces: readonly UriPiece[] = integ.uri!, originLength: number = integ.uriOrigin!.length): string {
  let url = ''
  // Indexed loops here and below: for…of kept an iterator object per loop per request.
  const params = integ.requestParameters
  for (let p = 0; p < pieces.length; p++) {
    const piece = pieces[p]!
    if (piece.literal !== null) {
      url += piece.literal
      continue
    }
    let value: string | null = overrides?.path[piece.param!] ?? null
    if (value === null) for (let i = 0; i < params.length; i++) {
      const m = params[i]!
      if (m.target === TargetKind.Path && m.name === piece.param) {
        value = resolveMapping(ctx, m)
        break
      }
    }
    // Lenient: an unmapped placeholder takes the method's path parameter of the same name.
    if (value === null) value = resolveSource(ctx, SourceKind.MethodPath, piece.param!)
    url += value === null ? '' : encodePathValue(value)
  }
  let path = url.slice(originLength)
  if (path === '' || path.charCodeAt(0) !== 47) path = '/' + path
  let query = passQuery ? ctx.request.query : ''
  for (let i = 0; i < params.length; i++) {
    const m = params[i]!
    if (m.target !== TargetKind.Query) continue
    // A multi-value source goes out repeated (m=a&m=b), each value encoded on its own.
    for (const v of resolveSourceValues(ctx, m)) query += (query === '' ? '' : '&') + encodeURIComponent(m.name) + '=' + encodeURIComponent(v)
  }
  if (overrides !== null) {
    for (const [k, v] of Object.entries(overrides.querystring)) query += (query === '' ? '' : '&') + encodeURIComponent(k) + '=' + encodeURIComponent(v)
  }
  if (query !== '') path += (path.indexOf('?') === -1 ? '?' : '&') + query
  // Raw bytes past ASCII (a client's UTF-8 query string) and controls go out
  // percent-encoded, as UTF-8: undici refuses them in a request target.
  if (UNSAFE_TARGET.test(path)) path = path.replace(UNSAFE_TARGET_RUNS, encodeURIComponent)
  return path
}

/** A character that may not stand raw in a request target (RFC 9112 §3.2: visible ASCII only). */
const UNSAFE_TARGET = /[^\x21-\x7e]/
const UNSAFE_TARGET_RUNS = /[^\x21-\x7e]+/g

/**
 * One backend exchange; its methods are undici's handler protocol and the gateway's own
 * HTTP/1.1 client's (http1/pool.ts, for plain-HTTP origins), without closures. Its
 * integration timeout is a deadline on the worker's one timer (src/util/deadlines.ts).
 */
export class HttpExchange implements Dispatcher.DispatchHandler, Http1Request, Expiring {
  readonly ctx: RequestContext
  readonly integ: CompiledIntegration
  /** HTTP_PROXY: the response passes through; HTTP: it goes through the integration response. */
  readonly proxy: boolean
  /** Aborts the exchange once undici has connected it; null before. */
  abort: ((err?: Error) => void) | null = null
  status = 0
  headers: string[] = []
  chunks: Buffer[] = []
  size = 0
  /** Content-Length the backend declared, or -1. */
  declared = -1
  /** The body's one buffer when the length was declared (chunks copied in as they come); else null. */
  buffer: Buffer | null = null
  settled = false
  // Expiring: the integration timeout.
  expireAt = 0
  expirePrev: Expiring | null = null
  expireNext: Expiring | null = null
  expireList: DeadlineList | null = null
  // Http1Request: set when the gateway's own client carries it.
  h1Pool: Http1Pool | null = null
  h1Head = ''
  h1Body: Buffer | null = null
  h1HeadMethod = false
  h1Idempotent = false
  h1Retried = false
  h1Queued = false
  h1Conn: Connection | null = null

  constructor(ctx: RequestContext, integ: CompiledIntegration, proxy: boolean) {
    this.ctx = ctx
    this.integ = integ
    this.proxy = proxy
  }

  /** HTTP_PROXY: the client's headers (less those API Gateway drops), X-Forwarded-For, mappings, its own. */
  startProxy(): void {
    this.#dispatch(this.integ.origin!, buildBackendPath(this.ctx, this.integ, true, null), buildProxyRequestHeaders(this.ctx, this.integ), this.ctx.body)
  }

  /** HTTP: only what the integration request prepared. */
  startPrepared(prepared: PreparedRequest): void {
    const headers = prepared.headers
    dropMappedHopByHop(headers)
    addGatewayHeaders(this.ctx, this.integ, headers, true)
    this.#dispatch(this.integ.origin!, buildBackendPath(this.ctx, this.integ, false, prepared.overrides), headers, prepared.body)
  }

  /** AWS service integrations: a request already rendered and signed for `origin`. */
  startSigned(origin: string, path: string, headers: string[], body: Uint8Array | null): void {
    this.#dispatch(origin, path, headers, body)
  }

  #dispatch(origin: string, path: string, headers: string[], body: Uint8Array | null): void {
    // The client left while the method request ran (an authorizer, say): nothing goes out.
    if (clientGone(this.ctx.request.id)) {
      this.settled = true
      return
    }
    if (this.ctx.trace !== null) addTraceHeaders(this.ctx.trace, headers)
    noteIntegrationRequest(this.ctx, origin + path, headers, body)
    const method = this.integ.backendMethod ?? this.ctx.request.method
    const buffer = body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    armDeadline(this, this.integ.timeoutMs)
    trackExchange(this.ctx.request.id, this)
    // Plain HTTP goes through the gateway's own client; TLS, tlsConfig and requests only
    // undici should judge (buildHead() says null) stay on undici.
    const lean = this.integ.tls === null ? http1PoolFor(origin) : null
    if (lean !== null) {
      const head = buildHead(method, path, headers, lean.hostHeader, buffer === null ? 0 : buffer.length)
      if (head !== null) {
        this.h1Pool = lean
        this.h1Head = head
        this.h1Body = buffer
        this.h1HeadMethod = method === 'HEAD'
        this.h1Idempotent = isIdempotent(method)
        lean.dispatch(this)
        return
      }
    }
    const opts: Dispatcher.DispatchOptions = {
      method: method as Dispatcher.HttpMethod,
      path,
      headers,
      body: buffer,
      // undici's own timeouts, bounded by the integration timeout like the deadline above.
      headersTimeout: this.integ.timeoutMs,
      bodyTimeout: this.integ.timeoutMs,
    }
    try {
      poolFor(origin, this.integ.tls).dispatch(opts, this)
    } catch (err) {
      noteIntegrationError(this.ctx, err)
      this.fail(classifyUpstreamError(err))
    }
  }

  expire(): void {
    this.timeout()
  }

  /** Stops the backend side, whichever client carries it. */
  #stopBackend(reason: string): void {
    if (this.h1Pool !== null) this.h1Pool.abort(this)
    else if (this.abort !== null) this.abort(new Error(reason))
  }

  timeout(): void {
    this.fail(TIMED_OUT)
    this.#stopBackend('integration timeout')
  }

  fail(f: UpstreamFailure): void {
    if (this.settled) return
    this.#settle()
    sendGatewayResponse(this.ctx, f.type, f.message, f.status)
  }

  /** The front says the client has gone: stop the backend exchange; nobody reads an answer. */
  cancel(): void {
    if (this.settled) return
    this.#settle()
    this.chunks = []
    this.buffer = null
    this.#stopBackend('client gone')
  }

  /** Past API Gateway's 10 MB: a configuration error (500), the rest of the body unread. */
  #tooLarge(length: number): void {
    if (this.settled) return
    console.error(`[${this.ctx.requestId}] Execution failed due to configuration error: Integration response of reported length ${length} is larger than allowed maximum of ${MAX_INTEGRATION_RESPONSE_BYTES} bytes.`)
    this.chunks = []
    this.buffer = null
    this.fail(RESPONSE_TOO_LARGE)
    this.#stopBackend('integration response too large')
  }

  /** Settled by a subclass that completes the exchange its own way (deadline off, untracked). */
  markSettled(): void {
    this.#settle()
  }

  #settle(): void {
    this.settled = true
    disarmDeadline(this)
    untrackExchange(this.ctx.request.id)
  }

  // undici's own handler protocol (onConnect/onHeaders/onData/onComplete/onError): the
  // newer onResponse* methods are adapted to it per request by a wrapper that allocates
  // a controller and parses the headers into an object; this way the raw pairs arrive
  // as the backend sent them, names in their own case.

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort
    if (this.settled) abort(new Error('already answered'))
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], _resume: () => void, _statusText: string): boolean {
    if (!this.#status(statusCode)) return false
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      if (!this.#header(rawHeaders[i]!.toString('latin1'), rawHeaders[i + 1]!.toString('latin1'))) return false
    }
    return true
  }

  /** The gateway's own client: the final head, names and values as the backend sent them. */
  onHttp1Head(statusCode: number, headers: string[]): boolean {
    if (!this.#status(statusCode)) return false
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (!this.#header(headers[i]!, headers[i + 1]!)) return false
    }
    return true
  }

  #status(statusCode: number): boolean {
    if (this.settled) return false
    if (statusCode < 100 || statusCode > 599) {
      // Not an HTTP status API Gateway can answer with: the endpoint response is malformed (502).
      this.fail(INVALID_STATUS)
      this.#stopBackend('invalid backend status')
      return false
    }
    this.status = statusCode
    return true
  }

  #header(name: string, value: string): boolean {
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      // A declared length past the cap fails at once, before any of the body is read.
      const declared = Number(value)
      if (declared > MAX_INTEGRATION_RESPONSE_BYTES) {
        this.#tooLarge(declared)
        return false
      }
      if (Number.isInteger(declared)) this.declared = declared
    }
    // HTTP_PROXY returns the backend's headers (remapped as API Gateway does); HTTP and AWS
    // keep them as they came, for integration.response.header.* mappings only.
    if (this.proxy) pushResponseHeader(this.headers, name, value, false, true)
    else this.headers.push(name, value)
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return false
    // Counted as it arrives: an endless or huge body stops at the cap, never buffered whole.
    this.size += chunk.length
    if (this.size > MAX_INTEGRATION_RESPONSE_BYTES) {
      this.#tooLarge(this.size)
      return false
    }
    const at = this.size - chunk.length
    // The usual small answer: the whole declared body in its first chunk, kept as it is (no
    // allocation, no copy); a later chunk (more than declared) falls back to the list below.
    if (at === 0 && chunk.length === this.declared && this.chunks.length === 0) {
      this.chunks.push(chunk)
      return true
    }
    // Known length: one buffer, each chunk copied in once and let go (allocated with the
    // first chunk, so a HEAD or 304 answer costs nothing).
    if (at === 0 && this.declared > chunk.length && this.chunks.length === 0) this.buffer = Buffer.allocUnsafe(this.declared)
    const buffer = this.buffer
    if (buffer !== null) {
      if (this.size <= buffer.length) {
        chunk.copy(buffer, at)
        return true
      }
      // More than declared (undici fails such a response anyway): back to a list of chunks.
      this.chunks.push(buffer.subarray(0, at))
      this.buffer = null
    }
    this.chunks.push(chunk)
    return true
  }

  onComplete(): void {
    if (this.settled) return
    this.#settle()
    const buffer = this.buffer
    const body = this.size === 0 ? null : buffer !== null ? (this.size === buffer.length ? buffer : buffer.subarray(0, this.size)) : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size)
    noteIntegrationResponse(this.ctx, this.status, this.headers, body)
    if (this.proxy) this.ctx.send(this.status, this.headers, body)
    else completeIntegration(this.ctx, this.integ, { selector: String(this.status), headers: this.headers, body })
  }

  onError(err: Error): void {
    noteIntegrationError(this.ctx, err)
    this.fail(classifyUpstreamError(err))
  }
}

