// Usage plan quotas: a limit of requests per DAY, WEEK or MONTH, on UTC boundaries
// (API Gateway's QuotaSettings: "period: The time period in which the limit applies";
// "offset: The number of requests subtracted from the given limit in the initial time period").

export type QuotaPeriod = 'DAY' | 'WEEK' | 'MONTH'

const DAY_MS = 86_400_000

/** The UTC day of an instant, as GetUsage names days: YYYY-MM-DD. */
export function utcDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10)
}

/**
 * The start (inclusive) and end (exclusive) of the quota period holding `epochMs`, in epoch ms.
 * Weeks start on Monday 00:00 UTC (ISO weeks), months on the 1st at 00:00 UTC.
 */
export function quotaPeriodBounds(period: QuotaPeriod, epochMs: number): { start: number; end: number } {
  const d = new Date(epochMs)
  const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
  switch (period) {
    case 'DAY':
      return { start: dayStart, end: dayStart + DAY_MS }
    case 'WEEK': {
      // getUTCDay(): 0 is Sunday; Monday-based: days since Monday.
      const sinceMonday = (d.getUTCDay() + 6) % 7
      const start = dayStart - sinceMonday * DAY_MS
      return { start, end: start + 7 * DAY_MS }
    }
    case 'MONTH':
      return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) }
  }
}

/** Every UTC day from `from` to `to` inclusive (YYYY-MM-DD), as GetUsage lists them. */
export function utcDaysBetween(from: string, to: string): string[] {
  const out: string[] = []
  const end = Date.parse(`${to}T00:00:00Z`)
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += DAY_MS) out.push(utcDay(t))
  return out
}
