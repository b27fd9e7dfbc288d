// The thread's one Redis connection per URL (src/state/redis.ts) against a real
// redis-server: every user of a thread shares it (throttling, the response cache, quotas),
// the last release closes it, and a loss and a recovery are each told once, whatever the
// number of failed reconnection attempts in between.
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis } from '../../helpers/redis.js'
import { acquireRedis, describeRedis, openRedisConnections, REDIS_RECONNECT_MAX_DELAY_MS } from '../../../src/state/redis.js'
import { RedisThrottle } from '../../../src/traffic/throttle-redis.js'
import { RedisCacheClient } from '../../../src/response-cache/redis-store.js'
import { RedisQuotaClient } from '../../../src/traffic/quota-redis.js'

async function until(fn: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

t.test('describeRedis names host:port, never a password', async (t) => {
  t.equal(describeRedis('redis://:s3cret@127.0.0.1:6390/2'), '127.0.0.1:6390')
  t.equal(describeRedis('redis://127.0.0.1/0'), '127.0.0.1:6379')
  t.equal(describeRedis('not a url'), 'redis')
})

t.test('one connection per URL for every user of the thread; the last release closes it', async (t) => {
  const redis = await startRedis(t)
  const before = openRedisConnections()
  const throttle = new RedisThrottle(redis.url)
  const cache = new RedisCacheClient(redis.url)
  const quota = new RedisQuotaClient(redis.url, () => {})
  t.equal(openRedisConnections(), before + 1, 'three users, one connection')
  t.equal(await quota.connect(), true)
  const shared = acquireRedis(redis.url)
  t.equal(shared.client, cache.redis, 'the same client')
  const clients = String(await shared.client.client('LIST')).split('\n').filter((l) => l !== '')
  t.equal(clients.length, 1, 'Redis sees one connection')
  // Each user's commands work on it.
  cache.set('bp:test:cache', new Uint8Array([1, 2, 3]), 10_000)
  t.strictSame([...(await cache.get('bp:test:cache'))!], [1, 2, 3])
  t.equal(await throttle.take([1, 'bp:test:bucket', 10, 5, 10_000]), 0, 'a take')
  t.strictSame(await quota.sync([{ planId: 'p', keyId: 'k', currentPeriodStart: 1, deltas: [['2026-12-02', 1, Date.now() + 60_000, 2]] }]), [2])
  throttle.close()
  cache.close()
  await quota.close()
  t.equal(openRedisConnections(), before + 1, 'still held by one user')
  shared.release()
  t.equal(openRedisConnections(), before, 'closed with its last user')
})

t.test('a loss and a recovery are each told once', async (t) => {
  const redis = await startRedis(t)
  const shared = acquireRedis(redis.url)
  t.teardown(() => shared.release())
  const events: string[] = []
  shared.onState((up, reason) => events.push(up ? 'up' : `down:${reason === '' ? 'no reason' : 'reason'}`))
  t.equal(await shared.whenReady(5_000), true)
  await redis.stop()
  await until(() => events.length === 1, 'the loss')
  // Several reconnection attempts fail meanwhile.
  await sleep(REDIS_RECONNECT_MAX_DELAY_MS * 3)
  t.strictSame(events, ['down:reason'], 'told once, with a reason')
  t.equal(shared.down, true)
  t.equal(shared.ready, false)
  const started = Date.now()
  await t.rejects(shared.client.get('x'), 'a command fails at once while disconnected')
  t.ok(Date.now() - started < 200, 'no offline queue')
  await redis.restart()
  t.equal(await shared.whenReady(REDIS_RECONNECT_MAX_DELAY_MS + 5_000), true, 'reconnected by itself')
  await until(() => events.length === 2, 'the recovery')
  t.strictSame(events, ['down:reason', 'up'])
  t.equal(shared.down, false)
})
