// Quotas shared through Redis (state.redis) by two gateway processes, with a real
// redis-server; and an outage: the gateway keeps serving on local counts, says so once,
// reconnects, and adds what it counted meanwhile.
import t from 'tap'
import { startGateway, request, type Gateway } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { keyValue, runUsageCli, usageOnceFlushed, writeQuotaConfig } from '../helpers/quota.js'

const today = new Date().toISOString().slice(0, 10)
const get = (gw: Gateway, key = 'k1') => request(`${gw.url}/prod/pets`, { headers: { 'x-api-key': keyValue(key) } })

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

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
  t.equal(gw.output().match(/is unreachable/g)!.length, 1, 'said once, not per retry')

  // The server comes back empty (no persistence): the gateway adds the 40 it counted meanwhile.
  await redis.restart()
  await waitFor('the reconnect line', () => /is reachable again: 40 requests counted meanwhile were added/.test(gw.output()))
  const r = await runUsageCli(['--config', config, '--plan', 'gold', '--from', today, '--to', today])
  t.strictSame(JSON.parse(r.stdout).items, { k1: [[40, 10]] }, 'nothing counted during the outage was lost (the 10 before it went with the server\'s memory)')
  t.equal(gw.output().match(/is reachable again/g)!.length, 1)
  t.notMatch(gw.output(), /value-of-/, 'no key value in the log')
})

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
  // Sent once: a second restart adds nothing more.
  await gw.stop()
  gw = await startGateway({ args: ['--config', config] })
  await new Promise((r) => setTimeout(r, 300))
  const r = await runUsageCli(['--config', config, '--plan', 'gold', '--from', today, '--to', today])
  t.strictSame(JSON.parse(r.stdout).items, { k1: [[20, 80]] }, 'not added twice')
})
