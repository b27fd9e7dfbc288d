// Quota period math on UTC day numbers (src/traffic/quota.ts): DAY, WEEK from Sunday 00:00 UTC
// (the SDKs' QuotaSettings text: "with a time period of WEEK, an offset of 0 starts on
// Sunday"), MONTH from the 1st; offset "subtracted from the given limit in the initial time
// period" (UsagePlan API reference, QuotaSettings).
import t from 'tap'
import { dayNumber, dayString, effectiveLimit, parseDay, periodOf } from '../../../src/traffic/quota.js'

const d = (s: string) => parseDay(s)!
const bounds = (p: 'DAY' | 'WEEK' | 'MONTH', day: string) => {
  const { start, end } = periodOf(p, d(day))
  return [dayString(start), dayString(end)]
}

t.test('day numbers and names', async (t) => {
  t.equal(dayNumber(Date.parse('1970-01-01T23:59:59.999Z')), 0)
  t.equal(dayNumber(Date.parse('2026-12-02T00:00:00Z')), d('2026-12-02'))
  t.equal(dayNumber(Date.parse('2026-12-01T23:59:59.999Z')), d('2026-12-01'))
  t.equal(dayString(d('2026-12-07')), '2026-12-07')
  t.equal(parseDay('2026-02-30'), null, 'not a real date')
  t.equal(parseDay('2026-2-3'), null)
  t.equal(parseDay('yesterday'), null)
})

t.test('periods on UTC boundaries', async (t) => {
  t.strictSame(bounds('DAY', '2026-12-01'), ['2026-12-01', '2026-12-02'])
  // 2026-12-06 is a Sunday.
  t.strictSame(bounds('WEEK', '2026-12-06'), ['2026-12-06', '2026-12-13'], 'a Sunday starts its week')
  t.strictSame(bounds('WEEK', '2026-12-05'), ['2026-11-29', '2026-12-06'], 'a Saturday ends it')
  t.strictSame(bounds('WEEK', '2026-12-07'), ['2026-12-06', '2026-12-13'], 'Monday is inside it')
  t.strictSame(bounds('WEEK', '1970-01-01'), ['1969-12-28', '1970-01-04'], 'before the first Sunday of the epoch')
  t.strictSame(bounds('MONTH', '2026-12-31'), ['2026-12-01', '2027-01-01'], 'December into January')
  t.strictSame(bounds('MONTH', '2028-02-29'), ['2028-02-01', '2028-03-01'], 'a leap February')
  t.strictSame(bounds('MONTH', '2026-01-01'), ['2026-01-01', '2026-02-01'])
})

t.test('offset: taken off the limit in the initial period only', async (t) => {
  const since = d('2026-12-03')
  const week = periodOf('WEEK', since)
  t.equal(effectiveLimit(10, 3, week.start, week.end, since), 7)
  const next = periodOf('WEEK', week.end)
  t.equal(effectiveLimit(10, 3, next.start, next.end, since), 10)
  t.equal(effectiveLimit(2, 5, week.start, week.end, since), 0, 'never below 0')
})
