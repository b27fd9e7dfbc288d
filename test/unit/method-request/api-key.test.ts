// The API key step (src/method-request/api-key.ts) without threads or sockets: the stage's
// key table, HEADER and AUTHORIZER sources, and the 403 answers. Developer guide: "Choose an
// API key source in API Gateway" (no matching key in the usage plans → 403 Forbidden), the
// gateway response type INVALID_API_KEY (403); LocalStack's AWS-validated
// TestUsagePlans::test_api_key_required_for_methods (no key → 403, a plan's key → 200, the
// key disabled → 403).
import t from 'tap'
import { normalizeApi } from '../../../src/config/normalize.js'
import { loadAccess } from '../../../src/config/access.js'
import type { AccessSource, ApiSource } from '../../../src/config/model.js'
import { compileGateway } from '../../../src/pipeline/compile.js'
import { handleRequest } from '../../../src/pipeline/handle-request.js'
import { RequestContext } from '../../../src/pipeline/context.js'
import { ApiKeyStep, compileApiKeyStep, compileStageApiKeys } from '../../../src/method-request/api-key.js'
import { StepOutcome } from '../../../src/method-request/step.js'
import type { ReplyRecord, RequestRecord } from '../../../src/pool/protocol.js'
import { formatProblem, type ConfigProblem } from '../../../src/errors.js'
import { installMappingEngine } from '../../../src/mapping/install-engine.js'
import type { AuthorizerOutcome } from '../../../src/method-request/authorization/authorizer-outcome.js'
import { stageSource, gatewaySource } from '../../helpers/sources.js'

const K1 = 'k1-value-abcdefghij0123'
const K2 = 'k2-value-abcdefghij0123'
const DISABLED = 'k3-value-disabled-000000'
const DEV_ONLY = 'k4-value-dev-only-000000'
const ORPHAN = 'k5-value-in-no-plan-0000'

// Quiet references ($!): the null of a method without a key renders empty.
const identityTemplate = '{"apiKey":"$!context.identity.apiKey","apiKeyId":"$!context.identity.apiKeyId"}'
const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': identityTemplate } } } }

function apiOf(extra: Record<string, unknown>, problems: ConfigProblem[]): ApiSource {
  const api = normalizeApi({
    swagger: '2.0',
    info: { title: 'keys', version: '1' },
    securityDefinitions: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } },
    paths: {
      '/keyed': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock } },
      '/open': { get: { 'x-amazon-apigateway-integration': mock } },
    },
    ...extra,
  }, { file: 'keys.json', id: 'keys', basePath: '', stages: [stageSource('prod'), stageSource('dev')] }, problems)
  if (api === null) throw new Error(problems.map(formatProblem).join('\n'))
  return api
}

function accessFor(api: ApiSource): AccessSource {
  const problems: ConfigProblem[] = []
  const access = loadAccess({
    apiKeys: [
      { id: 'k1', name: 'alice', value: K1, enabled: true },
      { id: 'k2', value: K2, enabled: true },
      { id: 'k3', value: DISABLED, enabled: false },
      { id: 'k4', value: DEV_ONLY, enabled: true },
      { id: 'k5', value: ORPHAN, enabled: true },
    ],
    usagePlans: [
      { id: 'gold', apiStages: [{ apiId: 'keys', stage: 'prod' }], apiKeys: ['k1', 'k3'] },
      { id: 'silver', apiStages: [{ apiId: 'keys', stage: 'prod' }, { apiId: 'keys', stage: 'dev' }], apiKeys: ['k2'] },
      { id: 'dev', apiStages: [{ apiId: 'keys', stage: 'dev' }], apiKeys: ['k4'] },
    ],
  }, { file: 'backplane.yaml', baseDir: '.', apis: [api], problems })
  if (problems.length > 0) throw new Error(problems.map(formatProblem).join('\n'))
  return access
}

let nextId = 1
function requestRecord(url: string, headers: string[]): RequestRecord {
  return { id: nextId++, method: 'GET', url, query: '', headers, remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.UTC(2026, 11, 1, 23, 0, 0) }
}
const text = (r: ReplyRecord) => new TextDecoder().decode(r.body ?? new Uint8Array())
const header = (r: ReplyRecord, name: string) => {
  for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i]!.toLowerCase() === name.toLowerCase()) return r.headers[i + 1]
  return undefined
}

t.test('the stage table holds the enabled keys of the usage plans covering the stage, with those plans', async (t) => {
  const api = apiOf({}, [])
  const access = accessFor(api)
  const prod = compileStageApiKeys(access, 'keys', 'prod')
  t.strictSame([...prod.keys()].sort(), [K1, K2].sort(), 'k3 is disabled, k4 is on another stage, k5 is in no plan')
  t.strictSame(prod.get(K1)!.plans.map((p) => p.id), ['gold'])
  t.strictSame(prod.get(K2)!.plans.map((p) => p.id), ['silver'])
  t.strictSame([...compileStageApiKeys(access, 'keys', 'dev').keys()].sort(), [K2, DEV_ONLY].sort())
  t.equal(compileStageApiKeys(access, 'keys', 'prod'), prod, 'built once per stage, shared by its methods')
  t.equal(compileStageApiKeys(access, 'other', 'prod').size, 0)
})

t.test('HEADER source (the default): the x-api-key header', async (t) => {
  const problems: ConfigProblem[] = []
  const api = apiOf({}, problems)
  const gateway = compileGateway(gatewaySource({ apis: [api], access: accessFor(api) }), problems)
  t.strictSame(problems.filter((p) => p.severity === 'error'), [])
  installMappingEngine(gateway)
  const run = (url: string, headers: string[] = []) => {
    const replies: ReplyRecord[] = []
    handleRequest(gateway, requestRecord(url, headers), { reply: (r) => replies.push(r) })
    t.equal(replies.length, 1, 'one synchronous reply')
    return replies[0]!
  }
  const forbidden = (r: ReplyRecord, what: string) => {
    t.equal(r.status, 403, `${what}: 403`)
    t.equal(text(r), '{"message":"Forbidden"}', `${what}: body`)
    t.equal(header(r, 'x-amzn-ErrorType'), 'ForbiddenException', `${what}: x-amzn-ErrorType`)
  }
  forbidden(run('/prod/keyed'), 'no key')
  forbidden(run('/prod/keyed', ['x-api-key', 'not-a-key-of-this-gateway']), 'an unknown key')
  forbidden(run('/prod/keyed', ['x-api-key', DISABLED]), 'a disabled key')
  forbidden(run('/prod/keyed', ['x-api-key', DEV_ONLY]), 'a key whose plans cover another stage')
  forbidden(run('/prod/keyed', ['x-api-key', ORPHAN]), 'a key in no usage plan')
  forbidden(run('/prod/keyed', ['x-api-key', K1.toUpperCase()]), 'a key differing in case')
  forbidden(run('/prod/keyed', ['authorization', K1]), 'a key in another header')
  let r = run('/prod/keyed', ['x-api-key', K1])
  t.equal(r.status, 200)
  t.equal(text(r), `{"apiKey":"${K1}","apiKeyId":"k1"}`, '$context.identity.apiKey and apiKeyId')
  r = run('/dev/keyed', ['x-api-key', DEV_ONLY])
  t.equal(text(r), `{"apiKey":"${DEV_ONLY}","apiKeyId":"k4"}`, 'the dev stage has its own keys')
  r = run('/prod/open', ['x-api-key', K1])
  t.equal(r.status, 200)
  t.equal(text(r), '{"apiKey":"","apiKeyId":""}', 'a method that requires no key: the identity key fields are null')
})

t.test('every key failure is the INVALID_API_KEY gateway response, customizable', async (t) => {
  const problems: ConfigProblem[] = []
  const api = apiOf({ 'x-amazon-apigateway-gateway-responses': { INVALID_API_KEY: { statusCode: 401, responseTemplates: { 'application/json': '{"error":"$context.error.responseType","msg":"$context.error.message"}' } } } }, problems)
  const gateway = compileGateway(gatewaySource({ apis: [api], access: accessFor(api) }), problems)
  installMappingEngine(gateway)
  for (const headers of [[], ['x-api-key', 'wrong-wrong-wrong-wrong'], ['x-api-key', DISABLED]]) {
    const replies: ReplyRecord[] = []
    handleRequest(gateway, requestRecord('/prod/keyed', headers), { reply: (r) => replies.push(r) })
    t.equal(replies[0]!.status, 401)
    t.equal(text(replies[0]!), '{"error":"INVALID_API_KEY","msg":"Forbidden"}')
    t.equal(header(replies[0]!, 'x-amzn-ErrorType'), 'ForbiddenException')
  }
})

t.test('AUTHORIZER source: the key is the authorizer\'s usageIdentifierKey, never the header', async (t) => {
  const problems: ConfigProblem[] = []
  const api = apiOf({ 'x-amazon-apigateway-api-key-source': 'AUTHORIZER' }, problems)
  const access = accessFor(api)
  const op = api.operations.find((o) => o.path === '/keyed')!
  const step = compileApiKeyStep(op, { api, stage: 'prod', access, problems })
  t.ok(step instanceof ApiKeyStep)
  t.equal((step as ApiKeyStep).source, 'AUTHORIZER')
  t.strictSame(problems.map((p) => `${p.severity} ${p.pointer}: ${p.message}`), [
    'warning /paths/~1keyed/get/security: GET /keyed requires an API key from its authorizer (x-amazon-apigateway-api-key-source AUTHORIZER) but has no Lambda authorizer to return a usageIdentifierKey: every request to it gets 403 Forbidden',
  ])
  // an authorizer's outcome naming the key (the other fields play no part in the API key step)
  const outcome = (usageIdentifierKey: string | null): AuthorizerOutcome => ({ principalId: 'user', context: {}, claims: null, usageIdentifierKey, integrationLatency: 0 })
  const ctxFor = (headers: string[]) => {
    const replies: ReplyRecord[] = []
    const ctx = new RequestContext(requestRecord('/prod/keyed', headers), { reply: (r) => replies.push(r) })
    return { ctx, replies }
  }
  let c = ctxFor([])
  c.ctx.authorizer = outcome(K1)
  t.equal(step!.run(c.ctx), StepOutcome.Continue)
  t.equal(c.ctx.apiKey!.id, 'k1')
  t.equal(c.replies.length, 0)

  c = ctxFor(['x-api-key', K1])
  t.equal(step!.run(c.ctx), StepOutcome.Answered, 'no authorizer outcome: the header does not count')
  t.equal(c.replies[0]!.status, 403)
  t.equal(text(c.replies[0]!), '{"message":"Forbidden"}')
  t.equal(c.ctx.apiKey, null)

  for (const usageIdentifierKey of [null, DISABLED, DEV_ONLY, 'unknown-unknown-unknown']) {
    c = ctxFor(['x-api-key', K1])
    c.ctx.authorizer = outcome(usageIdentifierKey)
    t.equal(step!.run(c.ctx), StepOutcome.Answered, `usageIdentifierKey ${usageIdentifierKey === null ? 'null' : 'not valid here'}: answered`)
    t.equal(c.replies[0]!.status, 403)
    t.equal(header(c.replies[0]!, 'x-amzn-ErrorType'), 'ForbiddenException')
  }
})

t.test('a method that requires no key gets no key step', async (t) => {
  const api = apiOf({}, [])
  const op = api.operations.find((o) => o.path === '/open')!
  t.equal(compileApiKeyStep(op, { api, stage: 'prod', access: accessFor(api), problems: [] }), null)
})
