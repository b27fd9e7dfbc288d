// The worker's side of the Lambda authorizer result cache. The cache itself is one per
// gateway, in the function host thread (functions/authorizer-cache.ts), so every worker
// sees the same entries and an entry costs one function call per TTL whatever the number
// of workers. What a worker keeps is only the work of reading an entry: the result checked
// and its policy compiled, by the host's entry id, so a hit costs a message round trip and
// one policy evaluation against the request's own methodArn — no JSON parse, no regex build.
//
// A TOKEN authorizer's step goes further (WarmTokens, below): a Map from the token's own
// text to what its hit needs, so a repeated token builds no key (no JSON.stringify, no
// concatenation, no hash of a long string), runs no identityValidationExpression again, and
// when the policy has no Condition evaluates no statement: the decision is memoised per
// method and resource path. Profiled before (bench authorizer-token route, 2 Dec 2026): the
// key, the mirror lookup of the fresh key and the policy's regexes ≈ 3.5 µs per request.
import { checkAuthorizerResult, type AuthorizerResult, type MalformedAuthorizerResult } from './lambda-authorizer-result.js'
import type { MirroredAuthorizerResult } from '../../functions/client.js'
import type { AuthorizerOutcome } from './authorizer-outcome.js'
import { policyHasConditions, type PolicyDecision } from './policy.js'

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

/** Tokens a TOKEN authorizer step keeps warm; beyond it the map starts over (a miss costs one key build). */
export const MAX_WARM_TOKENS = 1_000
/** Decisions kept per warm token and HTTP method (resource paths); beyond it that method's start over. */
export const MAX_DECISIONS_PER_METHOD = 64
/**
 * HTTP methods a warm token keeps decisions for; beyond it they all start over. An ANY route
 * takes any method text (router/match.ts: an unknown method reaches ANY), so without it one
 * token could grow its map by a method name per request. The 7 routed methods fit.
 */
export const MAX_DECISION_METHODS = 8

/**
 * One token of a TOKEN authorizer whose result this worker has read from the shared cache:
 * what a repeated request would otherwise redo each time. The cache key (built once, so
 * neither concatenated nor hashed again), the checked result, the `ctx.authorizer` object
 * every hit shares, and the policy's decision per method and resource path when the policy
 * has no Condition (then its decision depends on the method ARN alone). It is valid while
 * the client's mirror still holds the same entry (`mirrored`): the mirror enforces the TTL
 * and the host's invalidations, so this adds no expiry of its own.
 */
export class WarmToken {
  /** The mirror's entry this was built from; another one (a new result) rebuilds the rest. */
  mirrored: MirroredAuthorizerResult | null = null
  /** ctx.authorizer for a cache hit (integrationLatency 0), frozen: one object for every hit. */
  outcome: AuthorizerOutcome | null = null
  result: AuthorizerResult | null = null
  /** The policy has no Condition: decisions are memoised by method and resource path. */
  memoizable = false
  /** HTTP method → resource path → decision (only when memoizable). */
  readonly decisions = new Map<string, Map<string, PolicyDecision>>()

  constructor(
    /** The shared cache's key (authorizerCacheKey) of this token. */
    readonly key: string,
  ) {}

  /** Adopts mirror entry `m`; false when its result is malformed (the caller takes the slow path). */
  adopt(m: MirroredAuthorizerResult): boolean {
    const r = cachedAuthorizerResult(m.cacheEntry, m.payload)
    if (r.kind !== 'result') return false
    this.mirrored = m
    this.result = r
    this.outcome = Object.freeze({ principalId: r.principalId, context: r.context, claims: null, usageIdentifierKey: r.usageIdentifierKey, integrationLatency: 0 })
    this.memoizable = !policyHasConditions(r.policy)
    this.decisions.clear()
    return true
  }

  /** The memoised decision for method and path, or undefined. */
  decision(method: string, path: string): PolicyDecision | undefined {
    return this.decisions.get(method)?.get(path)
  }

  remember(method: string, path: string, decision: PolicyDecision): void {
    let paths = this.decisions.get(method)
    if (paths === undefined) {
      if (this.decisions.size >= MAX_DECISION_METHODS) this.decisions.clear()
      this.decisions.set(method, (paths = new Map()))
    } else if (paths.size >= MAX_DECISIONS_PER_METHOD) paths.clear()
    paths.set(path, decision)
  }
}

/** A step's warm tokens, by the token's own text (a token is never logged nor sent anywhere from here). */
export class WarmTokens {
  readonly #byToken = new Map<string, WarmToken>()

  get(token: string): WarmToken | undefined {
    return this.#byToken.get(token)
  }

  /** The warm token for `token` (key `key`), made on first sight. */
  take(token: string, key: string): WarmToken {
    let w = this.#byToken.get(token)
    if (w === undefined) {
      if (this.#byToken.size >= MAX_WARM_TOKENS) this.#byToken.clear()
      this.#byToken.set(token, (w = new WarmToken(key)))
    }
    return w
  }

  get size(): number {
    return this.#byToken.size
  }
}
