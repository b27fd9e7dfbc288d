// Which buckets a configuration has and in which order a request meets them
// (src/traffic/throttle.ts): API Gateway's order ("Throttle requests to your REST APIs": per
// client per method from the usage plan's API stage, per client from the usage plan, per method
// from the stage's methodSettings, the account level), the table the main thread builds, and a
// chain's all-or-nothing take.
import t from 'tap'
import { normalizeApi } from '../../../src/config/normalize.js'
import { DEFAULT_ACCESS, type AccessSource, type GatewaySource } from '../../../src/config/model.js'
import { DEFAULT_STAGE_SETTINGS, parseStageSettings } from '../../../src/config/stage-settings.js'
import { DEFAULT_ACCOUNT_THROTTLING } from '../../../src/config/throttling.js'
import type { ConfigProblem } from '../../../src/errors.js'
import { ThrottleChain, ThrottleLevel, accountThrottling, createThrottleMemory, gatewayBucketSpecs, identityHash, methodBucketSpecs, resolveSlots } from '../../../src/traffic/throttle.js'
import { TokenBucketTable } from '../../../src/traffic/token-bucket.js'
import { bucketExpiryMs, describeRedis, takeScriptArgs } from '../../../src/traffic/throttle-redis.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }
const problems: ConfigProblem[] = []
const settings = parseStageSettings({ methodSettings: { '*/*': { throttlingRateLimit: 50 }, '/pets/GET': { throttlingBurstLimit: 7 } } }, 'gw.json', '/apis/0/stages/prod', problems)
const api = normalizeApi({
  openapi: '3.0.1',
  info: { title: 'pets', version: '1' },
  components: { securitySchemes: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
  paths: {
    '/pets': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock }, post: { 'x-amazon-apigateway-integration': mock } },
  },
}, { file: 'pets.json', id: 'petstore', basePath: '', stages: [{ name: 'prod', variables: {}, settings }, { name: 'dev', variables: {}, settings: DEFAULT_STAGE_SETTINGS }] }, problems)!
const access: AccessSource = {
  ...DEFAULT_ACCESS,
  apiKeys: [{ id: 'k1', name: 'k1', value: 'v'.repeat(20), enabled: true }, { id: 'k2', name: 'k2', value: 'w'.repeat(20), enabled: true }, { id: 'off', name: 'off', value: 'x'.repeat(20), enabled: false }],
  usagePlans: [
    { id: 'gold', apiStages: [{ apiId: 'petstore', stage: 'prod', throttle: { '/pets/GET': { rateLimit: 5, burstLimit: 2 } } }], apiKeys: ['k1', 'off'], throttle: { rateLimit: 100, burstLimit: 20 }, quota: null },
    { id: 'free', apiStages: [{ apiId: 'petstore', stage: 'prod', throttle: null }], apiKeys: ['k2'], throttle: null, quota: null },
  ],
}
const gateway = { host: '127.0.0.1', port: 0, workers: 1, apis: [api], access, admin: null, tracing: { otlp: null }, state: { dir: '/tmp', redis: null }, throttling: { rateLimit: 1000, burstLimit: 500 } } as GatewaySource
const [prod, dev] = api.stages
const getPets = api.operations.find((o) => o.method === 'GET')!
const postPets = api.operations.find((o) => o.method === 'POST')!

t.test('a keyed request meets its plan\'s method bucket, its plan\'s bucket, the method\'s, the account\'s — in that order', async (t) => {
  t.strictSame(problems, [])
  const specs = methodBucketSpecs(api, prod!, getPets, access, accountThrottling(gateway))
  t.strictSame(specs.byKey.get('k1')!.map((b) => [b.level, b.identity, b.limits]), [
    [ThrottleLevel.ClientMethod, '["planMethod","gold","k1","petstore","prod","/pets","GET"]', { rateLimit: 5, burstLimit: 2 }],
    [ThrottleLevel.Client, '["plan","gold","k1"]', { rateLimit: 100, burstLimit: 20 }],
    // "*/*" sets the rate, the method's own entry the burst: merged key by key.
    [ThrottleLevel.Method, '["method","petstore","prod","/pets","GET"]', { rateLimit: 50, burstLimit: 7 }],
    [ThrottleLevel.Account, '["account"]', { rateLimit: 1000, burstLimit: 500 }],
  ])
  t.equal(specs.byKey.has('k2'), false, 'a plan without throttles adds no bucket: the anonymous chain serves its keys')
  t.equal(specs.byKey.has('off'), false, 'a disabled key never gets in')
  t.strictSame(specs.anonymous.map((b) => b.level), [ThrottleLevel.Method, ThrottleLevel.Account])
})

t.test('a method set on one side only takes the account level for the other; without methodSettings only the account applies', async (t) => {
  const post = methodBucketSpecs(api, prod!, postPets, access, DEFAULT_ACCOUNT_THROTTLING)
  t.strictSame(post.anonymous[0]!.limits, { rateLimit: 50, burstLimit: 5000 }, '"*/*" rate 50, the account burst')
  t.equal(post.byKey.size, 0, 'usage plans throttle only methods that require a key')
  const d = methodBucketSpecs(api, dev!, getPets, access, DEFAULT_ACCOUNT_THROTTLING)
  t.strictSame(d.anonymous.map((b) => b.identity), ['["account"]'])
  t.strictSame(accountThrottling(null), { rateLimit: 10_000, burstLimit: 5_000 })
})

t.test('the main thread\'s table holds every bucket once; workers find the same slots', async (t) => {
  const specs = gatewayBucketSpecs(gateway)
  t.strictSame(specs.map((b) => b.identity).sort(), [
    '["account"]',
    '["method","petstore","prod","/pets","GET"]',
    '["method","petstore","prod","/pets","POST"]',
    '["plan","gold","k1"]',
    '["planMethod","gold","k1","petstore","prod","/pets","GET"]',
  ])
  const memory = createThrottleMemory(gateway)
  const table = new TokenBucketTable(memory)
  t.equal(table.capacity, 1024)
  t.equal(table.used(), 5)
  const slots = resolveSlots(specs)
  t.strictSame(slots.map((_, i) => table.slotOf(...identityHash(specs[i]!.identity))), slots, 'another view of the memory finds them')
  t.equal(table.used(), 5, 'nothing claimed twice')
})

t.test('a chain takes from all its buckets or none, and names the first level that throttled', async (t) => {
  createThrottleMemory(gateway)
  const list = methodBucketSpecs(api, prod!, getPets, access, accountThrottling(gateway)).byKey.get('k1')!
  const chain = new ThrottleChain(list, resolveSlots(list))
  t.equal(chain.count, 4)
  t.ok(chain.slots.every((s, i) => i === 0 || s > chain.slots[i - 1]!), 'slots in lock order')
  const table = new TokenBucketTable(createThrottleMemory(gateway))
  const fresh = new ThrottleChain(list, resolveSlots(list))
  t.equal(fresh.take(table, 1_000), -1)
  t.equal(fresh.take(table, 1_000), -1)
  t.equal(fresh.take(table, 1_000), ThrottleLevel.ClientMethod, 'the plan\'s method bucket (burst 2) answers')
  t.equal(fresh.take(table, 1_200), -1, '200 ms at 5/s: one token again')
  const args = takeScriptArgs(fresh)
  t.equal(args[0], 4)
  t.equal(args[1], 'bp:throttle:["planMethod","gold","k1","petstore","prod","/pets","GET"]', 'Redis keys in API Gateway\'s order')
  t.strictSame(args.slice(5, 8), [5, 2, 1400], 'rate, burst, expiry of the first')
})

t.test('Redis helpers: bucket expiry, host:port only in log lines', async (t) => {
  t.equal(bucketExpiryMs(100, 10), 1100)
  t.equal(bucketExpiryMs(0, 10), 86_400_000)
  t.equal(bucketExpiryMs(0.0001, 10), 86_400_000)
  t.equal(describeRedis('redis://:s3cret@127.0.0.1:6380/0'), '127.0.0.1:6380')
  t.equal(describeRedis('redis://127.0.0.1/0'), '127.0.0.1:6379')
})
