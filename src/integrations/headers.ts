// The headers API Gateway adds, drops and remaps between the client, the integration and
// the method response. Pinned by LocalStack's AWS-validated snapshots
// (test_apigateway_integrations.py::TestApiGatewayHeaderRemapping, HTTP, HTTP_PROXY, AWS and
// AWS_PROXY) and the guide's "Amazon API Gateway important notes for REST APIs".
import type { RequestContext } from '../pipeline/context.js'
import { TargetKind } from '../integration-request/compile.js'
import type { CompiledIntegration } from './compile.js'
import { resolveMapping } from '../integration-request/parameters.js'
import { setHeader } from '../util/header-pairs.js'

/**
 * Client headers that never reach an integration, proxy or not (the snapshots' request
 * side): connection-level and server-side headers.
 */
const DROPPED_FROM_REQUEST = new Set([
  'connection', 'content-length', 'content-md5', 'expect', 'max-forwards', 'proxy-authenticate', 'server',
  'te', 'transfer-encoding', 'trailer', 'upgrade', 'www-authenticate',
  // Hop-by-hop by RFC 9110 §7.6.1, and HTTP/2's upgrade header.
  'keep-alive', 'proxy-connection', 'http2-settings',
])
/** HTTP_PROXY also drops these client headers (Host is the backend's, Via and Content-Encoding are not passed). */
const DROPPED_FROM_HTTP_PROXY = new Set(['host', 'via', 'content-encoding'])
/** Both lists in one set: one lookup per client header on the HTTP_PROXY path. */
const DROPPED_FROM_PROXY_REQUEST = new Set([...DROPPED_FROM_REQUEST, ...DROPPED_FROM_HTTP_PROXY])
/**
 * Mapped (requestParameters or template override) headers dropped before the request goes
 * out: HTTP and HTTP_PROXY drop Expect, Proxy-Authenticate, TE and Via as recorded; the
 * connection-level ones (Connection, Upgrade, Keep-Alive) describe API Gateway's own
 * connection, never the mapping's.
 */
const DROPPED_MAPPED = new Set(['expect', 'proxy-authenticate', 'te', 'via', 'connection', 'upgrade', 'keep-alive', 'proxy-connection', 'http2-settings'])

/** Header names as API Gateway writes them in the Lambda event and the requests it adds headers to. */
const FORWARDED_FOR = 'X-Forwarded-For'

/** The port the client addressed (Host), for X-Forwarded-Port. */
function forwardedPort(ctx: RequestContext): string {
  const host = ctx.header('host')
  if (host !== null) {
    const m = /:(\d+)$/.exec(host)
    if (m !== null) return m[1]!
  }
  return '80'
}

/**
 * The headers of a Lambda proxy event: the client's, less the dropped ones, plus
 * X-Forwarded-For/-Port/-Proto and X-Amzn-Trace-Id (the AWS_PROXY snapshots). Authorization
 * is always written `Authorization`, whatever case the client used (the recorded
 * test_lambda_aws_proxy_integration: "authorization" and "aUThorization" both arrive so).
 */
export function lambdaEventHeaders(ctx: RequestContext): string[] {
  const h = ctx.request.headers
  const out: string[] = []
  let xff: string | null = null
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!
    const lower = name.toLowerCase()
    if (DROPPED_FROM_REQUEST.has(lower)) continue
    if (lower === 'x-forwarded-for') {
      xff = xff === null ? h[i + 1]! : xff + ', ' + h[i + 1]!
      continue
    }
    if (lower === 'x-forwarded-port' || lower === 'x-forwarded-proto' || lower === 'x-amzn-trace-id') continue
    out.push(lower === 'authorization' ? 'Authorization' : name, h[i + 1]!)
  }
  const ip = ctx.request.remoteAddress
  out.push(FORWARDED_FOR, xff === null ? ip : xff + ', ' + ip, 'X-Forwarded-Port', forwardedPort(ctx), 'X-Forwarded-Proto', 'http', 'X-Amzn-Trace-Id', ctx.traceId())
  return out
}

/** HTTP_PROXY: the client's headers (less the dropped ones), X-Forwarded-For, the mappings, then API Gateway's own. */
export function buildProxyRequestHeaders(ctx: RequestContext, integ: CompiledIntegration): string[] {
  const h = ctx.request.headers
  const headers: string[] = []
  let xff: string | null = null
  // Headers the client names in Connection belong to its hop (RFC 9110 §7.6.1).
  const connection = ctx.header('connection')
  const nominated = connection === null || connection === 'keep-alive' || connection === 'close' ? null : connectionOptions(connection)
  for (let i = 0; i < h.length; i += 2) {
    // RequestRecord names are lower-case (pool/protocol.ts): no per-header toLowerCase on the hot path.
    const name = h[i]!
    const lower = name
    if (DROPPED_FROM_PROXY_REQUEST.has(lower)) continue
    if (nominated !== null && nominated.includes(lower)) continue
    if (lower === 'x-forwarded-for') {
      xff = xff === null ? h[i + 1]! : xff + ', ' + h[i + 1]!
      continue
    }
    if (lower === 'x-amzn-trace-id' || lower === 'x-amzn-apigateway-api-id') continue
    headers.push(name, h[i + 1]!)
  }
  headers.push('x-forwarded-for', xff === null ? ctx.request.remoteAddress : xff + ', ' + ctx.request.remoteAddress)
  const params = integ.requestParameters
  for (let i = 0; i < params.length; i++) {
    const m = params[i]!
    if (m.target !== TargetKind.Header || DROPPED_MAPPED.has(m.name)) continue
    const v = resolveMapping(ctx, m)
    if (v !== null) setHeader(headers, m.name, v)
  }
  addGatewayHeaders(ctx, integ, headers, false)
  return headers
}

/** The lower-cased field names a Connection header lists (`keep-alive, X-Foo` → ['keep-alive', 'x-foo']). */
function connectionOptions(value: string): string[] {
  const names: string[] = []
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase()
    if (name !== '') names.push(name)
  }
  return names
}

/** Removes the mapped headers API Gateway never sends (in place). */
export function dropMappedHopByHop(headers: string[]): void {
  let w = 0
  for (let r = 0; r < headers.length; r += 2) {
    if (DROPPED_MAPPED.has(headers[r]!.toLowerCase())) continue
    headers[w++] = headers[r]!
    headers[w++] = headers[r + 1]!
  }
  headers.length = w
}

/**
 * What API Gateway adds to every HTTP request it makes to an HTTP or HTTP_PROXY backend
 * (the recorded "no-param-integration" requests): User-Agent AmazonAPIGateway_{apiId}
 * unless one is set, Accept: application/json for non-proxy integrations unless mapped,
 * X-Amzn-Trace-Id and X-Amzn-Apigateway-Api-Id. A VPC link target gets the URI's Host.
 */
export function addGatewayHeaders(ctx: RequestContext, integ: CompiledIntegration, headers: string[], nonProxy: boolean): void {
  let ua = false
  let accept = false
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!.toLowerCase()
    if (n === 'user-agent') ua = true
    else if (n === 'accept') accept = true
  }
  if (!ua) headers.push('User-Agent', 'AmazonAPIGateway_' + ctx.api!.id)
  if (nonProxy && !accept) headers.push('Accept', 'application/json')
  headers.push('X-Amzn-Trace-Id', ctx.traceId(), 'X-Amzn-Apigateway-Api-Id', ctx.api!.id)
  if (integ.hostHeader !== null) setHeader(headers, 'host', integ.hostHeader)
}

/** Backend or function response headers API Gateway returns as x-amzn-Remapped-{name}, proxy or not. */
const REMAPPED_COMMON: ReadonlyMap<string, string> = new Map([
  ['connection', 'Connection'], ['content-length', 'Content-Length'], ['date', 'Date'], ['server', 'Server'],
])
/** Method response headers of non-proxy integrations remapped as well (the HTTP and AWS "full-integration" snapshots). */
const REMAPPED_NON_PROXY: ReadonlyMap<string, string> = new Map([
  ...REMAPPED_COMMON,
  ['authorization', 'Authorization'], ['content-md5', 'Content-MD5'], ['expect', 'Expect'], ['host', 'Host'],
  ['max-forwards', 'Max-Forwards'], ['proxy-authenticate', 'Proxy-Authenticate'], ['trailer', 'Trailer'],
  ['upgrade', 'Upgrade'], ['user-agent', 'User-Agent'], ['www-authenticate', 'WWW-Authenticate'],
])
/** Never returned: they describe API Gateway's own connection to the client. */
const RESPONSE_DROPPED = new Set(['transfer-encoding', 'keep-alive', 'proxy-connection', 'http2-settings'])
/** HTTP_PROXY also drops a backend's Via, TE, Trailer and Upgrade. */
const RESPONSE_DROPPED_PROXY = new Set(['via', 'te', 'trailer', 'upgrade'])

/**
 * Appends one response header as API Gateway returns it: remapped to
 * x-amzn-Remapped-{Name}, dropped, or as is. `nonProxy` selects the longer remap list.
 */
export function pushResponseHeader(out: string[], name: string, value: string, nonProxy: boolean, proxyHttp: boolean): void {
  const lower = name.toLowerCase()
  if (RESPONSE_DROPPED.has(lower) || (proxyHttp && RESPONSE_DROPPED_PROXY.has(lower))) return
  const remapped = (nonProxy ? REMAPPED_NON_PROXY : REMAPPED_COMMON).get(lower)
  if (remapped !== undefined) out.push('x-amzn-Remapped-' + remapped, value)
  else out.push(name, value)
}
