// The test clock (src/traffic/quota-clock.ts): off unless BACKPLANE_TEST_CLOCK_FILE is set,
// says so in the log, and is acknowledged once in force.
import t from 'tap'
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { QuotaTable, createQuotaMemory } from '../../../src/traffic/quota-table.js'
import { TEST_CLOCK_ENV, parseTestClock, quotaNow, startTestClock } from '../../../src/traffic/quota-clock.js'

t.test('parses epoch ms and ISO instants only', async (t) => {
  t.equal(parseTestClock('1796083200000\n'), 1796083200000)
  t.equal(parseTestClock('2026-12-01T00:00:00Z'), Date.parse('2026-12-01T00:00:00Z'))
  t.equal(parseTestClock('soon'), null)
})

t.test('unset: the real clock, nothing logged', async (t) => {
  const q = new QuotaTable(createQuotaMemory())
  const lines: string[] = []
  t.equal(await startTestClock(q, {}, (l) => lines.push(l)), null)
  const before = Date.now()
  const now = quotaNow(q)
  t.ok(now >= before && now <= Date.now())
  t.strictSame(lines, [])
})

t.test('set: the file\'s instant, a warning, an ack; moves when the file changes', async (t) => {
  const dir = t.testdir({})
  const file = join(dir, 'clock')
  writeFileSync(file, '2026-12-05T23:59:00Z')
  const q = new QuotaTable(createQuotaMemory())
  const lines: string[] = []
  let flushed = 0
  const stop = await startTestClock(q, { [TEST_CLOCK_ENV]: file }, (l) => lines.push(l), () => { flushed++ })
  t.teardown(() => stop?.())
  t.equal(quotaNow(q), Date.parse('2026-12-05T23:59:00Z'))
  t.match(lines, [/BACKPLANE_TEST_CLOCK_FILE is set: .* \(for tests only\)/])
  t.equal(readFileSync(`${file}.ack`, 'utf8'), String(Date.parse('2026-12-05T23:59:00Z')))
  t.equal(flushed, 0, 'no flush before the first instant')
  writeFileSync(file, '2026-12-06T00:00:00Z')
  const until = Date.now() + 5_000
  while (quotaNow(q) !== Date.parse('2026-12-06T00:00:00Z') && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
  t.equal(quotaNow(q), Date.parse('2026-12-06T00:00:00Z'))
  t.equal(flushed, 1, 'the counts are flushed before the clock moves')
})
