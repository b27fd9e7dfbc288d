// A stage's settings beyond its variables, as API Gateway's Stage resource holds them:
// accessLogSettings, methodSettings (keyed like MethodSetting paths: "*/*", "/pets/GET"),
// tracingEnabled. Parsed here, once, for every feature that reads them (logging and metrics
// now; throttling and caching read the same MethodSetting keys). Runs at load only.
import { dirname, resolve } from 'node:path'
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import { isRecord } from '../util/is-record.js'
import { warnUnknownKeys } from './unknown-keys.js'
import { checkBurstLimit, checkRateLimit } from './throttling.js'
import { DEFAULT_STAGE_CACHE, STAGE_CACHE_KEYS, parseStageCache, type StageCacheSource } from './stage-cache.js'

export type LoggingLevel = 'OFF' | 'ERROR' | 'INFO'

/**
 * The example formats the API Gateway console offers (developer guide, "Access logging for
 * REST APIs": CLF, JSON, XML, CSV), each on one line; `format: CLF` names one of them.
 */
export const ACCESS_LOG_PRESETS: Readonly<Record<'CLF' | 'JSON' | 'XML' | 'CSV', string>> = Object.freeze({
  CLF: '$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime]"$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId',
  JSON: '{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId","ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", "protocol":"$context.protocol", "responseLength":"$context.responseLength" }',
  XML: '<request id="$context.requestId"> <extendedRequestId>$context.extendedRequestId</extendedRequestId> <ip>$context.identity.sourceIp</ip> <caller>$context.identity.caller</caller> <user>$context.identity.user</user> <requestTime>$context.requestTime</requestTime> <httpMethod>$context.httpMethod</httpMethod> <resourcePath>$context.resourcePath</resourcePath> <status>$context.status</status> <protocol>$context.protocol</protocol> <responseLength>$context.responseLength</responseLength> </request>',
  CSV: '$context.identity.sourceIp,$context.identity.caller,$context.identity.user,$context.requestTime,$context.httpMethod,$context.resourcePath,$context.protocol,$context.status,$context.responseLength,$context.requestId,$context.extendedRequestId',
})

/** accessLogSettings of a stage. */
export interface AccessLogSettingsSource {
  /** The format with $context variables (a preset name already replaced by its text). */
  readonly format: string
  /** 'stdout', 'stderr', or an absolute file path (opened for append, reopened on SIGUSR1). */
  readonly destination: string
  /** The config file and JSON pointer of `format`, for compile-time messages. */
  readonly file: string
  readonly pointer: string
}

/**
 * One methodSettings entry, with API Gateway's MethodSetting keys. null means "not set
 * here": a method's own entry overrides the stage-wide "*\/*" entry key by key.
 */
export interface MethodSettingSource {
  /** The key as written: "*\/*", "/pets/GET", "~1pets~1{id}/GET". */
  readonly key: string
  /** Resource path ('/pets/{id}'), or '*' for every resource. */
  readonly resourcePath: string
  /** Upper-case method, or '*' for every method. */
  readonly httpMethod: string
  /** Detailed CloudWatch metrics: per Resource and Method dimensions. */
  readonly metricsEnabled: boolean | null
  /** Execution logs: OFF, ERROR or INFO. */
  readonly loggingLevel: LoggingLevel | null
  /** Full request and response data in execution logs (INFO only). */
  readonly dataTraceEnabled: boolean | null
  /** Token bucket size (requests), read by throttling. */
  readonly throttlingBurstLimit: number | null
  /** Steady rate (requests per second), read by throttling. */
  readonly throttlingRateLimit: number | null
  /** Whether responses are cached, read by the stage cache. */
  readonly cachingEnabled: boolean | null
  /** Cache entry lifetime, read by the stage cache. */
  readonly cacheTtlInSeconds: number | null
  /** Whether cached data is encrypted, read by the stage cache. */
  readonly cacheDataEncrypted: boolean | null
  /** Whether Cache-Control: max-age=0 needs authorization, read by the stage cache. */
  readonly requireAuthorizationForCacheControl: boolean | null
  /** FAIL_WITH_403 | SUCCEED_WITH_RESPONSE_HEADER | SUCCEED_WITHOUT_RESPONSE_HEADER. */
  readonly unauthorizedCacheControlHeaderStrategy: string | null
  /** JSON pointer of the entry in the config file. */
  readonly pointer: string
}

/** Everything of a stage except its name and variables. */
export interface StageSettings {
  readonly accessLogSettings: AccessLogSettingsSource | null
  /** In the order written; resolveMethodSetting merges them for one method. */
  readonly methodSettings: readonly MethodSettingSource[]
  /** X-Ray tracing (X-Amzn-Trace-Id generated and passed on). */
  readonly tracingEnabled: boolean
  /** cacheClusterEnabled, cacheClusterSize (config/stage-cache.ts); read by src/response-cache/. */
  readonly cache: StageCacheSource
}

export const DEFAULT_STAGE_SETTINGS: StageSettings = Object.freeze({ accessLogSettings: null, methodSettings: Object.freeze([]), tracingEnabled: false, cache: DEFAULT_STAGE_CACHE })

/** A stage's settings; a StageSource built by hand without them (tests, other tools) has the defaults. */
export function stageSettingsOf(stage: { readonly settings?: StageSettings }): StageSettings {
  return stage.settings ?? DEFAULT_STAGE_SETTINGS
}

/** The keys of API Gateway's MethodSetting. */
/** cacheTtlInSeconds at most: API Gateway's maximum TTL, 3600 s. */
export const MAX_CACHE_TTL_SECONDS = 3600

export const METHOD_SETTING_KEYS = ['metricsEnabled', 'loggingLevel', 'dataTraceEnabled', 'throttlingBurstLimit', 'throttlingRateLimit', 'cachingEnabled', 'cacheTtlInSeconds', 'cacheDataEncrypted', 'requireAuthorizationForCacheControl', 'unauthorizedCacheControlHeaderStrategy'] as const
/** The keys a stage of the gateway config may hold. */
export const STAGE_KEYS = ['name', 'variables', 'accessLogSettings', 'methodSettings', 'tracingEnabled', 'canarySettings', ...STAGE_CACHE_KEYS] as const

const LOGGING_LEVELS: readonly string[] = ['OFF', 'ERROR', 'INFO']
const CACHE_CONTROL_STRATEGIES: readonly string[] = ['FAIL_WITH_403', 'SUCCEED_WITH_RESPONSE_HEADER', 'SUCCEED_WITHOUT_RESPONSE_HEADER']
const HTTP_METHOD = /^(\*|GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|ANY)$/

/** Splits a MethodSetting key into resource path and method: "*\/*", "/pets/GET", "~1pets/GET". */
export function parseMethodSettingKey(key: string): { resourcePath: string; httpMethod: string } | null {
  const slash = key.lastIndexOf('/')
  if (slash <= 0) return null
  const httpMethod = key.slice(slash + 1).toUpperCase()
  let resourcePath = key.slice(0, slash).replace(/~1/g, '/').replace(/~0/g, '~')
  if (!HTTP_METHOD.test(httpMethod)) return null
  if (resourcePath === '*') return { resourcePath, httpMethod }
  if (!resourcePath.startsWith('/')) resourcePath = '/' + resourcePath
  return { resourcePath, httpMethod }
}

/** Reads one stage body of the gateway config; problems are pushed with file and pointer. */
export function parseStageSettings(body: Readonly<Record<string, unknown>>, file: string, pointer: string, problems: ConfigProblem[]): StageSettings {
  warnUnknownKeys(body, STAGE_KEYS, file, pointer, problems)
  const error = (ptr: string, message: string) => problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message, severity: 'error' })

  let accessLogSettings: AccessLogSettingsSource | null = null
  const als = body.accessLogSettings
  const alsPtr = pointerJoin(pointer, 'accessLogSettings')
  if (als !== undefined) {
    if (!isRecord(als)) error(alsPtr, 'must be a map with `format` and `destination`')
    else {
      warnUnknownKeys(als, ['format', 'destination'], file, alsPtr, problems)
      const fmt = als.format
      const dest = als.destination ?? 'stdout'
      if (typeof fmt !== 'string' || fmt.trim() === '') error(pointerJoin(alsPtr, 'format'), 'must be a format string with $context variables, or CLF, JSON, XML or CSV')
      else if (typeof dest !== 'string' || dest === '') error(pointerJoin(alsPtr, 'destination'), 'must be stdout, stderr or a file path')
      else {
        const preset = (ACCESS_LOG_PRESETS as Record<string, string>)[fmt.trim()]
        const destination = dest === 'stdout' || dest === 'stderr' ? dest : resolve(dirname(file), dest)
        accessLogSettings = Object.freeze({ format: preset ?? fmt, destination, file, pointer: pointerJoin(alsPtr, 'format') })
      }
    }
  }

  const methodSettings: MethodSettingSource[] = []
  const ms = body.methodSettings
  const msPtr = pointerJoin(pointer, 'methodSettings')
  if (ms !== undefined) {
    if (!isRecord(ms)) error(msPtr, 'must be a map of method paths ("*/*", "/pets/GET") to MethodSetting')
    else {
      for (const [key, entry] of Object.entries(ms)) {
        const ptr = pointerJoin(msPtr, key)
        const where = parseMethodSettingKey(key)
        if (where === null) {
          error(ptr, 'a method path is {resource_path}/{http_method}, or */* for every method')
          continue
        }
        if (!isRecord(entry)) {
          error(ptr, 'must be a map of MethodSetting keys')
          continue
        }
        warnUnknownKeys(entry, METHOD_SETTING_KEYS, file, ptr, problems)
        const bool = (k: string): boolean | null => {
          const v = entry[k]
          if (v === undefined) return null
          if (typeof v === 'boolean') return v
          error(pointerJoin(ptr, k), 'must be true or false')
          return null
        }
        const num = (k: string, integer: boolean): number | null => {
          const v = entry[k]
          if (v === undefined) return null
          if (typeof v === 'number' && v >= 0 && Number.isFinite(v) && (!integer || Number.isInteger(v))) return v
          error(pointerJoin(ptr, k), integer ? 'must be a non-negative integer' : 'must be a non-negative number')
          return null
        }
        const oneOf = (k: string, allowed: readonly string[]): string | null => {
          const v = entry[k]
          if (v === undefined) return null
          if (typeof v === 'string' && allowed.includes(v.toUpperCase())) return v.toUpperCase()
          error(pointerJoin(ptr, k), `must be one of ${allowed.join(', ')}`)
          return null
        }
        // "The maximum TTL value is 3600 seconds" (the guide, "Cache settings for REST APIs").
        if (typeof entry.cacheTtlInSeconds === 'number' && entry.cacheTtlInSeconds > MAX_CACHE_TTL_SECONDS) error(pointerJoin(ptr, 'cacheTtlInSeconds'), `must be from 0 to ${MAX_CACHE_TTL_SECONDS} (API Gateway's maximum TTL; 0 disables caching)`)
        methodSettings.push(Object.freeze({
          key,
          resourcePath: where.resourcePath,
          httpMethod: where.httpMethod,
          metricsEnabled: bool('metricsEnabled'),
          loggingLevel: oneOf('loggingLevel', LOGGING_LEVELS) as LoggingLevel | null,
          dataTraceEnabled: bool('dataTraceEnabled'),
          throttlingBurstLimit: entry.throttlingBurstLimit === undefined ? null : checkBurstLimit(entry.throttlingBurstLimit, pointerJoin(ptr, 'throttlingBurstLimit'), error),
          throttlingRateLimit: entry.throttlingRateLimit === undefined ? null : checkRateLimit(entry.throttlingRateLimit, pointerJoin(ptr, 'throttlingRateLimit'), error),
          cachingEnabled: bool('cachingEnabled'),
          cacheTtlInSeconds: typeof entry.cacheTtlInSeconds === 'number' && entry.cacheTtlInSeconds > MAX_CACHE_TTL_SECONDS ? null : num('cacheTtlInSeconds', true),
          cacheDataEncrypted: bool('cacheDataEncrypted'),
          requireAuthorizationForCacheControl: bool('requireAuthorizationForCacheControl'),
          unauthorizedCacheControlHeaderStrategy: oneOf('unauthorizedCacheControlHeaderStrategy', CACHE_CONTROL_STRATEGIES),
          pointer: ptr,
        }))
      }
    }
  }

  let tracingEnabled = false
  if (body.tracingEnabled !== undefined) {
    if (typeof body.tracingEnabled === 'boolean') tracingEnabled = body.tracingEnabled
    else error(pointerJoin(pointer, 'tracingEnabled'), 'must be true or false')
  }
  const cache = parseStageCache(body, file, pointer, problems)
  // Never silently ignored: caching turned on for a stage without a cache.
  for (const m of methodSettings) {
    if (m.cachingEnabled === true && !cache.enabled) problems.push({ code: Codes.GATEWAY, file, pointer: pointerJoin(m.pointer, 'cachingEnabled'), message: 'has no effect: the stage has no cache (cacheClusterEnabled: true)', severity: 'warning' })
  }
  if (accessLogSettings === null && methodSettings.length === 0 && !tracingEnabled && cache === DEFAULT_STAGE_CACHE) return DEFAULT_STAGE_SETTINGS
  return Object.freeze({ accessLogSettings, methodSettings: Object.freeze(methodSettings), tracingEnabled, cache })
}

/** A method's settings after merging: every key has its value (API Gateway's defaults where unset). */
export interface EffectiveMethodSetting {
  readonly metricsEnabled: boolean
  readonly loggingLevel: LoggingLevel
  readonly dataTraceEnabled: boolean
  readonly throttlingBurstLimit: number | null
  readonly throttlingRateLimit: number | null
  readonly cachingEnabled: boolean
  readonly cacheTtlInSeconds: number | null
  readonly cacheDataEncrypted: boolean
  readonly requireAuthorizationForCacheControl: boolean
  readonly unauthorizedCacheControlHeaderStrategy: string
}

/**
 * Execution logs when nothing says otherwise. API Gateway's default is OFF (CloudWatch
 * costs money); a self-hosted gateway that answers 5xx without a word is worse, so ERROR
 * lines go to stderr unless a methodSettings entry says OFF.
 */
export const DEFAULT_LOGGING_LEVEL: LoggingLevel = 'ERROR'

/**
 * The settings in force for one method: the stage-wide entries ("*\/*"), then those for
 * every method of its resource ("/pets/*"), then its own ("/pets/GET"), each overriding the
 * keys it sets. An ANY method is matched by "/pets/ANY".
 */
export function resolveMethodSetting(settings: readonly MethodSettingSource[], resourcePath: string, httpMethod: string): EffectiveMethodSetting {
  const merged: Record<string, unknown> = {}
  const ranks = [0, 1, 2]
  for (const rank of ranks) {
    for (const s of settings) {
      const r = s.resourcePath === '*' ? 0 : s.resourcePath !== resourcePath ? -1 : s.httpMethod === '*' ? 1 : s.httpMethod === httpMethod ? 2 : -1
      if (r !== rank) continue
      for (const k of METHOD_SETTING_KEYS) if (s[k] !== null) merged[k] = s[k]
    }
  }
  return Object.freeze({
    metricsEnabled: (merged.metricsEnabled as boolean | undefined) ?? false,
    loggingLevel: (merged.loggingLevel as LoggingLevel | undefined) ?? DEFAULT_LOGGING_LEVEL,
    dataTraceEnabled: (merged.dataTraceEnabled as boolean | undefined) ?? false,
    throttlingBurstLimit: (merged.throttlingBurstLimit as number | undefined) ?? null,
    throttlingRateLimit: (merged.throttlingRateLimit as number | undefined) ?? null,
    cachingEnabled: (merged.cachingEnabled as boolean | undefined) ?? false,
    cacheTtlInSeconds: (merged.cacheTtlInSeconds as number | undefined) ?? null,
    cacheDataEncrypted: (merged.cacheDataEncrypted as boolean | undefined) ?? false,
    // AWS's defaults for a MethodSetting, as GetStage answers (AWS-validated: LocalStack
    // test_apigateway_common.py::TestStages::test_create_update_stages): authorization
    // required, SUCCEED_WITH_RESPONSE_HEADER.
    requireAuthorizationForCacheControl: (merged.requireAuthorizationForCacheControl as boolean | undefined) ?? true,
    unauthorizedCacheControlHeaderStrategy: (merged.unauthorizedCacheControlHeaderStrategy as string | undefined) ?? 'SUCCEED_WITH_RESPONSE_HEADER',
  })
}
