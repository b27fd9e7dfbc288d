// Throttle settings of the gateway config (src/config/throttling.ts, read by load.ts,
// access.ts and stage-settings.ts): the account level, a usage plan's throttle, its API
// stages' per-method throttle, methodSettings' throttlingRateLimit / throttlingBurstLimit.
// Bad values are refused with file, JSON pointer and reason.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { loadGateway } from '../../../src/config/load.js'
import { ConfigError, formatProblem, type ConfigProblem } from '../../../src/errors.js'
import { DEFAULT_ACCOUNT_THROTTLING, parseThrottleLimits, parseUsagePlanMethodKey } from '../../../src/config/throttling.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }
const KEY = 'abcdefghij0123456789'
const API = JSON.stringify({
  openapi: '3.0.1',
  info: { title: 'pets', version: '1' },
  components: { securitySchemes: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
  paths: {
    '/': { get: { 'x-amazon-apigateway-integration': mock } },
    '/pets': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock }, post: { 'x-amazon-apigateway-integration': mock } },
    '/pets/{id}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': mock } },
  },
})

function loadConfig(t: Test, cfg: Record<string, unknown>) {
  const dir = t.testdir({ 'pets.json': API, 'gateway.json': JSON.stringify({ apis: [{ id: 'petstore', file: 'pets.json', stages: { prod: {} } }], ...cfg }) })
  const file = join(dir, 'gateway.json')
  try {
    const r = loadGateway({ apiFiles: [], configFile: file })
    return { gateway: r.gateway, errors: [] as string[], warnings: r.warnings.map((p) => formatProblem(p).replace(dir, '')), file }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return { gateway: null, errors: err.problems.filter((p) => p.severity === 'error').map((p) => formatProblem(p).replace(dir, '')), warnings: [], file }
  }
}

t.test('without `throttling` the account level is API Gateway\'s default, 10 000 requests per second with a burst of 5 000 ("Amazon API Gateway quotas")', async (t) => {
  t.strictSame(DEFAULT_ACCOUNT_THROTTLING, { rateLimit: 10_000, burstLimit: 5_000 })
  const r = loadConfig(t, {})
  t.strictSame(r.gateway!.throttling, { rateLimit: 10_000, burstLimit: 5_000 })
})

t.test('the account level, a plan\'s throttle and its per-method throttle load typed, without warnings', async (t) => {
  const r = loadConfig(t, {
    throttling: { rateLimit: 2_000.5 },
    apiKeys: [{ id: 'k1', value: KEY, enabled: true }],
    usagePlans: [{
      id: 'gold',
      apiStages: [{ apiId: 'petstore', stage: 'prod', throttle: { '/pets/GET': { rateLimit: 5, burstLimit: 2 }, '/pets/{id}/ANY': { rateLimit: 0.5, burstLimit: 0 }, '//GET': { rateLimit: 1, burstLimit: 1 } } }],
      apiKeys: ['k1'],
      // CreateUsagePlan accepts a burst above the rate (LocalStack's AWS-validated snapshot
      // test_create_usage_plan_with_throttle: rateLimit 10, burstLimit 20 → 201).
      throttle: { rateLimit: 10, burstLimit: 20 },
    }],
  })
  t.strictSame(r.errors, [])
  t.strictSame(r.warnings, [])
  t.strictSame(r.gateway!.throttling, { rateLimit: 2_000.5, burstLimit: 5_000 }, 'what is left out keeps the default')
  const plan = r.gateway!.access.usagePlans[0]!
  t.strictSame(plan.throttle, { rateLimit: 10, burstLimit: 20 })
  t.strictSame(plan.apiStages[0]!.throttle, { '/pets/GET': { rateLimit: 5, burstLimit: 2 }, '/pets/{id}/ANY': { rateLimit: 0.5, burstLimit: 0 }, '//GET': { rateLimit: 1, burstLimit: 1 } })
})

t.test('methodSettings throttling keys are served: no "not enforced" warning', async (t) => {
  const dir = t.testdir({ 'pets.json': API, 'gateway.json': JSON.stringify({ apis: [{ id: 'petstore', file: 'pets.json', stages: { prod: { methodSettings: { '*/*': { throttlingRateLimit: 1000, throttlingBurstLimit: 500 }, '/pets/GET': { throttlingRateLimit: 0.25 } } } } }] }) })
  const r = loadGateway({ apiFiles: [], configFile: join(dir, 'gateway.json') })
  t.strictSame(r.warnings.filter((p) => p.code !== 'BP_ERR_CONFIG_AUTHORIZATION'), [])
  t.match(r.gateway.apis[0]!.stages[0]!.settings!.methodSettings, [{ throttlingRateLimit: 1000, throttlingBurstLimit: 500 }, { throttlingRateLimit: 0.25, throttlingBurstLimit: null }])
})

t.test('bad limits, unknown methods and bad keys are refused with file, pointer and reason', async (t) => {
  const r = loadConfig(t, {
    throttling: { rateLimit: -1, burstLimit: 1.5, burst: 3 },
    apiKeys: [{ id: 'k1', value: KEY, enabled: true }],
    usagePlans: [{
      id: 'gold',
      apiStages: [{
        apiId: 'petstore',
        stage: 'prod',
        throttle: {
          '/pets/DELETE': { rateLimit: 1, burstLimit: 1 },
          '/cats/GET': { rateLimit: 1, burstLimit: 1 },
          '/pets/get': { rateLimit: 1, burstLimit: 1 },
          '*/*': { rateLimit: 1, burstLimit: 1 },
          '/pets/{id}/ANY': { rateLimit: 'fast', burstLimit: 2_147_483_648 },
          '/pets/GET': 5,
        },
      }],
      apiKeys: ['k1'],
      throttle: { rateLimit: 10 },
    }],
  })
  t.strictSame(r.errors, [
    '/gateway.json: /throttling/rateLimit: must be a number of requests per second from 0 to 1000000000',
    '/gateway.json: /throttling/burstLimit: must be an integer number of requests from 0 to 2147483647',
    '/gateway.json: /usagePlans/0/apiStages/0/throttle/~1pets~1DELETE: API petstore defines no DELETE method on /pets (it has GET, POST)',
    '/gateway.json: /usagePlans/0/apiStages/0/throttle/~1cats~1GET: API petstore has no resource /cats',
    '/gateway.json: /usagePlans/0/apiStages/0/throttle/~1pets~1get: a method is named "{resourcePath}/{httpMethod}" with an upper-case method, as "/pets/GET" ("//GET" for the root resource)',
    '/gateway.json: /usagePlans/0/apiStages/0/throttle/*~1*: a method is named "{resourcePath}/{httpMethod}" with an upper-case method, as "/pets/GET" ("//GET" for the root resource)',
    '/gateway.json: /usagePlans/0/apiStages/0/throttle/~1pets~1{id}~1ANY/rateLimit: must be a number of requests per second from 0 to 1000000000',
    '/gateway.json: /usagePlans/0/apiStages/0/throttle/~1pets~1{id}~1ANY/burstLimit: must be an integer number of requests from 0 to 2147483647',
    '/gateway.json: /usagePlans/0/apiStages/0/throttle/~1pets~1GET: must be a map with rateLimit (requests per second) and burstLimit (requests)',
    '/gateway.json: /usagePlans/0/throttle/burstLimit: is required: the bucket size in requests',
  ])
})

t.test('methodSettings throttling values out of range are refused', async (t) => {
  const dir = t.testdir({ 'pets.json': API, 'gateway.json': JSON.stringify({ apis: [{ id: 'petstore', file: 'pets.json', stages: { prod: { methodSettings: { '*/*': { throttlingRateLimit: 1e12, throttlingBurstLimit: -5 } } } } }] }) })
  let problems: readonly ConfigProblem[] = []
  try {
    loadGateway({ apiFiles: [], configFile: join(dir, 'gateway.json') })
  } catch (err) {
    problems = (err as ConfigError).problems
  }
  t.strictSame(problems.filter((p) => p.severity === 'error').map((p) => `${p.pointer}: ${p.message}`), [
    '/apis/0/stages/prod/methodSettings/*~1*/throttlingBurstLimit: must be an integer number of requests from 0 to 2147483647',
    '/apis/0/stages/prod/methodSettings/*~1*/throttlingRateLimit: must be a number of requests per second from 0 to 1000000000',
  ])
  t.equal(problems[0]!.file, join(dir, 'gateway.json'))
})

t.test('usage plan method keys: "/resource/METHOD", the root as "//GET" or "/GET"', async (t) => {
  t.strictSame(parseUsagePlanMethodKey('/pets/GET'), { resourcePath: '/pets', httpMethod: 'GET' })
  t.strictSame(parseUsagePlanMethodKey('/pets/{id}/ANY'), { resourcePath: '/pets/{id}', httpMethod: 'ANY' })
  t.strictSame(parseUsagePlanMethodKey('//GET'), { resourcePath: '/', httpMethod: 'GET' })
  t.strictSame(parseUsagePlanMethodKey('/GET'), { resourcePath: '/', httpMethod: 'GET' })
  t.equal(parseUsagePlanMethodKey('pets/GET'), null)
  t.equal(parseUsagePlanMethodKey('/pets/FETCH'), null)
  const problems: ConfigProblem[] = []
  t.strictSame(parseThrottleLimits({ rateLimit: 0, burstLimit: 0 }, 'f', '/x', problems), { rateLimit: 0, burstLimit: 0 }, '0 is a limit (it admits nothing)')
  t.strictSame(problems, [])
})
