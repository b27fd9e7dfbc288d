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
import { poolFor } from './upstream.js'
import { INVALID_STATUS, TIMED_OUT, classifyUpstreamError, type UpstreamFailure } from './upstream-errors.js'
import { addGatewayHeaders, buildProxyRequestHeaders, dropMappedHopByHop, pushResponseHeader } from './headers.js'

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
  for (const piece of pieces) {
    if (piece.literal !== null) {
      url += piece.literal
      continue
    }
    let value: string | null = overrides?.path[piece.param!] ?? null
    if (value === null) for (const m of integ.requestParameters) {
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
  for (const m of integ.requestParameters) {
    if (m.target !== TargetKind.Query) continue
    // A multi-value source goes out repeated (m=a&m=b), each value encoded on its own.
    for (const v of resolveSourceValues(ctx, m)) query += (query === '' ? '' : '&') + encodeURIComponent(m.name) + '=' + encodeURIComponent(v)
  }
  if (overrides !== null) {
    for (const [k, v] of Object.entries(overrides.querystring)) query += (query === '' ? '' : '&') + encodeURIComponent(k) + '=' + encodeURIComponent(v)
  }
  if (query !== '') path += (path.indexOf('?') === -1 ? '?' : '&') + query
  return path
}

function onExchangeTimeout(exchange: HttpExchange): void {
  exchange.timeout()
}


/** One backend exchange; its methods are undici's handler protocol (no closures). */
export class HttpExchange implements Dispatcher.DispatchHandler {
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
  timer: NodeJS.Timeout | null = null
  settled = false

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
    const opts: Dispatcher.DispatchOptions = {
      method: (this.integ.backendMethod ?? this.ctx.request.method) as Dispatcher.HttpMethod,
      path,
      headers,
      body: body === null ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    }
    this.timer = setTimeout(onExchangeTimeout, this.integ.timeoutMs, this)
    try {
      poolFor(origin, this.integ.tls).dispatch(opts, this)
    } catch (err) {
      this.fail(classifyUpstreamError(err))
    }
  }

  timeout(): void {
    this.timer = null
    this.fail(TIMED_OUT)
    if (this.abort !== null) this.abort(new Error('integration timeout'))
  }

  fail(f: UpstreamFailure): void {
    if (this.settled) return
    this.settled = true
    if (this.timer !== null) clearTimeout(this.timer)
    sendGatewayResponse(this.ctx, f.type, f.message, f.status)
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
    if (statusCode < 100 || statusCode > 599) {
      // Not an HTTP status API Gateway can answer with: the endpoint response is malformed (502).
      this.fail(INVALID_STATUS)
      if (this.abort !== null) this.abort(new Error('invalid backend status'))
      return false
    }
    this.status = statusCode
    const out = this.headers
    const proxy = this.proxy
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1')
      const value = rawHeaders[i + 1]!.toString('latin1')
      // HTTP_PROXY returns the backend's headers (remapped as API Gateway does); HTTP and AWS
      // keep them as they came, for integration.response.header.* mappings only.
      if (proxy) pushResponseHeader(out, name, value, false, true)
      else out.push(name, value)
    }
    return true
  }

  onData(chunk: Buffer): boolean {
    this.chunks.push(chunk)
    this.size += chunk.length
    return true
  }

  onComplete(): void {
    if (this.settled) return
    this.settled = true
    if (this.timer !== null) clearTimeout(this.timer)
    const body = this.size === 0 ? null : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size)
    if (this.proxy) this.ctx.send(this.status, this.headers, body)
    else completeIntegration(this.ctx, this.integ, { selector: String(this.status), headers: this.headers, body })
  }

  onError(err: Error): void {
    this.fail(classifyUpstreamError(err))
  }
}

