// WarmTokens and WarmToken (authorizer-cache.ts): the bounds of a TOKEN authorizer's per-token
// memo, and what adopting a mirror entry rebuilds. The gateway-level behaviour (TTL, reload,
// Allow/Deny per path, Conditions) is pinned in test/integration/authorizer-warm-tokens.test.ts.
import t from 'tap'
import { MAX_DECISIONS_PER_METHOD, MAX_DECISION_METHODS, MAX_WARM_TOKENS, WarmToken, WarmTokens } from '../../../../src/method-request/authorization/authorizer-cache.js'
import { MirroredAuthorizerResult } from '../../../../src/functions/client.js'

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v))
const statement = (effect: string, extra: object = {}) => ({ Action: 'execute-api:Invoke', Effect: effect, Resource: '*', ...extra })
// Host entry ids of this file only (the worker compiles each entry once by its id).
let entry = 900_000_000

function mirrored(result: unknown): MirroredAuthorizerResult {
  return new MirroredAuthorizerResult(encode(result), entry++, Date.now() + 60_000)
}

t.test('WarmTokens: one entry per token, at most MAX_WARM_TOKENS, then it starts over', async (t) => {
  const w = new WarmTokens()
  const first = w.take('tok-0', 'key-0')
  t.equal(w.take('tok-0', 'other-key'), first, 'a token seen before keeps its entry and key')
  t.equal(first.key, 'key-0')
  for (let i = 1; i < MAX_WARM_TOKENS; i++) w.take(`tok-${i}`, `key-${i}`)
  t.equal(w.size, MAX_WARM_TOKENS)
  t.equal(w.get('tok-0'), first)
  const last = w.take(`tok-${MAX_WARM_TOKENS}`, 'key-last')
  t.equal(w.size, 1, 'the 1,001st token starts the map over')
  t.equal(w.get('tok-0'), undefined)
  t.equal(w.get(`tok-${MAX_WARM_TOKENS}`), last)
})

t.test('WarmToken decisions: per method and path, bounded both ways; a Deny stays a Deny', async (t) => {
  const w = new WarmToken('k')
  w.remember('GET', '/a', 'ALLOW')
  w.remember('GET', '/b', 'DENY')
  w.remember('POST', '/a', 'NONE')
  t.equal(w.decision('GET', '/a'), 'ALLOW')
  t.equal(w.decision('GET', '/b'), 'DENY')
  t.equal(w.decision('POST', '/a'), 'NONE')
  t.equal(w.decision('POST', '/b'), undefined)
  t.equal(w.decision('PUT', '/a'), undefined)

  for (let i = 0; i < MAX_DECISIONS_PER_METHOD - 2; i++) w.remember('GET', `/p${i}`, 'ALLOW')
  t.equal(w.decisions.get('GET')!.size, MAX_DECISIONS_PER_METHOD)
  w.remember('GET', '/one-more', 'DENY')
  t.equal(w.decisions.get('GET')!.size, 1, 'past MAX_DECISIONS_PER_METHOD paths, that method starts over')
  t.equal(w.decision('GET', '/b'), undefined)
  t.equal(w.decision('GET', '/one-more'), 'DENY')
  t.equal(w.decision('POST', '/a'), 'NONE', 'the other methods stay')

  // An ANY route takes any method text: the methods are bounded too.
  const v = new WarmToken('k')
  for (let i = 0; i < MAX_DECISION_METHODS; i++) v.remember(`M${i}`, '/x', 'ALLOW')
  t.equal(v.decisions.size, MAX_DECISION_METHODS)
  v.remember('M-extra', '/x', 'DENY')
  t.equal(v.decisions.size, 1, 'past MAX_DECISION_METHODS methods, every method starts over')
  t.equal(v.decision('M0', '/x'), undefined)
  t.equal(v.decision('M-extra', '/x'), 'DENY')
})

t.test('adopt: the result, a frozen outcome, memoizable only without a Condition, decisions cleared', async (t) => {
  const w = new WarmToken('k')
  const plain = mirrored({ principalId: 'u', policyDocument: { Statement: [statement('Allow')] }, context: { a: 1 }, usageIdentifierKey: 'key-1' })
  t.equal(w.adopt(plain), true)
  t.equal(w.mirrored, plain)
  t.equal(w.memoizable, true)
  t.strictSame(w.outcome, { principalId: 'u', context: { a: '1' }, claims: null, usageIdentifierKey: 'key-1', integrationLatency: 0 })
  t.ok(Object.isFrozen(w.outcome))
  w.remember('GET', '/a', 'ALLOW')

  // Another entry for the same key (a new result after the TTL): nothing of the old one stays.
  const conditioned = mirrored({ principalId: 'v', policyDocument: { Statement: [statement('Allow', { Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } } })] } })
  t.equal(w.adopt(conditioned), true)
  t.equal(w.mirrored, conditioned)
  t.equal(w.memoizable, false, 'a Condition makes the decision depend on the request: not memoised')
  t.equal(w.decision('GET', '/a'), undefined)
  t.equal(w.outcome!.principalId, 'v')

  // A malformed result is refused and the entry keeps what it had (the caller takes the slow path).
  t.equal(w.adopt(mirrored({ principalId: 'x' })), false)
  t.equal(w.mirrored, conditioned)
})

t.test('one memo per authorizer and stage, shared by its methods (its bound is per authorizer, not per method)', async (t) => {
  const { loadGateway } = await import('../../../../src/config/load.js')
  const { compileGateway } = await import('../../../../src/pipeline/compile.js')
  const { LambdaAuthorizerStep } = await import('../../../../src/method-request/authorization/lambda-authorizer.js')
  const { writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`
  const scheme = (fn: string, ttl: number) => ({ type: 'apiKey', name: 'X-Token', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: arn(fn), authorizerResultTtlInSeconds: ttl } })
  const op = (s: string) => ({ security: [{ [s]: [] }], 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } } })
  const dir = t.testdir({})
  const file = join(dir, 'api.json')
  writeFileSync(file, JSON.stringify({
    openapi: '3.0.1', info: { title: 'shared', version: '1' },
    components: { securitySchemes: { one: scheme('one', 300), two: scheme('two', 300), uncached: scheme('three', 0) } },
    paths: { '/a': { get: op('one'), post: op('one') }, '/b': { get: op('one') }, '/c': { get: op('two') }, '/d': { get: op('uncached') } },
  }))
  const loaded = loadGateway({ apiFiles: [file], configFile: null, stage: 'test' })
  const problems: import('../../../../src/errors.js').ConfigProblem[] = []
  const gw = compileGateway(loaded.gateway, problems)
  t.same(problems.filter((p) => p.severity === 'error'), [])
  const memo = new Map<string, WarmTokens | null>()
  for (const method of gw.apis[0]!.stages.get('test')!.methods) {
    const step = method.methodRequest.find((s) => s instanceof LambdaAuthorizerStep) as InstanceType<typeof LambdaAuthorizerStep>
    memo.set(`${method.httpMethod} ${method.resourcePath}`, step.warmTokens)
  }
  t.ok(memo.get('GET /a') instanceof WarmTokens)
  t.equal(memo.get('POST /a'), memo.get('GET /a'), 'two methods of one resource')
  t.equal(memo.get('GET /b'), memo.get('GET /a'), 'another resource, the same authorizer')
  t.ok(memo.get('GET /c') instanceof WarmTokens)
  t.not(memo.get('GET /c'), memo.get('GET /a'), 'another authorizer has its own')
  t.equal(memo.get('GET /d'), null, 'no memo without result caching')
})
