// Quotas shared through Redis (state.redis) by two gateway processes, with a real redis-server.
import t from 'tap'
import { startGateway, type Gateway } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { getPets, usageOnceFlushed, utcToday, writeQuotaConfig } from '../helpers/quota.js'

const today = utcToday()
const get = (gw: Gateway) => getPets(gw)

t.test('two gateways share one quota through Redis: exact within 2 %', async (t) => {
  const redis = await startRedis(t)
  // The named window (traffic/quota-redis.ts): a process sees the other's admissions within one
  // sync (REDIS_SYNC_MS), so the overshoot is what one gateway admits in 20 ms. 2 % of the limit
  // must hold that at the rate these 8 clients reach (≈ 1–1.5 k req/s on the 2-core machine).
  const LIMIT = 2000
  const a = writeQuotaConfig(t, 'a.json', { workers: 1, state: { dir: './state-a', redis: redis.url }, plans: [{ id: 'gold', quota: { limit: LIMIT, period: 'DAY' }, keys: ['k1'] }] })
  const b = writeQuotaConfig(t, 'b.json', { workers: 1, state: { dir: './state-b', redis: redis.url }, plans: [{ id: 'gold', quota: { limit: LIMIT, period: 'DAY' }, keys: ['k1'] }] })
  const gwA = await startGateway({ args: ['--config', a] })
  t.teardown(gwA.stop)
  const gwB = await startGateway({ args: ['--config', b] })
  t.teardown(gwB.stop)
  // 8 clients, half on each gateway, until 1.5 × LIMIT requests are answered.
  let sent = 0
  let admitted = 0
  let refused = 0
  const client = async (gw: Gateway) => {
    while (sent < LIMIT * 1.5) {
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
