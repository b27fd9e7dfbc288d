// Throttle settings of the gateway config, named as API Gateway names them: the account level
// (`throttling: { rateLimit, burstLimit }`), a usage plan's `throttle` (ThrottleSettings) and
// its apiStages' per-method `throttle` map ("/pets/GET" → ThrottleSettings). The stage's
// methodSettings throttlingRateLimit / throttlingBurstLimit are read by stage-settings.ts.
// Runs at load only; traffic/throttle.ts turns them into token buckets.
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import type { ApiSource } from './model.js'
import { isRecord } from '../util/is-record.js'
import { warnUnknownKeys } from './unknown-keys.js'

/** One token bucket's limits (API Gateway's ThrottleSettings). */
export interface ThrottleLimits {
  /** Steady rate: tokens added per second (a double; 0 admits nothing once the burst is spent). */
  readonly rateLimit: number
  /** Bucket capacity: the most requests let through at once (an integer; 0 admits nothing). */
  readonly burstLimit: number
}

/**
 * The account-level limit of every API in a Region: 10 000 requests per second with a burst of
 * 5 000 ("Amazon API Gateway quotas": throttle quota per account, per Region across HTTP, REST,
 * WebSocket and WebSocket callback APIs).
 */
export const DEFAULT_ACCOUNT_THROTTLING: ThrottleLimits = Object.freeze({ rateLimit: 10_000, burstLimit: 5_000 })

/** ThrottleSettings' integer burstLimit is a Java int. */
export const MAX_BURST_LIMIT = 2_147_483_647
/** A rate beyond which a bucket no longer limits anything measurable: refused as a typo. */
export const MAX_RATE_LIMIT = 1_000_000_000

const THROTTLE_KEYS = ['rateLimit', 'burstLimit'] as const
/** The methods a usage plan's per-method throttle may name ("/pets/GET"). */
const METHOD_KEY = /^(\/.*)?\/(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|ANY)$/

type Err = (pointer: string, message: string) => void

/** A rateLimit value: a finite number from 0 to MAX_RATE_LIMIT, or null with an error. */
export function checkRateLimit(v: unknown, pointer: string, err: Err): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_RATE_LIMIT) return v
  err(pointer, `must be a number of requests per second from 0 to ${MAX_RATE_LIMIT}`)
  return null
}

/** A burstLimit value: an integer from 0 to MAX_BURST_LIMIT, or null with an error. */
export function checkBurstLimit(v: unknown, pointer: string, err: Err): number | null {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_BURST_LIMIT) return v
  err(pointer, `must be an integer number of requests from 0 to ${MAX_BURST_LIMIT}`)
  return null
}

/**
 * `{ rateLimit, burstLimit }`. Both are required unless `defaults` fills what is left out. A
 * burst above the rate is accepted, as CreateUsagePlan accepts it (LocalStack's AWS-validated
 * snapshot test_create_usage_plan_with_throttle: rateLimit 10, burstLimit 20 → 201).
 */
export function parseThrottleLimits(raw: unknown, file: string, pointer: string, problems: ConfigProblem[], defaults: ThrottleLimits | null = null): ThrottleLimits | null {
  const err: Err = (ptr, message) => problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message, severity: 'error' })
  if (!isRecord(raw)) {
    err(pointer, 'must be a map with rateLimit (requests per second) and burstLimit (requests)')
    return null
  }
  warnUnknownKeys(raw, THROTTLE_KEYS, file, pointer, problems)
  const before = problems.length
  let rateLimit = defaults?.rateLimit ?? null
  let burstLimit = defaults?.burstLimit ?? null
  if (raw.rateLimit !== undefined) rateLimit = checkRateLimit(raw.rateLimit, pointerJoin(pointer, 'rateLimit'), err)
  else if (defaults === null) err(pointerJoin(pointer, 'rateLimit'), 'is required: the steady rate in requests per second')
  if (raw.burstLimit !== undefined) burstLimit = checkBurstLimit(raw.burstLimit, pointerJoin(pointer, 'burstLimit'), err)
  else if (defaults === null) err(pointerJoin(pointer, 'burstLimit'), 'is required: the bucket size in requests')
  if (problems.length > before && problems.slice(before).some((p) => p.severity === 'error')) return null
  return Object.freeze({ rateLimit: rateLimit!, burstLimit: burstLimit! })
}

/** The top-level `throttling:` (account level); what it leaves out keeps API Gateway's default. */
export function parseAccountThrottling(raw: unknown, file: string, problems: ConfigProblem[]): ThrottleLimits {
  return parseThrottleLimits(raw, file, '/throttling', problems, DEFAULT_ACCOUNT_THROTTLING) ?? DEFAULT_ACCOUNT_THROTTLING
}

/** Splits a usage plan method key "/pets/{id}/GET" into resource path and method, or null. */
export function parseUsagePlanMethodKey(key: string): { resourcePath: string; httpMethod: string } | null {
  const m = METHOD_KEY.exec(key)
  if (m === null) return null
  // "/GET" and "//GET" both name the root resource.
  return { resourcePath: m[1] === undefined || m[1] === '' ? '/' : m[1], httpMethod: m[2]! }
}

/**
 * A usage plan API stage's `throttle`: "{resourcePath}/{httpMethod}" → ThrottleSettings, as
 * UsagePlan apiStages[].throttle keys them ("/pets/GET"; "//GET" or "/GET" for the root resource). Each
 * key must name a method the API defines: a limit on nothing is refused, not ignored.
 */
export function parseApiStageThrottle(raw: unknown, api: ApiSource, file: string, pointer: string, problems: ConfigProblem[]): Readonly<Record<string, ThrottleLimits>> | null {
  if (raw === undefined || raw === null) return null
  const err: Err = (ptr, message) => problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message, severity: 'error' })
  if (!isRecord(raw)) {
    err(pointer, 'must be a map of "{resourcePath}/{httpMethod}" ("/pets/GET") to { rateLimit, burstLimit }')
    return null
  }
  const out: Record<string, ThrottleLimits> = {}
  for (const [key, entry] of Object.entries(raw)) {
    const ptr = pointerJoin(pointer, key)
    const where = parseUsagePlanMethodKey(key)
    if (where === null) {
      err(ptr, 'a method is named "{resourcePath}/{httpMethod}" with an upper-case method, as "/pets/GET" ("//GET" for the root resource)')
      continue
    }
    if (!api.operations.some((op) => op.path === where.resourcePath && op.method === where.httpMethod)) {
      const defined = api.operations.filter((op) => op.path === where.resourcePath).map((op) => op.method)
      err(ptr, defined.length === 0
        ? `API ${api.id} has no resource ${where.resourcePath}`
        : `API ${api.id} defines no ${where.httpMethod} method on ${where.resourcePath} (it has ${defined.join(', ')})`)
      continue
    }
    const limits = parseThrottleLimits(entry, file, ptr, problems)
    if (limits !== null) out[`${where.resourcePath}/${where.httpMethod}`] = limits
  }
  return Object.freeze(out)
}
