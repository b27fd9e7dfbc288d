// The throttle step in a method's chain (src/method-request/throttle-step.ts): after the API
// key step, before validation; and a reload whose buckets do not fit in the table the gateway
// started with is refused with file, pointer and reason (restart to grow it).
import t from 'tap'
import { normalizeApi } from '../../../src/config/normalize.js'
import { DEFAULT_ACCESS, type AccessSource, type GatewaySource } from '../../../src/config/model.js'
import type { ConfigProblem } from '../../../src/errors.js'
import { DEFAULT_STAGE_SETTINGS } from '../../../src/config/stage-settings.js'
import { compileGateway } from '../../../src/pipeline/compile.js'
import { createThrottleMemory } from '../../../src/traffic/throttle.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }
const problems: ConfigProblem[] = []
const api = normalizeApi({
  openapi: '3.0.1',
  info: { title: 'pets', version: '1' },
  components: { securitySchemes: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
  paths: { '/pets': { post: { security: [{ api_key: [] }], parameters: [{ name: 'q', in: 'query', required: true }], 'x-amazon-apigateway-request-validator': 'all', 'x-amazon-apigateway-integration': mock } } },
  'x-amazon-apigateway-request-validators': { all: { validateRequestBody: true, validateRequestParameters: true } },
}, { file: 'pets.json', id: 'petstore', basePath: '', stages: [{ name: 'prod', variables: {}, settings: DEFAULT_STAGE_SETTINGS }] }, problems)!

function gatewayWithKeys(n: number): GatewaySource {
  const apiKeys = Array.from({ length: n }, (_, i) => ({ id: `k${i}`, name: `k${i}`, value: `value-${String(i).padStart(20, '0')}`, enabled: true }))
  const access: AccessSource = { ...DEFAULT_ACCESS, apiKeys, usagePlans: [{ id: 'gold', apiStages: [{ apiId: 'petstore', stage: 'prod', throttle: null }], apiKeys: apiKeys.map((k) => k.id), throttle: { rateLimit: 1, burstLimit: 1 }, quota: null }] }
  return { host: '127.0.0.1', port: 0, workers: 1, apis: [api], access, admin: null, tracing: { otlp: null }, state: { dir: '/tmp', redis: null } } as GatewaySource
}

t.test('throttling runs after the API key check and before request validation', async (t) => {
  t.strictSame(problems, [])
  const compiled = compileGateway(gatewayWithKeys(1), [])
  const steps = compiled.apis[0]!.stages.get('prod')!.methods[0]!.methodRequest.map((s) => s.name)
  t.strictSame(steps.slice(steps.indexOf('api-key')), ['api-key', 'throttling', 'validation'])
})

t.test('a reload with more buckets than the table has room for is refused; one that fits is not', async (t) => {
  // The main thread sizes the table when the gateway starts: 1024 slots for a small gateway.
  createThrottleMemory(gatewayWithKeys(2))
  const fits: ConfigProblem[] = []
  compileGateway(gatewayWithKeys(500), fits)
  t.strictSame(fits, [], '500 keys fit')
  const tooMany: ConfigProblem[] = []
  compileGateway(gatewayWithKeys(1500), tooMany)
  t.ok(tooMany.length > 0)
  t.match(tooMany[0], { severity: 'error', file: 'pets.json', pointer: '/paths/~1pets/post', message: /^throttling: the bucket table \(1024 buckets, sized when the gateway started\) has no room for the buckets of POST \/pets on stage prod: a configuration with this many more buckets takes a restart$/ })
  // A gateway started with them sizes its table for them.
  createThrottleMemory(gatewayWithKeys(1500))
  const started: ConfigProblem[] = []
  compileGateway(gatewayWithKeys(1500), started)
  t.strictSame(started, [])
})
