// Response cache, compile step: for one method of one stage, whether its responses are
// cached, for how long, under which key, in which store, and how Cache-Control: max-age=0
// is handled. Runs once per worker (and on the main thread to report problems).
//
// The guide, "Cache settings for REST APIs": the stage's cache (cacheClusterEnabled), only
// GET methods cached when the stage enables caching (other methods by their own method
// setting), TTL 300 s by default, at most 3600, 0 disables; cache keys from the method's
// parameters (cacheKeyParameters) within the integration's cacheNamespace, whose default
// is the resource.
import { isMainThread } from 'node:worker_threads'
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import type { AccessSource, ApiSource, GatewaySource, OperationSource, StageSource } from '../config/model.js'
import { stageSettingsOf, type EffectiveMethodSetting } from '../config/stage-settings.js'
import { SourceKind } from '../integration-request/compile.js'
import { compilePrincipals, type PrincipalTable } from '../method-request/authorization/iam.js'
import { SharedStore } from './shared-store.js'
import { redisCacheClient, redisStagePrefix, type RedisCacheClient } from './redis-store.js'
import type { DecodedHit } from './run.js'

/** cacheTtlInSeconds when no method setting names one: 300 s. */
export const DEFAULT_CACHE_TTL_SECONDS = 300

/** unauthorizedCacheControlHeaderStrategy. */
export const enum CacheControlStrategy {
  /** FAIL_WITH_403: the request is refused. */
  FailWith403 = 0,
  /** SUCCEED_WITH_RESPONSE_HEADER: Cache-Control is ignored and the response says so. */
  SucceedWithHeader = 1,
  /** SUCCEED_WITHOUT_RESPONSE_HEADER: Cache-Control is ignored silently. */
  SucceedWithoutHeader = 2,
}

/** One cacheKeyParameters entry: where its value comes from (integration-request/parameters.ts resolves it). */
export interface CacheKeyPart {
  readonly source: SourceKind
  /** The source's name (header names lower-cased), or the static value. */
  readonly name: string
}

export interface CompiledResponseCache {
  /** The stage's shared-memory store, or null when the stage caches in Redis. */
  readonly local: SharedStore | null
  /** The Redis client, or null for the shared-memory store. */
  readonly redis: RedisCacheClient | null
  /** Redis key prefix of the stage ("backplane:cache:{apiId}/{stage}:"); '' for the local store (one per stage already). */
  readonly prefix: string
  /** The integration's cacheNamespace, else the resource path. */
  readonly namespace: string
  /** Entry lifetime in ms (cacheTtlInSeconds × 1000), > 0. */
  readonly ttlMs: number
  /** The values that key an entry, in cacheKeyParameters order. */
  readonly keyParts: readonly CacheKeyPart[]
  /** requireAuthorizationForCacheControl: max-age=0 needs execute-api:InvalidateCache. */
  readonly requireAuthorization: boolean
  readonly strategy: CacheControlStrategy
  /** The gateway's IAM principals, whose identity policies may allow execute-api:InvalidateCache. */
  readonly principals: PrincipalTable
  /** Region and account of the request ARN the policy is evaluated on. */
  readonly region: string
  readonly accountId: string
  /** This worker's decodings of the shared store's values, by key (run.ts localHit); mutable, worker-local. */
  readonly decoded: Map<string, DecodedHit>
}

const STRATEGIES: Readonly<Record<string, CacheControlStrategy>> = { FAIL_WITH_403: CacheControlStrategy.FailWith403, SUCCEED_WITH_RESPONSE_HEADER: CacheControlStrategy.SucceedWithHeader, SUCCEED_WITHOUT_RESPONSE_HEADER: CacheControlStrategy.SucceedWithoutHeader }

/** The stage key of GatewaySource.responseCacheMemory. */
export function stageCacheKey(apiId: string, stage: string): string {
  return `${apiId}/${stage}`
}

/** A parameter expression as a key part: method.request.{path,querystring,header,multivalue*}.*, stageVariables.*, context.*, 'static'. */
function keySource(expr: string): CacheKeyPart | null {
  if (expr.startsWith("'") && expr.endsWith("'") && expr.length >= 2) return { source: SourceKind.Static, name: expr.slice(1, -1) }
  const m = /^method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.(.+)$/.exec(expr)
  if (m !== null) {
    const kind = { path: SourceKind.MethodPath, querystring: SourceKind.MethodQuery, header: SourceKind.MethodHeader, multivaluequerystring: SourceKind.MethodMultiQuery, multivalueheader: SourceKind.MethodMultiHeader }[m[1] as 'path']
    return { source: kind, name: kind === SourceKind.MethodHeader || kind === SourceKind.MethodMultiHeader ? m[2]!.toLowerCase() : m[2]! }
  }
  if (expr.startsWith('stageVariables.')) return { source: SourceKind.StageVariable, name: expr.slice('stageVariables.'.length) }
  if (expr.startsWith('context.')) return { source: SourceKind.Context, name: expr.slice('context.'.length) }
  return null
}

/** Stage-level problems already reported into a problems list: once per stage, not once per method. */
const reported = new WeakMap<ConfigProblem[], Set<string>>()

function reportOnce(problems: ConfigProblem[], id: string, problem: ConfigProblem): void {
  let seen = reported.get(problems)
  if (seen === undefined) reported.set(problems, (seen = new Set()))
  if (seen.has(id)) return
  seen.add(id)
  problems.push(problem)
}

/** Whether caching applies to this method: GET by the stage's setting, any other method by its own entry only. */
function cachingOn(stage: StageSource, op: OperationSource, effective: EffectiveMethodSetting): boolean {
  if (!effective.cachingEnabled) return false
  if (op.method === 'GET') return true
  // "only GET methods have caching enabled by default … You can enable caching for other
  // methods by overriding method settings": a "*/*" entry does not reach them.
  for (const s of stageSettingsOf(stage).methodSettings) {
    if (s.resourcePath === op.path && s.httpMethod === op.method && s.cachingEnabled === true) return true
  }
  return false
}

/**
 * The cache of one method in one stage, or null when its responses are not cached. Problems
 * are recorded: the stage's own always, the method's (bad cacheKeyParameters, which API
 * Gateway's import refuses whether or not a cache is on) when `reportMethod` (once per API).
 */
export function compileResponseCache(api: ApiSource, stage: StageSource, op: OperationSource, effective: EffectiveMethodSetting, access: AccessSource, gateway: GatewaySource | null, problems: ConfigProblem[], reportMethod: boolean): CompiledResponseCache | null {
  if (op.integration === null) return null
  const cache = stageSettingsOf(stage).cache
  const integ = op.integration
  const keyParts: CacheKeyPart[] = []
  integ.cacheKeyParameters.forEach((name, i) => {
    let part: CacheKeyPart | null = null
    if (name.startsWith('method.request.')) part = keySource(name)
    else if (name.startsWith('integration.request.')) {
      // An integration request parameter keys by what it is mapped from.
      const mapped = integ.requestParameters[name]
      part = mapped === undefined ? null : keySource(mapped)
    }
    if (part === null) {
      if (reportMethod) problems.push({ code: Codes.INTEGRATION, file: api.file, pointer: pointerJoin(integ.pointer, 'cacheKeyParameters', String(i)), message: `invalid cache key parameter ${JSON.stringify(name)}: a cache key is a method.request.path|querystring|header.* parameter, or an integration.request.* parameter mapped from one`, severity: 'error' })
    } else keyParts.push(part)
  })
  if (!cache.enabled || !cachingOn(stage, op, effective)) return null
  const ttl = effective.cacheTtlInSeconds ?? DEFAULT_CACHE_TTL_SECONDS
  if (ttl === 0) return null
  const redisUrl = gateway === null ? null : gateway.state.redis
  if (redisUrl !== null && effective.cacheDataEncrypted) {
    reportOnce(problems, `${api.id}/${stage.name}/encrypted`, { code: Codes.GATEWAY, file: cache.file, pointer: cache.pointer, message: `stage ${stage.name}: cacheDataEncrypted cannot be honoured with state.redis (entries are stored in Redis unencrypted); set it to false or cache in process memory`, severity: 'error' })
    return null
  }
  // The main thread compiles to report problems only: it serves nothing and opens no connection.
  if (isMainThread) return null
  let local: SharedStore | null = null
  let redis: RedisCacheClient | null = null
  if (redisUrl !== null) redis = redisCacheClient(redisUrl)
  else {
    const memory = gateway?.responseCacheMemory?.[stageCacheKey(api.id, stage.name)]
    if (memory === undefined) return null
    local = new SharedStore(memory)
  }
  return Object.freeze({
    local,
    redis,
    prefix: redis === null ? '' : redisStagePrefix(api.id, stage.name),
    namespace: integ.cacheNamespace ?? op.path,
    ttlMs: ttl * 1000,
    keyParts: Object.freeze(keyParts),
    requireAuthorization: effective.requireAuthorizationForCacheControl,
    strategy: STRATEGIES[effective.unauthorizedCacheControlHeaderStrategy] ?? CacheControlStrategy.SucceedWithHeader,
    principals: compilePrincipals(access, []),
    // As the IAM step builds the request ARN (method-request/authorization/compile.ts).
    region: access.region,
    accountId: access.accountId,
    decoded: new Map<string, DecodedHit>(),
  })
}
