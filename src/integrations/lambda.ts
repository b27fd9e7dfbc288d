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
import { connectFunctionHost, type FunctionClient } from '../functions/client.js'
import { encodeProxyEvent, parseProxyResult } from '../functions/event.js'
import type { InvokeOutcome } from '../functions/protocol.js'
import { authorizerProxyObject } from '../method-request/authorization/authorizer-outcome.js'

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
      console.error(`[${ctx.requestId}] function timed out (${outcome.source}, after ${outcome.afterMs} ms)`)
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
    default:
      return false
  }
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
  const params = ctx.match!.params
  let pathParameters: Record<string, string> | null = null
  if (params.length > 0) {
    pathParameters = {}
    for (let i = 0; i < params.length; i += 2) pathParameters[params[i]!] = params[i + 1]!
  }
  const payload = encodeProxyEvent({
    method: req.method,
    path: ctx.path,
    requestPath: req.url,
    query: req.query,
    headers: req.headers,
    body: ctx.body,
    isBinary: api.binary.isBinary(ctx.header('content-type')),
    resourcePath: method.resourcePath,
    resourceId: method.resourceId,
    pathParameters,
    stage: stage.name,
    stageVariables: Object.keys(stage.variables).length === 0 ? null : stage.variables,
    requestId: ctx.requestId,
    extendedRequestId: ctx.extendedRequestId,
    accountId: '123456789012',
    apiId: api.id,
    domainName: ctx.header('host') ?? '',
    sourceIp: req.remoteAddress,
    requestTimeEpoch: req.receivedAt,
    protocol: 'HTTP/1.1',
    authorizer: ctx.authorizer === null ? null : authorizerProxyObject(ctx.authorizer),
    identity: ctx.identity as Readonly<Record<string, string | null>> | null,
  })
  c.invoke(integ.lambdaFunction!, payload, { timeoutMs: integ.timeoutMs, requestId: ctx.requestId }).then((outcome) => {
    if (answerFailure(ctx, outcome)) return
    if (outcome.kind === 'function-error') {
      console.error(`[${ctx.requestId}] Lambda execution failed with status 200 due to customer function error: ${outcome.errorMessage}`)
      sendGatewayResponse(ctx, 'DEFAULT_5XX', 'Internal server error', 502)
      return
    }
    if (outcome.kind !== 'ok') return
    const result = parseProxyResult(outcome.payload)
    if (result.kind === 'malformed') {
      console.error(`[${ctx.requestId}] Execution failed due to configuration error: Malformed Lambda proxy response (${result.reason})`)
      sendGatewayResponse(ctx, 'DEFAULT_5XX', 'Internal server error', 502)
      return
    }
    ctx.send(result.statusCode, result.headers, result.body.byteLength === 0 ? null : result.body)
  })
}

export function runLambda(ctx: RequestContext, integ: CompiledIntegration): void {
  const c = functionClient()
  if (c === null) return noHost(ctx)
  const prepared = prepareIntegrationRequest(ctx, integ)
  if (prepared === null) return
  // Lambda's Invoke takes an empty payload as the event {}.
  const payload = prepared.body === null || prepared.body.byteLength === 0 ? EMPTY_EVENT : prepared.body
  c.invoke(integ.lambdaFunction!, payload, { timeoutMs: integ.timeoutMs, requestId: ctx.requestId }).then((outcome) => {
    if (answerFailure(ctx, outcome)) return
    if (outcome.kind === 'function-error') {
      // selectionPattern is matched against the function's errorMessage.
      completeIntegration(ctx, integ, { selector: outcome.errorMessage, headers: [], body: outcome.payload })
      return
    }
    if (outcome.kind === 'ok') completeIntegration(ctx, integ, { selector: null, headers: [], body: outcome.payload })
  })
}
