// The Redis side of quotas (src/traffic/quota-redis.ts) against a real redis-server: one
// atomic script adds per-day usage and period counts and answers the shared totals; the
// plan's first day is set once; log lines name host:port, never a password.
import t from 'tap'
import { startRedis } from '../../helpers/redis.js'
import { RedisQuotaClient, redisAddress } from '../../../src/traffic/quota-redis.js'
import { parseDay } from '../../../src/traffic/quota.js'

t.test('redisAddress hides credentials', async (t) => {
  t.equal(redisAddress('redis://:s3cret@127.0.0.1:6390/2'), '127.0.0.1:6390')
  t.equal(redisAddress('redis://user:pw@127.0.0.1/0'), '127.0.0.1:6379')
})

t.test('sync, since, day counts', async (t) => {
  const redis = await startRedis(t)
  const c = new RedisQuotaClient(redis.url, () => {})
  t.teardown(() => c.close())
  t.equal(await c.connect(), true)
  const d1 = parseDay('2026-12-01')!
  const week = parseDay('2026-11-29')!
  const exp = (week + 8) * 86_400_000
  t.strictSame(await c.sync([{ planId: 'gold', keyId: 'k1', currentPeriodStart: week, deltas: [['2026-12-01', week, exp, 3]] }, { planId: 'gold', keyId: 'k2', currentPeriodStart: week, deltas: [] }]), [3, 0])
  t.strictSame(await c.sync([{ planId: 'gold', keyId: 'k1', currentPeriodStart: week, deltas: [['2026-12-01', week, exp, 2], ['2026-12-02', week, exp, 4]] }]), [9], 'the shared total of the period')
  t.strictSame(await c.dayCounts('gold', 'k1', ['2026-11-30', '2026-12-01', '2026-12-02']), [0, 5, 4])
  t.equal(await c.since('gold', d1), d1)
  t.equal(await c.since('gold', d1 + 3), d1, 'the first day stays')
  t.equal(await c.recordedSince('gold'), d1)
  t.equal(await c.recordedSince('silver'), null)
})

t.test('unreachable: connect says so, sync rejects at once', async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const states: boolean[] = []
  const c = new RedisQuotaClient(redis.url, (up) => states.push(up))
  t.teardown(() => c.close())
  t.equal(await c.connect(), false)
  const started = Date.now()
  await t.rejects(c.sync([{ planId: 'p', keyId: 'k', currentPeriodStart: 0, deltas: [] }]))
  t.ok(Date.now() - started < 1_000, 'no offline queue: fails fast')
  t.ok(states.includes(false))
})
