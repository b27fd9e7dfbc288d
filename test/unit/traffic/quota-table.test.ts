// The shared quota table (src/traffic/quota-table.ts): exact across threads, a refused
// request not counted, day rollover kept for the flusher, periods reset on their boundary,
// the initial period's offset, slots stable per (plan, key).
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import { join } from 'node:path'
import { QuotaTable, createQuotaMemory, type DrainedUsage } from '../../../src/traffic/quota-table.js'
import { parseDay } from '../../../src/traffic/quota.js'

const day = (s: string) => parseDay(s)!
const out = (): DrainedUsage => ({ day: 0, count: 0, prevDay: 0, prevCount: 0 })

t.test('limit, refusals not counted, rollover, drain', async (t) => {
  const q = new QuotaTable(createQuotaMemory())
  const i = q.claim('gold', 'k1')
  t.equal(q.claim('gold', 'k1'), i, 'the same pair finds the same slot')
  t.not(q.claim('gold', 'k2'), i)
  const d1 = day('2026-12-01')
  q.init(i, d1, 'DAY', 1, Number.NEGATIVE_INFINITY)
  t.equal(q.take(i, d1, 'DAY', 3, 0), true)
  t.equal(q.take(i, d1, 'DAY', 3, 0), true)
  t.equal(q.take(i, d1, 'DAY', 3, 0), false, '1 from the store + 2 = 3: used up')
  t.equal(q.take(i, d1, 'DAY', 3, 0), false)
  t.strictSame(q.drain(i, out()), { day: d1, count: 2, prevDay: d1 - 1, prevCount: 0 }, 'refused requests are not counted')
  t.strictSame(q.drain(i, out()), { day: d1, count: 0, prevDay: d1 - 1, prevCount: 0 }, 'a drain zeroes')
  t.equal(q.take(i, d1, 'DAY', 3, 0), false)
  t.equal(q.take(i, d1 + 1, 'DAY', 3, 0), true, 'a new day is a new DAY period')
  t.strictSame(q.used(i), { used: 1, periodStart: d1 + 1 })
  t.equal(q.take(i, d1, 'DAY', 3, 0) || true, true)
})

t.test('WEEK keeps counting across days; the rolled-over day waits for the flusher', async (t) => {
  const q = new QuotaTable(createQuotaMemory())
  const i = q.claim('p', 'k')
  const sat = day('2026-12-05')
  q.init(i, sat, 'WEEK', 0, Number.NEGATIVE_INFINITY)
  t.ok(q.take(i, sat, 'WEEK', 2, 0))
  t.ok(q.take(i, sat, 'WEEK', 2, 0))
  t.notOk(q.take(i, sat, 'WEEK', 2, 0))
  t.ok(q.take(i, sat + 1, 'WEEK', 2, 0), 'Sunday: a new week')
  t.ok(q.take(i, sat + 2, 'WEEK', 2, 0), 'Monday: same week, second request')
  t.notOk(q.take(i, sat + 2, 'WEEK', 2, 0))
  t.strictSame(q.drain(i, out()), { day: sat + 2, count: 1, prevDay: sat + 1, prevCount: 3 }, 'two pending days: Saturday was booked on Sunday (no flush between)')
})

t.test('offset: the initial period has limit - offset', async (t) => {
  const q = new QuotaTable(createQuotaMemory())
  const i = q.claim('p', 'k')
  const m = day('2026-12-10')
  q.init(i, m, 'MONTH', 0, m)
  t.ok(q.take(i, m, 'MONTH', 3, 2))
  t.notOk(q.take(i, m, 'MONTH', 3, 2), 'December: 3 - 2 = 1')
  const jan = day('2027-01-01')
  t.ok(q.take(i, jan, 'MONTH', 3, 2))
  t.ok(q.take(i, jan, 'MONTH', 3, 2))
  t.ok(q.take(i, jan, 'MONTH', 3, 2))
  t.notOk(q.take(i, jan, 'MONTH', 3, 2), 'January: the full 3')
})

t.test('Redis sync: the shared total plus what was counted since the drain', async (t) => {
  const q = new QuotaTable(createQuotaMemory())
  const i = q.claim('p', 'k')
  const d1 = day('2026-12-01')
  q.init(i, d1, 'DAY', 0, Number.NEGATIVE_INFINITY)
  q.take(i, d1, 'DAY', 100, 0)
  q.drain(i, out())
  q.take(i, d1, 'DAY', 100, 0)
  q.syncUsed(i, d1, 50)
  t.equal(q.used(i).used, 51)
  q.syncUsed(i, d1 - 1, 7)
  t.equal(q.used(i).used, 51, 'a total of another period is ignored')
})

t.test('exact across 4 threads', async (t) => {
  const memory = createQuotaMemory()
  const q = new QuotaTable(memory)
  const i = q.claim('p', 'k')
  const d1 = day('2026-12-01')
  q.init(i, d1, 'DAY', 0, Number.NEGATIVE_INFINITY)
  const url = pathToFileURL(join(import.meta.dirname, '../../../dist/src/traffic/quota-table.js')).href
  const code = `
    const { workerData, parentPort } = require('node:worker_threads')
    import(workerData.url).then(({ QuotaTable }) => {
      const q = new QuotaTable(workerData.memory)
      let ok = 0
      for (let n = 0; n < 20000; n++) if (q.take(workerData.slot, workerData.day, 'DAY', 50000, 0)) ok++
      parentPort.postMessage(ok)
    })`
  const runs = Array.from({ length: 4 }, () => new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { url, memory, slot: i, day: d1 } })
    w.once('message', (n: number) => { resolve(n); void w.terminate() })
    w.once('error', reject)
  }))
  const admitted = await Promise.all(runs)
  t.equal(admitted.reduce((a, b) => a + b, 0), 50000, '80 000 tries, a limit of 50 000: exactly 50 000 let in')
  t.equal(q.drain(i, out()).count, 50000)
})
