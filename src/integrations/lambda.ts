// AWS_PROXY and AWS integrations with Lambda functions: the function runs in the
// function host (functions/), reached through this worker's client.
// AWS_PROXY sends the payload format 1.0 event and turns the function's result into the
// response; AWS sends the rendered request template and sends the result (or the
// function error, matched by selectionPattern against errorMessage) through the
// integration response.
import type { CompiledIntegration } from './compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { completeIntegration } from '../integration-response/complete.js'
import { prepareIntegrationRequest } from '../integration-request/prepare.js'
import { connectFunctionHost, type DirectPayload, type FunctionClient } from '../functions/client.js'
import { encodeProxyEvent, parseProxyResult, type ProxyEventInput } from '../functions/event.js'
import { PackedProxyEvent, packProxyEvent } from '../functions/packed-event.js'
import { noteIntegrationError, noteIntegrationRequest, noteIntegrationResponse, wantsEndpointRequestBody } from '../observability/observe.js'
import type { InvokeOutcome } from '../functions/protocol.js'
import { authorizerProxyObject } from '../method-request/authorization/authorizer-outcome.js'
import { lambdaEventHeaders, pushResponseHeader } from './headers.js'
import { findHeader } from '../util/header-pairs.js'
import { MAX_INTEGRATION_RESPONSE_BYTES, clientGone, trackExchange, untrackExchange, type Cancellable } from './upstream.js'

/** A Lambda call in flight, stopped when the front says its client has gone (upstream.ts cancelExchange). */
class LambdaCall implements Cancellable {
  cancelled = false
  constructor(
    readonly client: FunctionClient,
    readonly requestKey: number,
    readonly integ: CompiledIntegration,
  ) {}

  cancel(): void {
    this.cancelled = true
    this.client.cancelRequest(this.requestKey)
  }
}

/**
 * Starts a call for ctx, tracked for cancellation; null when the client has gone already
 * (nothing goes out, as for HTTP integrations). `then` runs unless the call was cancelled.
 */
function startCall(ctx: RequestContext, c: FunctionClient, integ: CompiledIntegration, payload: Uint8Array | DirectPayload, then: (ctx: RequestContext, integ: CompiledIntegration, outcome: InvokeOutcome) => void): void {
  const key = ctx.request.id
  if (clientGone(key)) return
  const call = new LambdaCall(c, key, integ)
  trackExchange(key, call)
  c.invoke(integ.lambdaFunction!, payload, { timeoutMs: integ.timeoutMs, requestId: ctx.requestId, requestKey: key }).then((outcome) => {
    if (call.cancelled) return
    untrackExchange(key)
    then(ctx, call.integ, outcome)
  })
}

/**
 * Path parameters as the Lambda proxy event carries them: the request path's own text,
 * still percent-encoded (`%2B` stays `%2B`, recorded), one trailing slash dropped;
 * a greedy {name+} takes the rest of the path, empty segments included.
 */
export function rawPathParameters(resourcePath: string, path: string): Record<string, string> | null {
  if (resourcePath.indexOf('{') === -1) return null
  let end = path.length
  if (end > 1 && path.charCodeAt(end - 1) === 47) end--
  const out: Record<string, string> = {}
  let pos = 1
  let segStart = 1
  while (segStart <= resourcePath.length) {
    let segEnd = resourcePath.indexOf('/', segStart)
    if (segEnd === -1) segEnd = resourcePath.length
    const seg = resourcePath.slice(segStart, segEnd)
    if (seg.endsWith('+}')) {
      out[seg.slice(1, -2)] = path.slice(pos, end)
      return out
    }
    let next = path.indexOf('/', pos)
    if (next === -1 || next > end) next = end
    if (seg.startsWith('{')) out[seg.slice(1, -1)] = path.slice(pos, next)
    pos = next + 1
    segStart = segEnd + 1
  }
  return out
}

const EMPTY_EVENT = new TextEncoder().encode('{}')
let client: FunctionClient | null = null
let hostName: string | null = null

/** Names the function host of this gateway (WorkerInit.functionsHost); null when none runs. */
export function setFunctionHost(name: string | null): void {
  hostName = name
}

/** This worker's client of the function host (integrations and Lambda authorizers share it); null when none runs. */
export function functionClient(): FunctionClient | null {
  if (hostName === null) return null
  if (client === null) client = connectFunctionHost(hostName)
  return client
}

export function closeFunctionClient(): void {
  client?.close()
  client = null
}

/** Answers the failures both integration kinds share; true when it answered. */
function answerFailure(ctx: RequestContext, outcome: InvokeOutcome): boolean {
  switch (outcome.kind) {
    case 'timeout':
      // Only the integration's timeoutInMillis is API Gateway's 504; the function's own
      // timeout is a function error (the callers turn it into one before this).
      console.error(`[${ctx.requestId}] Execution failed due to a timeout error (after ${outcome.afterMs} ms)`)
      sendGatewayResponse(ctx, 'INTEGRATION_TIMEOUT')
      return true
    case 'crash':
      console.error(`[${ctx.requestId}] function failed: ${outcome.reason}`)
      sendGatewayResponse(ctx, 'DEFAULT_5XX', 'Internal server error', 502)
      return true
    case 'not-found':
      console.error(`[${ctx.requestId}] Execution failed due to configuration error: function ${ctx.method!.integration!.lambdaFunction} is not in the functions config`)
      sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
      return true
    case 'too-large':
      // As for HTTP integrations (http.ts): API Gateway's 10 MB cap is a configuration error, 500.
      console.error(`[${ctx.requestId}] Execution failed due to configuration error: Integration response of reported length ${outcome.length} is larger than allowed maximum of ${MAX_INTEGRATION_RESPONSE_BYTES} bytes.`)
      sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
      return true
    default:
      return false
  }
}

/** IntegrationLatency and $context.integration.status / .error for a Lambda call (Invoke answers 200, also for a function error). */
function noteInvokeOutcome(ctx: RequestContext, outcome: InvokeOutcome): void {
  if (outcome.kind === 'ok' || outcome.kind === 'function-error') noteIntegrationResponse(ctx, 200, null, outcome.payload)
  else if (outcome.kind === 'timeout' && outcome.source === 'function') noteIntegrationResponse(ctx, 200, null, null)
  else noteIntegrationError(ctx, { message: outcome.kind === 'crash' ? outcome.reason : outcome.kind === 'timeout' ? 'Endpoint request timed out' : outcome.kind === 'too-large' ? 'Integration response too large' : 'function not found' })
}

function noHost(ctx: RequestContext): void {
  console.error(`[${ctx.requestId}] Execution failed due to configuration error: no functions are configured (the gateway config's functions: section)`)
  sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
}

export function runLambdaProxy(ctx: RequestContext, integ: CompiledIntegration): void {
  const c = functionClient()
  if (c === null) return noHost(ctx)
  const req = ctx.request
  const api = ctx.api!
  const stage = ctx.stage!
  const method = ctx.method!
  const pathParameters = rawPathParameters(method.resourcePath, ctx.path)
  const input: ProxyEventInput = {
    method: req.method,
    path: ctx.path,
    requestPath: req.url,
    query: req.query,
    headers: lambdaEventHeaders(ctx),
    body: ctx.body,
    isBinary: api.binary.isBinary(ctx.header('content-type')),
    resourcePath: method.resourcePath,
    resourceId: method.resourceId,
    pathParameters,
    stage: stage.name,
    stageVariables: Object.keys(stage.variables).length === 0 ? null : stage.variables,
    requestId: ctx.requestId,
    extendedRequestId: ctx.extendedRequestId,
    // The config's account; without one, the account of the function ARN in the URI.
    accountId: api.accountIdConfigured || integ.lambdaAccount === null ? api.accountId : integ.lambdaAccount,
    apiId: api.id,
    deploymentId: api.deploymentId,
    domainName: ctx.header('host') ?? '',
    sourceIp: req.remoteAddress,
    requestTimeEpoch: req.receivedAt,
    protocol: 'HTTP/1.1',
    authorizer: ctx.authorizer === null ? null : authorizerProxyObject(ctx.authorizer),
    // requestContext.identity: the IAM caller's fields (AWS_IAM), apiKey / apiKeyId when the method required a key.
    identity: ctx.identity === null && ctx.apiKey === null ? null : { ...(ctx.identity as Readonly<Record<string, string | null>> | null), ...(ctx.apiKey === null ? {} : { apiKey: ctx.apiKey.value, apiKeyId: ctx.apiKey.id }) },
  }
  // Packed for a local instance (JSON only if the call goes to the host), unless the
  // execution log wants the request body as sent.
  const packed = wantsEndpointRequestBody(ctx) ? null : packProxyEvent(input)
  if (packed !== null) {
    noteIntegrationRequest(ctx, `lambda:${integ.lambdaFunction!}`, null, null)
    startCall(ctx, c, integ, new PackedProxyEvent(packed, input), afterProxyCall)
    return
  }
  const payload = encodeProxyEvent(input)
  noteIntegrationRequest(ctx, `lambda:${integ.lambdaFunction!}`, null, payload)
  startCall(ctx, c, integ, payload, afterProxyCall)
}

function afterProxyCall(ctx: RequestContext, _integ: CompiledIntegration, outcome: InvokeOutcome): void {
  const api = ctx.api!
  noteInvokeOutcome(ctx, outcome)
  if (outcome.kind === 'timeout' && outcome.source === 'function') {
    // Lambda reports its own timeout as a function error: 502, as for any other.
    console.error(`[${ctx.requestId}] Lambda execution failed with status 200 due to customer function error: ${outcome.errorMessage}`)
    sendGatewayResponse(ctx, 'DEFAULT_5XX', 'Internal server error', 502)
    return
  }
  if (answerFailure(ctx, outcome)) return
  if (outcome.kind === 'function-error') {
    console.error(`[${ctx.requestId}] Lambda execution failed with status 200 due to customer function error: ${outcome.errorMessage}`)
    sendGatewayResponse(ctx, 'DEFAULT_5XX', 'Internal server error', 502)
    return
  }
  if (outcome.kind !== 'ok') return
  // isBase64Encoded is decoded only for a binary response: binaryMediaTypes matching Accept.
  const result = parseProxyResult(outcome.payload, api.binary.isBinary(ctx.header('accept')))
  if (result.kind === 'malformed') {
    console.error(`[${ctx.requestId}] Execution failed due to configuration error: Malformed Lambda proxy response (${result.reason})`)
    sendGatewayResponse(ctx, 'DEFAULT_5XX', 'Internal server error', 502)
    return
  }
  sendProxyResult(ctx, result.statusCode, result.headers, result.body)
}

/**
 * The function's response as API Gateway returns it: Content-Type application/json when the
 * result names none (recorded "invoke-api-with-headers"), Connection/Content-Length/Date/
 * Server remapped to x-amzn-Remapped-*, and the request's X-Amzn-Trace-Id.
 */
function sendProxyResult(ctx: RequestContext, status: number, resultHeaders: readonly string[], body: Uint8Array): void {
  const headers: string[] = []
  for (let i = 0; i < resultHeaders.length; i += 2) pushResponseHeader(headers, resultHeaders[i]!, resultHeaders[i + 1]!, false, false)
  if (findHeader(headers, 'content-type') === null) headers.push('Content-Type', 'application/json')
  if (findHeader(headers, 'x-amzn-trace-id') === null) headers.push('X-Amzn-Trace-Id', ctx.traceId())
  ctx.send(status, headers, body.byteLength === 0 ? null : body)
}

export function runLambda(ctx: RequestContext, integ: CompiledIntegration): void {
  const c = functionClient()
  if (c === null) return noHost(ctx)
  const prepared = prepareIntegrationRequest(ctx, integ)
  if (prepared === null) return
  // Lambda's Invoke takes an empty payload as the event {}.
  const payload = prepared.body === null || prepared.body.byteLength === 0 ? EMPTY_EVENT : prepared.body
  noteIntegrationRequest(ctx, `lambda:${integ.lambdaFunction!}`, null, payload)
  startCall(ctx, c, integ, payload, afterCall)
}

function afterCall(ctx: RequestContext, integ: CompiledIntegration, outcome: InvokeOutcome): void {
  noteInvokeOutcome(ctx, outcome)
  if (outcome.kind === 'timeout' && outcome.source === 'function') {
    // The function's own timeout is a function error: its errorMessage ("Task timed out
    // after N.00 seconds") is what selectionPattern matches, as Lambda reports it.
    const doc = JSON.stringify({ errorMessage: outcome.errorMessage })
    completeIntegration(ctx, integ, { selector: outcome.errorMessage, headers: [], body: new TextEncoder().encode(doc) })
    return
  }
  if (answerFailure(ctx, outcome)) return
  if (outcome.kind === 'function-error') {
    // selectionPattern is matched against the function's errorMessage.
    completeIntegration(ctx, integ, { selector: outcome.errorMessage, headers: [], body: outcome.payload })
    return
  }
  if (outcome.kind === 'ok') completeIntegration(ctx, integ, { selector: null, headers: [], body: outcome.payload })
}
