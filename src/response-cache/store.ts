// Response cache, store step: called by RequestContext.send for a request that missed (or
// invalidated) its entry, with the response the integration response produced. Gateway
// responses (authorization failures, integration timeouts, …) are API Gateway's own answers,
// not the endpoint's, and are never stored; responses of every status from the integration
// are, as API Gateway stores them (it caches "responses from your endpoint" and offers no
// setting by status: StackOverflow 45883323, serverless-api-gateway-caching issue #125).
import type { RequestContext } from '../pipeline/context.js'
import { MAX_CACHED_RESPONSE_BYTES, encodeCachedResponse } from './entry.js'

const encoder = new TextEncoder()

/** The warning header of SUCCEED_WITH_RESPONSE_HEADER, API Gateway's text. */
export const CACHE_CONTROL_WARNING = '199 Cache-control headers were ignored because the caller was unauthorized.'

export function storeCachedResponse(ctx: RequestContext, key: string, status: number, headers: readonly string[], body: Uint8Array | null): void {
  const c = ctx.method!.responseCache
  if (c === null || ctx.errorType !== null) return
  if (body !== null && body.byteLength > MAX_CACHED_RESPONSE_BYTES) return
  const bytes = encodeCachedResponse(status, headers, body)
  if (c.local !== null) c.local.set(encoder.encode(key), bytes, Date.now() + c.ttlMs)
  else c.redis!.set(c.prefix + key, bytes, c.ttlMs)
}
