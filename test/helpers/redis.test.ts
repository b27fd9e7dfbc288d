import t from 'tap'
import { Redis } from 'ioredis'
import { startRedis } from './redis.js'

t.test('startRedis runs a real redis-server on loopback, restartable, stopped at teardown', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  t.teardown(() => client.disconnect())
  await client.connect()
  t.equal(await client.set('k', 'v'), 'OK')
  t.equal(await client.get('k'), 'v')
  await redis.restart()
  // Empty after a restart: no persistence.
  t.equal(await client.get('k'), null)
})
