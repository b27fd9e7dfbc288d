// The shared-throttling fixture (`state.redis`): a gateway config whose one method is limited
// through Redis (written by throttling.ts), and a wait until every worker's Redis connection is
// ready. Used by throttling-redis.test.ts (two gateways, one limit) and throttling-redis-outage.test.ts.
import type { Redis } from 'ioredis'
import type { TestdirOwner } from './api.js'
import { writeLimitedMethodConfig } from './throttling.js'
import { until } from './wait.js'
import { REDIS_KEY_PREFIX } from '../../src/traffic/throttle-redis.js'

/** Workers of each gateway the fixture's config starts. */
export const SHARED_THROTTLE_WORKERS = 2
/** Bound on the workers' connecting to Redis on a loaded machine. */
const CONNECT_TIMEOUT_MS = 20_000

/** The Redis key of the method bucket of GET /limited in API `shared`, stage `prod`. */
export const SHARED_METHOD_KEY = `${REDIS_KEY_PREFIX}${JSON.stringify(['method', 'shared', 'prod', '/limited', 'GET'])}`

/** gateway.json of writeLimitedMethodConfig: API `shared`, SHARED_THROTTLE_WORKERS workers, the buckets in Redis at `redisUrl`. */
export function writeSharedThrottleConfig(t: TestdirOwner, redisUrl: string, rate: number, burst: number): string {
  return writeLimitedMethodConfig(t, { id: 'shared', workers: SHARED_THROTTLE_WORKERS, rate, burst, redisUrl })
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

/** Waits until `workers` worker connections are ready (a worker not yet connected decides on local buckets). */
export async function allConnected(client: Redis, workers: number): Promise<void> {
  await until(async () => (await readyWorkerConnections(client).catch(() => 0)) >= workers, 'every worker connected to Redis', CONNECT_TIMEOUT_MS)
  // ioredis turns ready when the INFO reply arrives, just after Redis has processed it.
  await new Promise((r) => setTimeout(r, 300))
}
