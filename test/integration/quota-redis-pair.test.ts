// Quotas shared through Redis (state.redis) by two gateway processes, with a real redis-server.
import t from 'tap'
import { startGateway, type Gateway } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { getPets, usageOnceFlushed, utcToday, writeQuotaConfig } from '../helpers/quota.js'

const today = utcToday()
const get = (gw: Gateway) => getPets(gw)

t.test('two gateways share one quota through Redis: exact within 2 %', async (t) => {
  const redis = await startRedis(t)
  const LIMIT = 400
  const a = writeQuotaConfig(t, 'a.json', { workers: 1, state: { dir: './state-a', redis: redis.url }, plans: [{ id: 'gold', quota: { limit: LIMIT, period: 'DAY' }, keys: ['k1'] }] })
  const b = writeQuotaConfig(t, 'b.json', { workers: 1, state: { dir: './state-b', redis: redis.url }, plans: [{ id: 'gold', quota: { limit: LIMIT, period: 'DAY' }, keys: ['k1'] }] })
  const gwA = await startGateway({ args: ['--config', a] })
  t.teardown(gwA.stop)
  const gwB = await startGateway({ args: ['--config', b] })
  t.teardown(gwB.stop)
  // 8 clients, half on each gateway, until 600 requests are answered.
  let sent = 0
  let admitted = 0
  let refused = 0
  const client = async (gw: Gateway) => {
    while (sent < 600) {
      sent++
      const r = await get(gw)
      if (r.status === 200) admitted++
      else if (r.status === 429) refused++
    }
  }
  await Promise.all([client(gwA), client(gwB), client(gwA), client(gwB), client(gwA), client(gwB), client(gwA), client(gwB)])
  t.ok(admitted >= LIMIT && admitted <= LIMIT * 1.02, `${admitted} let in by both together against a shared ${LIMIT}`)
  t.equal(admitted + refused, sent)
  // Both now refuse: the quota is used up for both.
  t.equal((await get(gwA)).status, 429)
  t.equal((await get(gwB)).status, 429)
  // backplane usage reads Redis: every request let in is counted once.
  const report = await usageOnceFlushed(['--config', a, '--plan', 'gold', '--from', today, '--to', today], { usagePlanId: 'gold', startDate: today, endDate: today, items: { k1: [[admitted, 0]] } })
  t.strictSame(report, { usagePlanId: 'gold', startDate: today, endDate: today, items: { k1: [[admitted, 0]] } })
})
