// One request through API Gateway's stages: route (API, stage, resource, method) →
// method request → integration → integration response → method response. The method
// request may pause (an authorizer's call); it then resumes on its own and runs the integration.
import type { CompiledApi, CompiledGateway } from './compile.js'
import type { RequestRecord } from '../pool/protocol.js'
import { matchRoute } from '../router/match.js'
import { RequestContext, type ReplySink } from './context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { runMethodRequest } from '../method-request/run.js'
import { startObservation } from '../observability/observe.js'
import { selectRelease } from '../canary/run.js'

/** Host `{apiId}.execute-api.{region}.amazonaws.com` (or any domain) selects an API by id. */
function apiFromHost(gw: CompiledGateway, host: string | null): CompiledApi | null {
  if (host === null) return null
  const dot = host.indexOf('.execute-api.')
  return dot > 0 ? gw.byId.get(host.slice(0, dot)) ?? null : null
}

/** Where selectApi's API starts in the URL (after its base path): a second result without a tuple per request. */
let selectedOffset = 0

/** Picks the API: by Host, else by base path, else the API without a base path. Sets selectedOffset. */
function selectApi(gw: CompiledGateway, ctx: RequestContext, url: string): CompiledApi | null {
  selectedOffset = 0
  const byHost = apiFromHost(gw, ctx.header('host'))
  if (byHost !== null) return byHost
  let fallback: CompiledApi | null = null
  const apis = gw.apis
  for (let i = 0; i < apis.length; i++) {
    const api = apis[i]!
    if (api.basePath === '') {
      if (fallback === null) fallback = api
      continue
    }
    const n = api.basePath.length
    if (url.startsWith(api.basePath, 1) && (url.length === n + 1 || url.charCodeAt(n + 1) === 47)) {
      selectedOffset = n + 1
      return api
    }
  }
  return fallback
}

export function handleRequest(gw: CompiledGateway, req: RequestRecord, sink: ReplySink): RequestContext {
  const ctx = new RequestContext(req, sink)
  const url = req.url
  const api = selectApi(gw, ctx, url)
  const offset = selectedOffset
  if (api === null) {
    sendGatewayResponse(ctx, 'MISSING_AUTHENTICATION_TOKEN')
    return ctx
  }
  ctx.api = api
  if (req.bodyTooLarge) {
    sendGatewayResponse(ctx, 'REQUEST_TOO_LARGE')
    return ctx
  }
  // /{stage}/{resource path}: the first segment names the stage. Empty segments before the
  // stage and between it and the resource path are skipped, while later ones stay in the path
  // ('//dev/a' and '/dev//a' route as '/dev/a'; '/dev/a//b' gives {proxy+} 'a//b'), as
  // AWS-validated: LocalStack test_apigateway_lambda.py::test_lambda_aws_proxy_integration,
  // invocation-payload-with-prepended-slash(-to-stage), -with-double-slash, invocation-hardcoded.
  let stageStart = offset + 1
  while (stageStart < url.length && url.charCodeAt(stageStart) === 47 /* / */) stageStart++
  let stageEnd = url.indexOf('/', stageStart)
  if (stageEnd === -1) stageEnd = url.length
  const stage = api.stages.get(url.slice(stageStart, stageEnd))
  if (stage === undefined) {
    sendGatewayResponse(ctx, 'MISSING_AUTHENTICATION_TOKEN')
    return ctx
  }
  // The stage, or its canary (canary/run.ts): chosen once, for the whole request.
  const release = selectRelease(ctx, stage)
  ctx.stage = release
  let pathStart = stageEnd
  while (pathStart + 1 < url.length && url.charCodeAt(pathStart + 1) === 47) pathStart++
  ctx.path = pathStart >= url.length ? '/' : url.slice(pathStart)
  const match = matchRoute(ctx.api!.router, req.method, ctx.path)
  if (match === null) {
    sendGatewayResponse(ctx, 'MISSING_AUTHENTICATION_TOKEN')
    return ctx
  }
  ctx.match = match
  const method = release.methods[match.routeIndex]!
  ctx.method = method
  startObservation(ctx)
  runMethodRequest(ctx)
  return ctx
}
