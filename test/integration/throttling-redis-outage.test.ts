// An outage of the Redis that holds throttling's buckets (`state.redis`): the gateway keeps
// serving on its own buckets, says so once when Redis goes and once when it is back, and
// reconnects within the named window; a Redis restarted empty has lost one burst.
import t from 'tap'
import { Redis } from 'ioredis'
import { startGateway, request, until } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { writeSharedThrottleConfig, allConnected, SHARED_METHOD_KEY as METHOD_KEY, SHARED_THROTTLE_WORKERS as WORKERS } from '../helpers/throttling-redis.js'
import { REDIS_RECONNECT_MAX_DELAY_MS } from '../../src/traffic/throttle-redis.js'

t.test('Redis goes away: the gateway keeps serving on its own buckets, says so once, reconnects, says so once', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  // A token per 1000 s: nothing refills while the test runs.
  const config = writeSharedThrottleConfig(t, redis.url, 0.001, 3)
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  t.equal((await request(`${gw.url}/prod/nothing`, { timeoutMs: 60_000 })).status, 403)
  await allConnected(client, WORKERS)
  const statuses = async (n: number) => {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push((await request(`${gw.url}/prod/limited`, { timeoutMs: 5_000 })).status)
    return out
  }

  t.strictSame(await statuses(4), [200, 200, 200, 429], 'the burst of 3, counted in Redis')
  t.equal(Number(await client.hget(METHOD_KEY, 't')) < 1, true, 'Redis holds the spent bucket')

  await redis.stop()
  const stoppedAt = Date.now()
  // Served at once, never a 5xx: the process's own buckets (full: they were not used while
  // Redis answered) decide, and still limit.
  t.strictSame(await statuses(5), [200, 200, 200, 429, 429], 'local buckets: a burst of 3, then 429')
  t.ok(Date.now() - stoppedAt < 5_000, 'no request waited for Redis')
  await until(() => /unreachable/.test(gw.output()), 'the outage line', 20_000)
  await new Promise((r) => setTimeout(r, 1_000))
  t.equal(gw.output().match(/throttling: Redis at 127\.0\.0\.1:\d+ is unreachable/g)?.length, 1, 'said once for the process, by the first of its workers')
  t.notMatch(gw.output(), /redis:\/\//, 'the URL (it may hold a password) is not logged')

  await redis.restart()
  const restartedAt = Date.now()
  await until(() => /reachable again/.test(gw.output()), 'the reconnection line', 20_000)
  const reconnectMs = Date.now() - restartedAt
  // The named window: REDIS_RECONNECT_MAX_DELAY_MS between attempts, plus connecting on a loaded machine.
  t.ok(reconnectMs < REDIS_RECONNECT_MAX_DELAY_MS + 2_500, `back in ${reconnectMs} ms`)
  await allConnected(client, WORKERS)
  t.equal(gw.output().match(/throttling: Redis at [^ ]+ is reachable again/g)?.length, 1, 'said once, by the last worker to get it back')
  // The restarted Redis is empty: its bucket starts full — what a Redis without persistence
  // loses is the levels of its buckets (one burst) — and the limit is counted there again.
  t.strictSame(await statuses(4), [200, 200, 200, 429], 'shared again: the Redis bucket decides')
  t.equal(Number(await client.hget(METHOD_KEY, 't')) < 1, true, 'in Redis')
  t.notMatch(gw.output(), /Internal server error|request failed/, 'nothing failed')
})
