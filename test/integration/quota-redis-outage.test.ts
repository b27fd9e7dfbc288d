// Redis unreachable: the gateway keeps serving on local counts, says so once, reconnects, and
// adds what it counted meanwhile (a real redis-server, stopped and restarted).
import t from 'tap'
import { startGateway, type Gateway } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { getPets, runUsageCli, usageOnceFlushed, utcToday, waitFor, writeQuotaConfig } from '../helpers/quota.js'

const today = utcToday()
const get = (gw: Gateway) => getPets(gw)

t.test('Redis unreachable: serve on local counts, log once, reconnect, add what was counted meanwhile', async (t) => {
  const redis = await startRedis(t)
  const config = writeQuotaConfig(t, 'c.json', { workers: 1, state: { dir: './state-c', redis: redis.url }, plans: [{ id: 'gold', quota: { limit: 50, period: 'DAY' }, keys: ['k1'] }] })
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  for (let i = 0; i < 10; i++) t.equal((await get(gw)).status, 200)
  const before = { usagePlanId: 'gold', startDate: today, endDate: today, items: { k1: [[10, 40]] } }
  t.strictSame(await usageOnceFlushed(['--config', config, '--plan', 'gold', '--from', today, '--to', today], before), before, 'in Redis within a sync')

  await redis.stop()
  const statuses: number[] = []
  for (let i = 0; i < 30; i++) statuses.push((await get(gw)).status)
  t.strictSame(statuses, Array(30).fill(200), 'served while Redis is down')
  await waitFor('the unreachable line', () => /state: Redis at 127\.0\.0\.1:\d+ is unreachable/.test(gw.output()))
  // Local counting still enforces the quota: 10 + 30 used, 10 left.
  const more: number[] = []
  for (let i = 0; i < 12; i++) more.push((await get(gw)).status)
  t.strictSame(more, [...Array(10).fill(200), 429, 429], 'the local count holds the limit meanwhile')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(gw.output().match(/state: Redis at [^ ]+ is unreachable/g)!.length, 1, 'said once, not per retry')

  // The server comes back empty (no persistence): the gateway adds the 40 it counted meanwhile.
  await redis.restart()
  await waitFor('the reconnect line', () => /is reachable again: 40 requests counted meanwhile were added/.test(gw.output()))
  const r = await runUsageCli(['--config', config, '--plan', 'gold', '--from', today, '--to', today])
  t.strictSame(JSON.parse(r.stdout).items, { k1: [[40, 10]] }, 'nothing counted during the outage was lost (the 10 before it went with the server\'s memory)')
  t.equal(gw.output().match(/state: Redis at [^ ]+ is reachable again/g)!.length, 1)
  t.notMatch(gw.output(), /value-of-/, 'no key value in the log')
})
