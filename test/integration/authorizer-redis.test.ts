// The Lambda authorizer result cache shared through Redis (`state.redis`, issue 9): two
// gateway processes and a real redis-server. A token used on both gateways costs one
// function call per TTL (the function counts its calls in a file); entries expire with
// authorizerResultTtlInSeconds (developer guide, "Use API Gateway Lambda authorizers":
// the policy is cached for the TTL, keyed by the identity source values); Redis keys carry
// no token in clear; an outage serves on each process's own cache, said once each way.
import t, { type Test } from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { startGateway, request, type Gateway } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'

const AUTHORIZERS = fileURLToPath(new URL('../fixtures/functions/authorizers.mjs', import.meta.url))
const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`

function tokenScheme(fn: string, ttlSeconds: number) {
  return {
    type: 'apiKey', name: 'Authorization', in: 'header',
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: arn(fn), authorizerResultTtlInSeconds: ttlSeconds },
  }
}

/** A mock method behind `scheme` answering the principal the authorizer gave. */
const get = (scheme: string) => ({
  get: {
    security: [{ [scheme]: [] }],
    'x-amazon-apigateway-integration': {
      type: 'mock',
      requestTemplates: { 'application/json': '{"statusCode": 200}' },
      responses: { default: { statusCode: '200', responseTemplates: { 'application/json': '{"principal":"$context.authorizer.principalId"}' } } },
    },
  },
})

function calls(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
}

async function until(fn: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

function writeConfig(t: Test, redisUrl: string): { config: string; longCalls: string; shortCalls: string } {
  const dir = t.testdir({})
  const longCalls = join(dir, 'long.txt')
  const shortCalls = join(dir, 'short.txt')
  writeFileSync(longCalls, '')
  writeFileSync(shortCalls, '')
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'auth', version: '1' },
    components: { securitySchemes: { long: tokenScheme('longAuth', 300), short: tokenScheme('shortAuth', 1) } },
    paths: { '/pets': get('long'), '/short': get('short') },
  }))
  const config = join(dir, 'backplane.json')
  writeFileSync(config, JSON.stringify({
    workers: 2,
    state: { redis: redisUrl },
    apis: [{ id: 'authapi', file: 'api.json', stages: { prod: {} } }],
    functions: {
      longAuth: { handler: `${AUTHORIZERS}#token`, environment: { COUNT_FILE: longCalls } },
      shortAuth: { handler: `${AUTHORIZERS}#token`, environment: { COUNT_FILE: shortCalls } },
    },
  }))
  return { config, longCalls, shortCalls }
}

async function principal(gw: Gateway, path: string, token: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  const res = await request(`${gw.url}/prod${path}`, { headers: { authorization: token }, timeoutMs: 30_000 })
  return { status: res.status, contentType: res.headers['content-type'] as string | undefined, body: res.body.toString('utf8') }
}

const ok = (p: string) => ({ status: 200, contentType: 'application/json', body: `{"principal":"${p}"}` })

t.test('two gateways share one authorizer result cache in Redis', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  const { config, longCalls, shortCalls } = writeConfig(t, redis.url)
  const [a, b] = await Promise.all([startGateway({ args: ['--config', config] }), startGateway({ args: ['--config', config] })])
  t.teardown(a!.stop)
  t.teardown(b!.stop)
  const gwA = a!
  const gwB = b!

  t.test('a token used on both gateways: one function call', async (t) => {
    t.strictSame(await principal(gwA, '/pets', 'allow'), ok('user-1'))
    t.strictSame(calls(longCalls), ['allow'], 'the first gateway called the function')
    t.strictSame(await principal(gwB, '/pets', 'allow'), ok('user-1'), 'the other gateway: the same answer')
    t.strictSame(await principal(gwB, '/pets', 'allow'), ok('user-1'))
    t.strictSame(await principal(gwA, '/pets', 'allow'), ok('user-1'))
    t.strictSame(calls(longCalls), ['allow'], 'no second call, on either gateway or worker')

    const keys = await client.keys('bp:authz:*')
    t.equal(keys.length, 1, 'one entry in Redis')
    t.match(keys[0], /^bp:authz:authapi\/prod\/long:[0-9a-f]{16}:[A-Za-z0-9_-]{43}$/, 'API, stage, authorizer, config version, hashed identity')
    t.notOk(keys[0]!.includes('allow'), 'the token is not in the key')
    const pttl = await client.pttl(keys[0]!)
    t.ok(pttl > 290_000 && pttl <= 300_000, `expires with authorizerResultTtlInSeconds (300 s): PTTL ${pttl}`)
    const stored = JSON.parse((await client.get(keys[0]!))!) as { principalId: string }
    t.equal(stored.principalId, 'user-1', 'the value is the function\'s result')
  })

  t.test('an entry expires with its TTL, in Redis and in each process', async (t) => {
    t.strictSame(await principal(gwA, '/short', 'allow-get'), ok('user-2'))
    t.strictSame(await principal(gwB, '/short', 'allow-get'), ok('user-2'))
    t.strictSame(calls(shortCalls), ['allow-get'], 'within the 1 s TTL: one call for both gateways')
    await sleep(1_300)
    t.equal((await client.keys('bp:authz:authapi/prod/short:*')).length, 0, 'Redis expired it (SET … PX)')
    t.strictSame(await principal(gwB, '/short', 'allow-get'), ok('user-2'))
    t.strictSame(calls(shortCalls), ['allow-get', 'allow-get'], 'after the TTL the function is called again')
    t.strictSame(await principal(gwA, '/short', 'allow-get'), ok('user-2'))
    t.strictSame(calls(shortCalls), ['allow-get', 'allow-get'], 'the other gateway finds the new entry in Redis')
  })

  t.test('Redis down: each process serves on its own cache, says so once each way, reconnects', async (t) => {
    await redis.stop()
    const lost = /authorizer cache: Redis at 127\.0\.0\.1:\d+ is unreachable/g
    await until(() => (gwA.output().match(lost)?.length ?? 0) > 0 && (gwB.output().match(lost)?.length ?? 0) > 0, 'the outage lines')
    const before = calls(longCalls).length
    t.strictSame(await principal(gwA, '/pets', 'pets-only'), ok('user-3'), 'served, never a 5xx')
    t.strictSame(await principal(gwA, '/pets', 'pets-only'), ok('user-3'))
    t.equal(calls(longCalls).length, before + 1, 'the local cache answers the repeat')
    t.strictSame(await principal(gwB, '/pets', 'pets-only'), ok('user-3'))
    t.equal(calls(longCalls).length, before + 2, 'not shared while Redis is down: the other gateway calls once')
    await sleep(1_000)
    for (const gw of [gwA, gwB]) t.equal(gw.output().match(lost)?.length, 1, 'said once, not per retry')

    await redis.restart()
    const back = /authorizer cache: Redis at 127\.0\.0\.1:\d+ is reachable again/g
    await until(() => (gwA.output().match(back)?.length ?? 0) > 0 && (gwB.output().match(back)?.length ?? 0) > 0, 'the reconnection lines')
    await sleep(500)
    for (const gw of [gwA, gwB]) t.equal(gw.output().match(back)?.length, 1, 'said once')
    t.strictSame(await principal(gwA, '/pets', 'numeric-principal'), ok('42'))
    t.strictSame(await principal(gwB, '/pets', 'numeric-principal'), ok('42'))
    t.equal(calls(longCalls).filter((c) => c === 'numeric-principal').length, 1, 'shared again')
    for (const gw of [gwA, gwB]) {
      t.notMatch(gw.output(), /redis:\/\//, 'the URL (it may hold a password) is not logged')
      t.notMatch(gw.output(), /numeric-principal|pets-only|allow-get/, 'no token value in the log')
    }
  })
})
