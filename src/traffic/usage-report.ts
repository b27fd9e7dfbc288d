// GetUsage's answer from per-day counts, whichever store holds them (SQLite or Redis):
//   { usagePlanId, startDate, endDate, items: { keyId: [[used, remaining], …one per day] } }
// GetUsage (API reference): "items: The usage data, as daily logs of used and remaining quotas,
// over the specified time interval indexed over the API keys in a usage plan", e.g.
// {"k1": [[0, 100], [10, 90], [100, 10]]}. `remaining` is what the key's quota period had
// left at the end of that day; a plan without a quota has no remaining: null.
import type { QuotaSettingsSource } from '../config/quota-settings.js'
import { dayString, effectiveLimit, periodOf } from './quota.js'

export interface UsageReport {
  readonly usagePlanId: string
  readonly startDate: string
  readonly endDate: string
  readonly items: Record<string, [number, number | null][]>
}

/** The first day whose counts the report needs: the start of the period holding `fromDay`. */
export function reportFirstDay(quota: QuotaSettingsSource | null, fromDay: number): number {
  return quota === null ? fromDay : periodOf(quota.period, fromDay).start
}

/**
 * The report of `keyIds` from `fromDay` to `toDay` (inclusive); `count(keyId, day)` reads the
 * store (days from reportFirstDay() on); `sinceDay` is the day the plan's quota first ran.
 */
export function buildUsageReport(planId: string, keyIds: readonly string[], fromDay: number, toDay: number, quota: QuotaSettingsSource | null, sinceDay: number, count: (keyId: string, day: number) => number): UsageReport {
  const items: Record<string, [number, number | null][]> = {}
  for (const key of keyIds) {
    const rows: [number, number | null][] = []
    for (let day = fromDay; day <= toDay; day++) {
      const used = count(key, day)
      if (quota === null) {
        rows.push([used, null])
        continue
      }
      const { start, end } = periodOf(quota.period, day)
      let inPeriod = 0
      for (let d = start; d <= day; d++) inPeriod += d === day ? used : count(key, d)
      rows.push([used, Math.max(0, effectiveLimit(quota.limit, quota.offset, start, end, sinceDay) - inPeriod)])
    }
    items[key] = rows
  }
  return { usagePlanId: planId, startDate: dayString(fromDay), endDate: dayString(toDay), items }
}
