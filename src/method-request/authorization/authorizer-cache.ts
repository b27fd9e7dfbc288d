// The worker's side of the Lambda authorizer result cache. The cache itself is one per
// gateway, in the function host thread (functions/authorizer-cache.ts), so every worker
// sees the same entries and an entry costs one function call per TTL whatever the number
// of workers. What a worker keeps is only the work of reading an entry: the result checked
// and its policy compiled, by the host's entry id, so a hit costs a message round trip and
// one policy evaluation against the request's own methodArn — no JSON parse, no regex build.
import { checkAuthorizerResult, type AuthorizerResult, type MalformedAuthorizerResult } from './lambda-authorizer-result.js'

/** Compiled entries kept per worker; beyond it the map starts over (entries are cheap to redo). */
const MAX_COMPILED_ENTRIES = 1_000

const compiled = new Map<number, AuthorizerResult>()

/** The checked result of cache entry `entry` (the host's id), compiling `payload` on first sight. */
export function cachedAuthorizerResult(entry: number, payload: Uint8Array): AuthorizerResult | MalformedAuthorizerResult {
  const known = compiled.get(entry)
  if (known !== undefined) return known
  const r = checkAuthorizerResult(payload)
  if (r.kind === 'result') {
    if (compiled.size >= MAX_COMPILED_ENTRIES) compiled.clear()
    compiled.set(entry, r)
  }
  return r
}

/** A short hash of what an authorizer's answer depends on besides its function: part of the cache key. */
export function authorizerDefinitionHash(a: { readonly type: string; readonly identitySources: readonly object[]; readonly validation: RegExp | null; readonly ttlMs: number }): string {
  const text = JSON.stringify([a.type, a.identitySources, a.validation?.source ?? null, a.ttlMs])
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return (h >>> 0).toString(36)
}

/**
 * The cache key of a request: the API, stage, authorizer and its definition's hash (a
 * JSON array, then a line feed: functions/authorizer-cache.ts reads the names from it), then the identity sources'
 * values (API Gateway keys an authorizer's cache by them). JSON keeps the values apart
 * whatever characters they hold.
 */
export function authorizerCacheKey(prefix: string, values: readonly string[]): string {
  return prefix + JSON.stringify(values)
}
