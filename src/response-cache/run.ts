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
import { hashKey } from './shared-store.js'

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

/**
 * What a worker decoded from one value of the shared store (its number `seq`), with the key's
 * bytes and hash: a repeated hit copies and parses nothing, it only checks, under the store's
 * lock, that the entry still holds that value.
 */
export class DecodedHit {
  constructor(
    readonly keyBytes: Uint8Array,
    readonly hash: number,
    public seq: number,
    public status: number,
    /** Copied per response (send appends the per-request headers). */
    public headers: readonly string[],
    /** Shared by the responses of this value: nothing downstream writes into a reply body. */
    public body: Uint8Array | null,
  ) {}
}

/** Decoded values kept per worker and method; beyond it the map starts over (each costs one decode to redo). */
export const MAX_DECODED_HITS = 256
/** Larger bodies are not kept decoded (their copy costs more than the decode saves): at most 4 MB per method and worker. */
export const MAX_DECODED_BODY_BYTES = 16_384

/** A hit in the shared store; false when it holds no (valid) entry for the key. */
function localHit(ctx: RequestContext, c: CompiledResponseCache, key: string): boolean {
  const store = c.local!
  const memo = c.decoded
  let d = memo.get(key)
  const keyBytes = d === undefined ? encoder.encode(key) : d.keyBytes
  const hash = d === undefined ? hashKey(keyBytes) : d.hash
  const seq = store.lookup(keyBytes, hash, Date.now(), d === undefined ? -1 : d.seq)
  if (seq < 0) return false
  if (d === undefined || d.seq !== seq) {
    const entry = decodeCachedResponse(store.lastValue!)
    store.lastValue = null
    if (entry === null) return false
    if (entry.body !== null && entry.body.byteLength > MAX_DECODED_BODY_BYTES) {
      if (d !== undefined) memo.delete(key)
      countCacheHit(ctx)
      ctx.send(entry.status, entry.headers, entry.body)
      return true
    }
    if (d === undefined) {
      if (memo.size >= MAX_DECODED_HITS) memo.clear()
      d = new DecodedHit(keyBytes, hash, seq, entry.status, entry.headers, entry.body)
      memo.set(key, d)
    } else {
      d.seq = seq
      d.status = entry.status
      d.headers = entry.headers
      d.body = entry.body
    }
  }
  countCacheHit(ctx)
  ctx.send(d.status, d.headers.slice(), d.body)
  return true
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
    if (!localHit(ctx, c, key)) miss(ctx, key)
    return
  }
  // Redis: one round trip; the closure is the price of the await (the backend call a hit saves costs more).
  void c.redis!.get(c.prefix + key).then((bytes) => {
    if (ctx.done) return
    if (bytes === null || !hit(ctx, bytes)) miss(ctx, key)
  })
}
