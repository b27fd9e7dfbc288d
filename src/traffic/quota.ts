// Usage plan quota periods on UTC boundaries, in epoch day numbers (days since 1970-01-01
// UTC): every period boundary is a midnight UTC, so a day number is all a counter needs.
//   DAY    one UTC day
//   WEEK   seven days from Sunday 00:00 UTC (the SDKs' QuotaSettings text: "with a time period
//          of WEEK, an offset of 0 starts on Sunday")
//   MONTH  from the 1st of the month, 00:00 UTC, to the 1st of the next
// GetUsage names days YYYY-MM-DD (UTC).
import type { QuotaPeriod } from '../config/quota-settings.js'

export type { QuotaPeriod }

export const DAY_MS = 86_400_000

/** The UTC day number of an instant. */
export function dayNumber(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS)
}

/** YYYY-MM-DD of a day number. */
export function dayString(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

/** The day number of YYYY-MM-DD, or null when it is not a real date. */
export function parseDay(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null
  const ms = Date.parse(`${text}T00:00:00Z`)
  if (Number.isNaN(ms) || dayString(ms / DAY_MS) !== text) return null
  return ms / DAY_MS
}

/** The period holding `day`: [start, end) in day numbers. Allocates for MONTH only (once per period per counter). */
export function periodOf(period: QuotaPeriod, day: number): { start: number; end: number } {
  switch (period) {
    case 'DAY':
      return { start: day, end: day + 1 }
    case 'WEEK': {
      // 1970-01-01 was a Thursday (weekday 4, Sunday 0).
      const start = day - ((day + 4) % 7 + 7) % 7
      return { start, end: start + 7 }
    }
    case 'MONTH': {
      const d = new Date(day * DAY_MS)
      return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY_MS, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / DAY_MS }
    }
  }
}

/**
 * The limit in force in the period starting at `periodStart`: `limit`, less `offset` in the
 * initial period — the one holding `sinceDay`, the day the plan's quota first ran.
 */
export function effectiveLimit(limit: number, offset: number, periodStart: number, periodEnd: number, sinceDay: number): number {
  return sinceDay >= periodStart && sinceDay < periodEnd ? Math.max(0, limit - offset) : limit
}
