// Durable usage: counted per plan, key and UTC day in SQLite; quota periods on UTC boundaries
// (API Gateway's QuotaSettings period DAY | WEEK | MONTH); GetUsage's [used, remaining] per day.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { UsageStore } from '../../../src/traffic/usage-store.js'
import { quotaPeriodBounds, utcDaysBetween } from '../../../src/traffic/quota.js'

const at = (iso: string) => Date.parse(iso)

t.test('quota periods start at UTC midnight, on Mondays, on the 1st', async (t) => {
  t.strictSame(quotaPeriodBounds('DAY', at('2026-12-01T23:59:59.999Z')), { start: at('2026-12-01T00:00:00Z'), end: at('2026-12-02T00:00:00Z') })
  // 2026-12-06 is a Sunday: its week began on Monday 2026-11-30.
  t.strictSame(quotaPeriodBounds('WEEK', at('2026-12-06T12:00:00Z')), { start: at('2026-11-30T00:00:00Z'), end: at('2026-12-07T00:00:00Z') })
  t.strictSame(quotaPeriodBounds('WEEK', at('2026-12-07T00:00:00Z')).start, at('2026-12-07T00:00:00Z'))
  t.strictSame(quotaPeriodBounds('MONTH', at('2026-12-31T23:00:00Z')), { start: at('2026-12-01T00:00:00Z'), end: at('2027-01-01T00:00:00Z') })
  t.strictSame(utcDaysBetween('2026-11-29', '2026-12-02'), ['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02'])
})

t.test('usage adds up per day, survives reopening, and sums per period', async (t) => {
  const dir = t.testdir()
  let store = new UsageStore(dir)
  store.add([{ planId: 'gold', keyId: 'k1', day: '2026-11-30', count: 3 }, { planId: 'gold', keyId: 'k1', day: '2026-12-01', count: 2 }])
  store.add([{ planId: 'gold', keyId: 'k1', day: '2026-12-01', count: 5 }, { planId: 'gold', keyId: 'k2', day: '2026-12-01', count: 1 }])
  store.close()
  store = new UsageStore(dir)
  t.teardown(() => store.close())
  t.equal(store.usedInPeriod('gold', 'k1', 'DAY', at('2026-12-01T10:00:00Z')), 7)
  t.equal(store.usedInPeriod('gold', 'k1', 'WEEK', at('2026-12-01T10:00:00Z')), 10)
  t.equal(store.usedInPeriod('gold', 'k1', 'MONTH', at('2026-12-01T10:00:00Z')), 7)
  t.equal(store.usedInPeriod('silver', 'k1', 'DAY', at('2026-12-01T10:00:00Z')), 0)
  t.strictSame(store.usage('gold', ['k1', 'k2'], '2026-11-30', '2026-12-02', { limit: 20, period: 'WEEK' }), {
    k1: [[3, 17], [7, 10], [0, 10]],
    k2: [[0, 20], [1, 19], [0, 19]],
  })
})

t.test('a committed flush survives kill -9 of the process that wrote it', async (t) => {
  const dir = t.testdir()
  const url = new URL('../../../src/traffic/usage-store.js', import.meta.url).href
  // A child writes one flush, then kills itself without closing the database.
  const child = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e',
    `const { UsageStore } = await import(${JSON.stringify(url)}); const s = new UsageStore(${JSON.stringify(dir)}); s.add([{ planId: 'p', keyId: 'k', day: '2026-12-01', count: 42 }]); process.kill(process.pid, 'SIGKILL')`], { timeout: 30_000 })
  t.equal(child.signal, 'SIGKILL')
  const store = new UsageStore(dir)
  t.teardown(() => store.close())
  t.equal(store.usedInPeriod('p', 'k', 'DAY', at('2026-12-01T00:00:00Z')), 42)
})
