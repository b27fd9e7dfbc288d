// A usage plan's `quota:` (API Gateway's QuotaSettings), validated at load. Load only.
//
// UsagePlan API reference, QuotaSettings: "limit: The target maximum number of requests that
// can be made in a given time period"; "period: … Valid values are "DAY", "WEEK" or "MONTH""
// ; "offset: The number of requests subtracted from the given limit in the initial time
// period". CloudFormation's AWS::ApiGateway::UsagePlan QuotaSettings gives both limit and
// offset "Minimum: 0". Periods run on UTC boundaries (src/traffic/quota-period.ts).
import { pointerJoin } from '../errors.js'
import { isRecord } from '../util/is-record.js'

export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH'
export const QUOTA_PERIODS: readonly QuotaPeriod[] = ['DAY', 'WEEK', 'MONTH']
export const QUOTA_KEYS = ['limit', 'period', 'offset'] as const

/** API Gateway's Integer: a 32-bit signed int. */
const MAX_INT32 = 2 ** 31 - 1

export interface QuotaSettingsSource {
  /** Requests a key may make per period. */
  readonly limit: number
  /** DAY, WEEK (from Sunday 00:00 UTC) or MONTH (from the 1st, 00:00 UTC). */
  readonly period: QuotaPeriod
  /** Requests subtracted from the limit in the initial period (the one the plan's quota first ran in). */
  readonly offset: number
}

type Err = (pointer: string, message: string) => void

/** `quota: { limit, period, offset }` of the plan at `pointer`, or null (absent or refused, with an error). */
export function parseQuotaSettings(raw: unknown, pointer: string, err: Err, unknownKeys: (entry: Readonly<Record<string, unknown>>) => void): QuotaSettingsSource | null {
  if (raw === undefined || raw === null) return null
  if (!isRecord(raw)) {
    err(pointer, 'must be a map')
    return null
  }
  unknownKeys(raw)
  let ok = true
  const int = (name: 'limit' | 'offset'): number => {
    const v = raw[name]
    if (name === 'offset' && v === undefined) return 0
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_INT32) return v
    err(pointerJoin(pointer, name), name === 'limit' ? `must be an integer from 0 to ${MAX_INT32}: the requests a key may make per period` : `must be an integer from 0 to ${MAX_INT32}: the requests subtracted from the limit in the initial period`)
    ok = false
    return 0
  }
  const limit = int('limit')
  const offset = int('offset')
  const period = raw.period
  if (typeof period !== 'string' || !(QUOTA_PERIODS as readonly string[]).includes(period)) {
    err(pointerJoin(pointer, 'period'), 'must be DAY, WEEK or MONTH')
    ok = false
  }
  return ok ? Object.freeze({ limit, period: period as QuotaPeriod, offset }) : null
}
