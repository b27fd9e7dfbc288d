// A kill -9 during a Redis outage: what was counted meanwhile is kept in state.dir (copied every
// USAGE_FLUSH_MS) and reaches Redis with the next run, once.
import t from 'tap'
import { join } from 'node:path'
import { UsageStore } from '../../src/traffic/usage-store.js'
import { startGateway, type Gateway } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { getPets, usageOnceFlushed, utcToday, waitFor, writeQuotaConfig } from '../helpers/quota.js'

const today = utcToday()
const get = (gw: Gateway) => getPets(gw)

t.test('kill -9 during a Redis outage: what was counted meanwhile (up to 1 s before the kill) reaches Redis with the next run', async (t) => {
  const redis = await startRedis(t)
  const config = writeQuotaConfig(t, 'd.json', { workers: 1, state: { dir: './state-d', redis: redis.url }, plans: [{ id: 'gold', quota: { limit: 100, period: 'DAY' }, keys: ['k1'] }] })
  let gw = await startGateway({ args: ['--config', config] })
  t.teardown(() => gw.stop())
  t.equal((await get(gw)).status, 200)
  const one = { usagePlanId: 'gold', startDate: today, endDate: today, items: { k1: [[1, 99]] } }
  t.strictSame(await usageOnceFlushed(['--config', config, '--plan', 'gold', '--from', today, '--to', today], one), one, 'the first request is in Redis before it stops')
  await redis.stop()
  for (let i = 0; i < 20; i++) t.equal((await get(gw)).status, 200)
  await waitFor('the unreachable line', () => /is unreachable/.test(gw.output()))
  // Past one copy to state.dir (every USAGE_FLUSH_MS while Redis is away).
  await new Promise((r) => setTimeout(r, 1_600))
  gw.signal('SIGKILL')
  await gw.exited
  await redis.restart()
  gw = await startGateway({ args: ['--config', config] })
  const expected = { usagePlanId: 'gold', startDate: today, endDate: today, items: { k1: [[20, 80]] } }
  t.strictSame(await usageOnceFlushed(['--config', config, '--plan', 'gold', '--from', today, '--to', today], expected), expected, 'the 20 counted during the outage were kept across the kill and added (the 1 before it went with the server)')
  // Sent once: the copy in state.dir is cleared once Redis has it, so no later run adds it again.
  await gw.stop()
  const store = new UsageStore(join(t.testdirName, 'state-d'), { readonly: true })
  t.teardown(() => store.close())
  t.strictSame(store.pending(), [], 'nothing left to add')
})
