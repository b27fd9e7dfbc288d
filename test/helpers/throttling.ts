// A gateway config with one throttled method, for the tests that count what a limit lets
// through under load (throttling-workers.test.ts; throttling-redis*.test.ts through
// throttling-redis.ts).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeApi, type TestdirOwner } from './api.js'

export interface LimitedMethodOptions {
  /** The API's id (and title). */
  id: string
  /** The gateway's workers. */
  workers: number
  /** The method's throttlingRateLimit, requests per second. */
  rate: number
  /** The method's throttlingBurstLimit. */
  burst: number
  /** state.redis: the buckets live in this Redis (shared by every gateway using it); absent, in the gateway. */
  redisUrl?: string
}

/**
 * Writes gateway.json: API `id`, stage `prod`, GET /limited (MOCK, 200) limited to `rate` per
 * second and a burst of `burst`; the account level out of the way.
 */
export function writeLimitedMethodConfig(t: TestdirOwner, o: LimitedMethodOptions): string {
  const apiFile = writeApi(t, {
    openapi: '3.0.1',
    info: { title: o.id, version: '1' },
    paths: { '/limited': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } } } } },
  })
  const config = join(t.testdirName, 'gateway.json')
  writeFileSync(config, JSON.stringify({
    workers: o.workers,
    ...(o.redisUrl === undefined ? {} : { state: { redis: o.redisUrl } }),
    // The account level must not be what limits the load.
    throttling: { rateLimit: 1_000_000, burstLimit: 1_000_000 },
    apis: [{ id: o.id, file: apiFile, stages: { prod: { methodSettings: { '/limited/GET': { throttlingRateLimit: o.rate, throttlingBurstLimit: o.burst } } } } }],
  }))
  return config
}
