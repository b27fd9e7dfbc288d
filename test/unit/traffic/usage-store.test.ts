// The SQLite usage store (src/traffic/usage-store.ts) and GetUsage's shape from it
// (src/traffic/usage-report.ts). GetUsage (API reference): items are "daily logs of used and
// remaining quotas … indexed over the API keys", e.g. {"k1": [[0, 100], [10, 90], [100, 10]]}.
import t from 'tap'
import { UsageStore } from '../../../src/traffic/usage-store.js'
import { buildUsageReport, reportFirstDay } from '../../../src/traffic/usage-report.js'
import { parseDay } from '../../../src/traffic/quota.js'

const day = (s: string) => parseDay(s)!

t.test('deltas add up per plan, key and day; read back after reopening', async (t) => {
  const dir = t.testdir({})
  const s = new UsageStore(dir)
  s.add([{ planId: 'gold', keyId: 'k1', day: day('2026-12-01'), count: 3 }, { planId: 'gold', keyId: 'k2', day: day('2026-12-01'), count: 1 }])
  s.add([{ planId: 'gold', keyId: 'k1', day: day('2026-12-01'), count: 2 }, { planId: 'gold', keyId: 'k1', day: day('2026-12-02'), count: 4 }, { planId: 'silver', keyId: 'k1', day: day('2026-12-02'), count: 9 }])
  t.equal(s.since('gold', day('2026-12-01')), day('2026-12-01'))
  t.equal(s.since('gold', day('2026-12-05')), day('2026-12-01'), 'the first day stays')
  s.replacePending([{ planId: 'gold', keyId: 'k1', day: day('2026-12-02'), count: 7 }])
  s.close()
  const r = new UsageStore(dir, { readonly: true })
  t.teardown(() => r.close())
  t.equal(r.usedBetween('gold', 'k1', day('2026-12-01'), day('2026-12-03')), 9)
  t.equal(r.usedBetween('gold', 'k1', day('2026-12-02'), day('2026-12-03')), 4)
  t.strictSame([...r.dayCounts('gold', day('2026-12-01'), day('2026-12-07'))].map(([k, m]) => [k, [...m]]), [
    ['k1', [[day('2026-12-01'), 5], [day('2026-12-02'), 4]]],
    ['k2', [[day('2026-12-01'), 1]]],
  ])
  t.equal(r.since('gold', null), day('2026-12-01'))
  t.equal(r.since('bronze', null), null)
  t.strictSame(r.pending(), [{ planId: 'gold', keyId: 'k1', day: day('2026-12-02'), count: 7 }])
})

t.test('the GetUsage report: [used, remaining] per day, remaining within each period', async (t) => {
  const counts = new Map([[day('2026-12-05'), 2], [day('2026-12-06'), 3], [day('2026-12-07'), 1]])
  const quota = { limit: 10, period: 'WEEK' as const, offset: 4 }
  t.equal(reportFirstDay(quota, day('2026-12-05')), day('2026-11-29'), 'the week holding the first day')
  const r = buildUsageReport('gold', ['k1', 'k2'], day('2026-12-05'), day('2026-12-07'), quota, day('2026-12-01'), (k, d) => (k === 'k1' ? counts.get(d) ?? 0 : 0))
  t.strictSame(r, {
    usagePlanId: 'gold',
    startDate: '2026-12-05',
    endDate: '2026-12-07',
    items: {
      // Saturday: the initial week (the quota first ran on the 1st): 10 - 4 = 6 less 2.
      k1: [[2, 4], [3, 7], [1, 6]],
      k2: [[0, 6], [0, 10], [0, 10]],
    },
  })
  t.strictSame(buildUsageReport('p', ['k'], day('2026-12-01'), day('2026-12-01'), null, 0, () => 5).items, { k: [[5, null]] }, 'no quota: no remaining')
})
