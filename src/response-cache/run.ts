// Response cache, run step: after the method request (authorization, API key, validation,
// throttling have let the request in) and before the integration request. A hit answers
// from the cache and never calls the integration; a miss runs the integration and
// RequestContext.send stores what it answers (store.ts).
//
// Cache-Control: max-age=0 (the guide, "Invalidate an API Gateway cache entry"): a caller
// that may invalidate (requireAuthorizationForCacheControl off, or an IAM caller whose
// identity policy allows execute-api:InvalidateCache on the request's ARN) skips the lookup
// and replaces the entry with the integration's fresh response; any other caller gets
// unauthorizedCacheControlHeaderStrategy: FAIL_WITH_403 refuses it, the SUCCEED_* ones
// ignore the header, with or without a Warning header in the response.
import type { RequestContext } from '../pipeline/context.js'
import { runIntegration } from '../integrations/run.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { resolveSource } from '../integration-request/parameters.js'
import { evaluatePolicy } from '../method-request/authorization/policy.js'
import { requestArn, requestConditionKeys } from '../method-request/authorization/resource-policy.js'
import { countCacheHit, countCacheMiss } from '../observability/observe.js'
import { CacheControlStrategy, type CompiledResponseCache } from './compile.js'
import { decodeCachedResponse } from './entry.js'

const encoder = new TextEncoder()

/** The entry's key within the stage: namespace, request method, the cacheKeyParameters' values (JSON: unambiguous, absent ≠ empty). */
export function renderCacheKey(ctx: RequestContext, c: CompiledResponseCache): string {
  let values = ''
  const parts = c.keyParts
  for (let i = 0; i < parts.length; i++) {
    const v = resolveSource(ctx, parts[i]!.source, parts[i]!.name)
    values += (i === 0 ? '' : ',') + (v === null ? 'null' : JSON.stringify(v))
  }
  return `${c.namespace}\n${ctx.request.method}\n[${values}]`
}

/** Whether the request carries Cache-Control: max-age=0. */
function asksForFresh(ctx: RequestContext): boolean {
  const cc = ctx.header('cache-control')
  if (cc === null) return false
  for (const d of cc.split(',')) if (d.trim().toLowerCase() === 'max-age=0') return true
  return false
}

/** requireAuthorizationForCacheControl: an IAM caller whose identity policy allows execute-api:InvalidateCache. */
function mayInvalidate(ctx: RequestContext, c: CompiledResponseCache): boolean {
  if (!c.requireAuthorization) return true
  const accessKey = ctx.identity === null ? null : ctx.identity.accessKey
  if (accessKey === null) return false
  const p = c.principals.get(accessKey)
  if (p === undefined || p.policy === null) return false
  const arn = p.credential.arn
  return evaluatePolicy(p.policy, { action: 'execute-api:InvalidateCache', resource: requestArn(ctx, c.region, c.accountId), principalArn: arn, conditionKeys: requestConditionKeys(ctx, arn) }) === 'ALLOW'
}

function miss(ctx: RequestContext, key: string): void {
  if (ctx.done) return
  ctx.cacheKey = key
  countCacheMiss(ctx)
  runIntegration(ctx)
}

/** Answers from `bytes`; false when they do not hold an entry. */
function hit(ctx: RequestContext, bytes: Uint8Array): boolean {
  const entry = decodeCachedResponse(bytes)
  if (entry === null) return false
  countCacheHit(ctx)
  ctx.send(entry.status, entry.headers, entry.body)
  return true
}

export function runResponseCache(ctx: RequestContext, c: CompiledResponseCache): void {
  let read = true
  if (asksForFresh(ctx)) {
    if (mayInvalidate(ctx, c)) read = false
    else if (c.strategy === CacheControlStrategy.FailWith403) {
      // "Fail the request with 403 status code: returns a 403 Unauthorized response."
      sendGatewayResponse(ctx, 'ACCESS_DENIED')
      return
    } else if (c.strategy === CacheControlStrategy.SucceedWithHeader) ctx.cacheWarning = true
  }
  const key = renderCacheKey(ctx, c)
  if (!read) {
    miss(ctx, key)
    return
  }
  if (c.local !== null) {
    const bytes = c.local.get(encoder.encode(key), Date.now())
    if (bytes === null || !hit(ctx, bytes)) miss(ctx, key)
    return
  }
  // Redis: one round trip; the closure is the price of the await (the backend call a hit saves costs more).
  void c.redis!.get(c.prefix + key).then((bytes) => {
    if (ctx.done) return
    if (bytes === null || !hit(ctx, bytes)) miss(ctx, key)
  })
}
