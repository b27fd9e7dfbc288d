// Throttling shared through Redis (`state.redis`): two gateway processes and a real
// redis-server hold one limit together (the buckets are Redis hashes updated by one atomic
// Lua script per request, on Redis's clock), and an outage of Redis leaves each gateway
// serving on its own buckets, logged once when Redis goes and once when it is back.
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { startGateway, writeApi, request, type Gateway } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { REDIS_KEY_PREFIX, REDIS_RECONNECT_MAX_DELAY_MS } from '../../src/traffic/throttle-redis.js'

const WORKERS = 2

async function until<T>(fn: () => T | Promise<T>, what: string, ms = 20_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T>
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function writeConfig(t: Test, redisUrl: string, rate: number, burst: number): string {
  const apiFile = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'shared', version: '1' },
    paths: { '/limited': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } } } } },
  })
  const config = join(t.testdirName, 'gateway.json')
  writeFileSync(config, JSON.stringify({
    workers: WORKERS,
    state: { redis: redisUrl },
    throttling: { rateLimit: 1_000_000, burstLimit: 1_000_000 },
    apis: [{ id: 'shared', file: apiFile, stages: { prod: { methodSettings: { '/limited/GET': { throttlingRateLimit: rate, throttlingBurstLimit: burst } } } } }],
  }))
  return config
}

/**
 * Connections of gateway workers that ioredis has made ready (their INFO ready check, or a
 * take, is the last command Redis saw from them); the test's own client is named "test".
 */
async function readyWorkerConnections(client: Redis): Promise<number> {
  await client.client('SETNAME', 'test')
  const list = (await client.client('LIST')) as string
  return list.split('\n').filter((l) => !l.includes(' name=test ') && /cmd=(info|evalsha|eval) /.test(l)).length
}

/** Waits until every worker's connection is ready (a worker not yet connected decides on local buckets). */
async function allConnected(client: Redis, workers: number): Promise<void> {
  await until(async () => (await readyWorkerConnections(client).catch(() => 0)) >= workers, 'every worker connected to Redis')
  // ioredis turns ready when the INFO reply arrives, just after Redis has processed it.
  await new Promise((r) => setTimeout(r, 300))
}

const METHOD_KEY = `${REDIS_KEY_PREFIX}${JSON.stringify(['method', 'shared', 'prod', '/limited', 'GET'])}`

t.test('two gateways and one Redis hold one 100 req/s, burst 10 limit together, within 2 %', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url)
  t.teardown(() => client.disconnect())
  const config = writeConfig(t, redis.url, 100, 10)
  const gws: Gateway[] = await Promise.all([startGateway({ args: ['--config', config] }), startGateway({ args: ['--config', config] })])
  for (const gw of gws) t.teardown(gw.stop)
  // Every worker of both gateways has compiled and connected.
  for (const gw of gws) t.equal((await request(`${gw.url}/prod/nothing`, { timeoutMs: 60_000 })).status, 403)
  await allConnected(client, 2 * WORKERS)
  t.equal((await request(`${gws[0]!.url}/prod/limited`)).status, 200)
  t.ok(await client.exists(METHOD_KEY), 'the bucket is in Redis')
  await new Promise((r) => setTimeout(r, 200))

  const durationS = 10
  const runs = await Promise.all(gws.map((gw) => autocannon({ url: `${gw.url}/prod/limited`, connections: 16, duration: durationS, timeout: 10 })))
  const ok = runs.reduce((n, r) => n + r['2xx'], 0)
  const all = runs.reduce((n, r) => n + r['2xx'] + r.non2xx, 0)
  const expected = 10 + 100 * durationS
  t.strictSame(runs.map((r) => r.errors + r.timeouts), [0, 0], 'no errors, no timeouts')
  t.ok(all > 5 * expected, `overload: ${all} requests`)
  t.ok(runs.every((r) => r['2xx'] > expected / 10), `both gateways let requests through: ${runs.map((r) => r['2xx']).join(' + ')}`)
  // One process on its own would let 1010 through; two without sharing, 2020.
  t.ok(ok <= expected * 1.02, `${ok} let through in all, at most ${expected} + 2 %`)
  t.ok(ok >= expected * 0.98, `${ok} let through in all, at least ${expected} - 2 %`)
  t.strictSame(runs.map((r) => r['2xx'] + (r.statusCodeStats['429']?.count ?? 0) === r['2xx'] + r.non2xx), [true, true], 'the others are 429')
  for (const gw of gws) t.notMatch(gw.output(), /unreachable/, 'Redis was there throughout')
})

t.test('Redis goes away: the gateway keeps serving on its own buckets, says so once, reconnects, says so once', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  // A token per 1000 s: nothing refills while the test runs.
  const config = writeConfig(t, redis.url, 0.001, 3)
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
  await until(() => /unreachable/.test(gw.output()), 'the outage line')
  await new Promise((r) => setTimeout(r, 1_000))
  t.equal(gw.output().match(/throttling: Redis at 127\.0\.0\.1:\d+ is unreachable/g)?.length, 1, 'said once for the process, by the first of its workers')
  t.notMatch(gw.output(), /redis:\/\//, 'the URL (it may hold a password) is not logged')

  await redis.restart()
  const restartedAt = Date.now()
  await until(() => /reachable again/.test(gw.output()), 'the reconnection line')
  const reconnectMs = Date.now() - restartedAt
  // The named window: REDIS_RECONNECT_MAX_DELAY_MS between attempts, plus connecting on a loaded machine.
  t.ok(reconnectMs < REDIS_RECONNECT_MAX_DELAY_MS + 2_500, `back in ${reconnectMs} ms`)
  await allConnected(client, WORKERS)
  t.equal(gw.output().match(/is reachable again/g)?.length, 1, 'said once, by the last worker to get it back')
  // The restarted Redis is empty: its bucket starts full — what a Redis without persistence
  // loses is the levels of its buckets (one burst) — and the limit is counted there again.
  t.strictSame(await statuses(4), [200, 200, 200, 429], 'shared again: the Redis bucket decides')
  t.equal(Number(await client.hget(METHOD_KEY, 't')) < 1, true, 'in Redis')
  t.notMatch(gw.output(), /Internal server error|request failed/, 'nothing failed')
})
