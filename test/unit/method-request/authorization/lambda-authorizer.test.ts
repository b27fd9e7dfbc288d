// Lambda authorizers below the HTTP level: the events (developer guide, "Input to an API
// Gateway Lambda authorizer"), the result checks ("Output from an API Gateway Lambda
// authorizer"), and the definitions refused at load with file, pointer and reason
// (x-amazon-apigateway-authorizer; API reference "Authorizer" for the TTL bounds and the
// REQUEST identitySource rule).
import t from 'tap'
import { buildRequestEvent, buildTokenEvent, encodeAuthorizerEvent } from '../../../../src/method-request/authorization/lambda-authorizer-event.js'
import { checkAuthorizerResult } from '../../../../src/method-request/authorization/lambda-authorizer-result.js'
import { evaluatePolicy } from '../../../../src/method-request/authorization/policy.js'
import { authorizerProxyObject, authorizerTemplateObject, authorizerValue } from '../../../../src/method-request/authorization/authorizer-outcome.js'
import { LambdaAuthorizerStep } from '../../../../src/method-request/authorization/lambda-authorizer.js'
import { normalizeApi } from '../../../../src/config/normalize.js'
import { DEFAULT_ACCESS } from '../../../../src/config/model.js'
import { compileGateway } from '../../../../src/pipeline/compile.js'
import type { ConfigProblem } from '../../../../src/errors.js'
import type { ProxyEventInput } from '../../../../src/functions/event.js'
import { stageSource, gatewaySource } from '../../../helpers/sources.js'

const enc = new TextEncoder()
const ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request'

// The guide's REQUEST example: GET /request?QueryString1=queryValue1 with HeaderAuth1 and
// stage variable StageVar1 (headers as the front delivers them: lower-case names).
const guideRequest: ProxyEventInput = {
  method: 'GET',
  path: '/request',
  requestPath: '/test/request',
  query: 'QueryString1=queryValue1',
  headers: ['headerauth1', 'headerValue1', 'accept', '*/*', 'user-agent', 'curl/7.54.0'],
  body: enc.encode('ignored'),
  isBinary: false,
  resourcePath: '/request',
  resourceId: '05c7jb',
  pathParameters: null,
  stage: 'test',
  stageVariables: { StageVar1: 'stageValue1' },
  requestId: 'b3a1c0f3-0000-0000-0000-000000000000',
  extendedRequestId: 'ABCDEFGHIJKLMNO=',
  accountId: '123456789012',
  apiId: 'abcdef123',
  deploymentId: 'wvrtxs',
  domainName: 'abcdef123.execute-api.us-east-1.amazonaws.com',
  sourceIp: '127.0.0.1',
  requestTimeEpoch: 1_700_000_000_000,
  protocol: 'HTTP/1.1',
  authorizer: null,
  identity: null,
}

t.test('TOKEN event: exactly type, authorizationToken, methodArn', async (t) => {
  t.strictSame(JSON.parse(new TextDecoder().decode(encodeAuthorizerEvent(buildTokenEvent('allow', ARN)))), { type: 'TOKEN', authorizationToken: 'allow', methodArn: ARN })
})

t.test('REQUEST event: the guide\'s fields in its order, no body', async (t) => {
  const e = buildRequestEvent(guideRequest, ARN)
  t.strictSame(Object.keys(e), ['type', 'methodArn', 'resource', 'path', 'httpMethod', 'headers', 'multiValueHeaders', 'queryStringParameters', 'multiValueQueryStringParameters', 'pathParameters', 'stageVariables', 'requestContext'])
  t.equal(e.type, 'REQUEST')
  t.equal(e.methodArn, ARN)
  t.equal(e.resource, '/request')
  t.equal(e.path, '/request')
  t.equal(e.httpMethod, 'GET')
  t.strictSame(e.headers, { headerauth1: 'headerValue1', accept: '*/*', 'user-agent': 'curl/7.54.0' })
  t.strictSame(e.multiValueHeaders, { headerauth1: ['headerValue1'], accept: ['*/*'], 'user-agent': ['curl/7.54.0'] })
  t.strictSame(e.queryStringParameters, { QueryString1: 'queryValue1' })
  t.strictSame(e.multiValueQueryStringParameters, { QueryString1: ['queryValue1'] })
  t.equal(e.pathParameters, null)
  t.strictSame(e.stageVariables, { StageVar1: 'stageValue1' })
  t.match(e.requestContext, { path: '/test/request', accountId: '123456789012', resourceId: '05c7jb', stage: 'test', requestId: guideRequest.requestId, resourcePath: '/request', httpMethod: 'GET', apiId: 'abcdef123', identity: { sourceIp: '127.0.0.1', userAgent: 'curl/7.54.0' } })
  t.notOk('authorizer' in e.requestContext)
  t.notOk('body' in e)
})

const allow = { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/*/GET/*' }] }

t.test('result: the guide\'s output is accepted, context stringified', async (t) => {
  const r = checkAuthorizerResult(enc.encode(JSON.stringify({ principalId: 'yyyyyyyy', policyDocument: allow, context: { stringKey: 'value', numberKey: 1, booleanKey: true }, usageIdentifierKey: 'k-1' })))
  if (r.kind !== 'result') return t.fail(r.reason)
  t.equal(r.principalId, 'yyyyyyyy')
  t.strictSame(r.context, { stringKey: 'value', numberKey: '1', booleanKey: 'true' })
  t.equal(r.usageIdentifierKey, 'k-1')
  // The compiled policy decides per methodArn.
  const req = (resource: string) => ({ action: 'execute-api:Invoke', resource, principalArn: null, conditionKeys: {} })
  t.equal(evaluatePolicy(r.policy, req(ARN)), 'ALLOW')
  t.equal(evaluatePolicy(r.policy, req('arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/POST/request')), 'NONE')
})

t.test('result: principalId and context are optional; a number principalId is its text', async (t) => {
  t.match(checkAuthorizerResult({ policyDocument: allow }), { kind: 'result', principalId: null, context: {}, usageIdentifierKey: null })
  t.match(checkAuthorizerResult({ principalId: 7, policyDocument: allow }), { kind: 'result', principalId: '7' })
})

t.test('result: what API Gateway refuses is malformed (→ 500 AUTHORIZER_CONFIGURATION_ERROR)', async (t) => {
  const cases: [unknown, string][] = [
    [enc.encode('not json'), 'the authorizer result is not JSON'],
    [null, 'the authorizer result must be a JSON object, got null'],
    [[allow], 'the authorizer result must be a JSON object, got an array'],
    ['allow', 'the authorizer result must be a JSON object, got string'],
    [{ principalId: 'u' }, 'policyDocument is missing'],
    [{ principalId: { id: 1 }, policyDocument: allow }, 'principalId must be a string'],
    [{ policyDocument: { Statement: [{ Effect: 'Perhaps', Action: '*', Resource: '*' }] } }, 'invalid policyDocument: /policyDocument/Statement/0/Effect: Effect must be "Allow" or "Deny"'],
    [{ policyDocument: allow, context: { nested: { a: 1 } } }, 'context value "nested" must be a string, a number or a boolean'],
    [{ policyDocument: allow, context: { list: [1] } }, 'context value "list" must be a string, a number or a boolean'],
    [{ policyDocument: allow, context: { nothing: null } }, 'context value "nothing" must be a string, a number or a boolean'],
    [{ policyDocument: allow, context: 'x' }, 'context must be an object of string, number or boolean values'],
    [{ policyDocument: allow, usageIdentifierKey: 5 }, 'usageIdentifierKey must be a string'],
  ]
  for (const [value, reason] of cases) t.strictSame(checkAuthorizerResult(value), { kind: 'malformed', reason }, reason)
})

t.test('the outcome as templates, mappings and the proxy event see it', async (t) => {
  const a = { principalId: 'u-1', context: { k: 'v', n: '1' }, claims: null, usageIdentifierKey: null, integrationLatency: 12 }
  t.strictSame(authorizerTemplateObject(a), { k: 'v', n: '1', principalId: 'u-1' })
  t.strictSame(authorizerProxyObject(a), { k: 'v', n: '1', principalId: 'u-1', integrationLatency: 12 })
  t.equal(authorizerValue(a, 'principalId'), 'u-1')
  t.equal(authorizerValue(a, 'n'), '1')
  t.equal(authorizerValue(a, 'missing'), null)
  t.equal(authorizerValue(a, 'toString'), null)
  const cognito = { ...a, claims: { sub: 's-1' } }
  t.equal(authorizerValue(cognito, 'claims.sub'), 's-1')
  t.strictSame(authorizerProxyObject(cognito), { claims: { sub: 's-1' } })
})

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }
const URI = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations'

function problemsOf(authorizer: Record<string, unknown>, scheme: Record<string, unknown> = {}, security: unknown = [{ a: [] }], severity = 'error'): string[] {
  const problems: ConfigProblem[] = []
  const doc = {
    openapi: '3.0.1', info: { title: 'a', version: '1' },
    components: { securitySchemes: { a: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': authorizer, ...scheme }, b: { type: 'apiKey', name: 'X', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: URI } } } },
    paths: { '/p': { get: { security, 'x-amazon-apigateway-integration': mock } } },
  }
  const api = normalizeApi(doc, { file: 'api.json', id: 'a', basePath: '', stages: [stageSource('prod', { fn: 'auth' }), stageSource('dev')] }, problems)!
  compileGateway(gatewaySource({ apis: [api], access: DEFAULT_ACCESS }), problems)
  return problems.filter((p) => p.severity === severity).map((p) => `${p.pointer}: ${p.message}`)
}

const AT = '/components/securitySchemes/a/x-amazon-apigateway-authorizer'
const REFUSED = '; the method GET /p is refused rather than served open'

t.test('well-formed TOKEN and REQUEST authorizers load', async (t) => {
  t.strictSame(problemsOf({ type: 'token', authorizerUri: URI }), [])
  t.strictSame(problemsOf({ type: 'TOKEN', authorizerUri: URI, identitySource: 'method.request.header.Auth', identityValidationExpression: '^Bearer .+$', authorizerResultTtlInSeconds: 3600, authorizerCredentials: 'arn:aws:iam::123456789012:role/invoker' }), [])
  t.strictSame(problemsOf({ type: 'request', authorizerUri: URI, identitySource: 'method.request.header.A, method.request.querystring.b, stageVariables.c, context.identity.sourceIp' }), [])
  t.strictSame(problemsOf({ type: 'request', authorizerUri: URI, authorizerResultTtlInSeconds: 0 }), [], 'no identity source without caching')
})

t.test('malformed definitions are refused at load with the pointer', async (t) => {
  const cases: [Record<string, unknown>, string][] = [
    [{ authorizerUri: URI }, `${AT}/type: type must be "token" or "request" for a Lambda authorizer, got undefined`],
    [{ type: 'token' }, `${AT}/authorizerUri: authorizerUri is required: the Lambda function invocation URI (arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations)`],
    [{ type: 'token', authorizerUri: 'https://example.com/auth' }, `${AT}/authorizerUri: authorizerUri must be a Lambda function invocation URI, got "https://example.com/auth"`],
    [{ type: 'token', authorizerUri: URI, authorizerResultTtlInSeconds: 3601 }, `${AT}/authorizerResultTtlInSeconds: authorizerResultTtlInSeconds must be an integer from 0 to 3600`],
    [{ type: 'token', authorizerUri: URI, authorizerResultTtlInSeconds: -1 }, `${AT}/authorizerResultTtlInSeconds: authorizerResultTtlInSeconds must be an integer from 0 to 3600`],
    [{ type: 'token', authorizerUri: URI, authorizerResultTtlInSeconds: '300' }, `${AT}/authorizerResultTtlInSeconds: authorizerResultTtlInSeconds must be an integer from 0 to 3600`],
    [{ type: 'token', authorizerUri: URI, identitySource: 'method.request.querystring.t' }, `${AT}/identitySource: a TOKEN authorizer takes its token from a header: method.request.header.{name}`],
    [{ type: 'token', authorizerUri: URI, identityValidationExpression: '(' }, `${AT}/identityValidationExpression: identityValidationExpression is not a regular expression: Invalid regular expression: /^(?:()$/s: Unterminated group`],
    [{ type: 'request', authorizerUri: URI }, `${AT}/identitySource: a REQUEST authorizer with caching (authorizerResultTtlInSeconds > 0) needs identitySource: its values are the cache key`],
    [{ type: 'request', authorizerUri: URI, identitySource: 'method.request.path.id' }, `${AT}/identitySource: path parameters cannot be identity sources`],
    [{ type: 'request', authorizerUri: URI, identitySource: 'method.request.body', authorizerResultTtlInSeconds: 0 }, `${AT}/identitySource: "method.request.body" is not an identity source (method.request.header.*, method.request.querystring.*, stageVariables.*, context.*)`],
    [{ type: 'token', authorizerUri: URI, authorizerCredentials: 5 }, `${AT}/authorizerCredentials: authorizerCredentials must be an IAM role ARN`],
  ]
  for (const [auth, message] of cases) t.strictSame(problemsOf(auth), [message + REFUSED], message)
  t.strictSame(problemsOf({ type: 'token', authorizerUri: URI }, { in: 'query' }), [`${AT}/identitySource: a TOKEN authorizer needs identitySource method.request.header.{name} (or the scheme's "in: header" and "name")${REFUSED}`])
  t.strictSame(problemsOf({ type: 'jwt', authorizerUri: URI }), ['/components/securitySchemes/a: security scheme "a" is of a kind the gateway cannot enforce' + REFUSED], 'another type is not a Lambda authorizer')
  t.ok(problemsOf(undefined as unknown as Record<string, unknown>).includes(`/components/securitySchemes/a: x-amazon-apigateway-authtype custom needs an x-amazon-apigateway-authorizer object${REFUSED}`))
})

t.test('authorizers as alternatives cannot be enforced: refused', async (t) => {
  const refused = [`/paths/~1p/get/security: the security requirements of GET /p combine authorizers as alternatives, which API Gateway cannot express (one authorizer per method); the method is refused rather than served open`]
  t.strictSame(problemsOf({ type: 'token', authorizerUri: URI }, {}, [{ a: [] }, { b: [] }]), refused)
  t.strictSame(problemsOf({ type: 'token', authorizerUri: URI }, {}, [{ a: [], b: [] }]), refused)
  // An empty alternative ("or anonymous") is not served open: the authorizer still applies.
  t.strictSame(problemsOf({ type: 'token', authorizerUri: URI }, {}, [{ a: [] }, {}]), [])
})

t.test('warnings: a missing stage variable, REQUEST validation expression, unknown keys', async (t) => {
  const staged = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations'
  t.strictSame(problemsOf({ type: 'token', authorizerUri: staged }), [])
  t.strictSame(problemsOf({ type: 'token', authorizerUri: staged }, {}, [{ a: [] }], 'warning'), [`${AT}/authorizerUri: stage dev: Invalid stage variable value: stage variable(s) fn not defined; requests to this method get 500`])
  t.strictSame(problemsOf({ type: 'request', authorizerUri: URI, identitySource: 'method.request.header.A', identityValidationExpression: 'x', enableSimpleResponses: true }, {}, [{ a: [] }], 'warning'), [
    `${AT}/enableSimpleResponses: unknown property of a Lambda authorizer, ignored`,
    `${AT}/identityValidationExpression: identityValidationExpression applies to TOKEN authorizers only; API Gateway ignores it for REQUEST authorizers`,
  ])
})

t.test('methodArn takes the gateway config\'s region and accountId (access)', async (t) => {
  const problems: ConfigProblem[] = []
  const doc = {
    openapi: '3.0.1', info: { title: 'a', version: '1' },
    components: { securitySchemes: { a: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: URI } } } },
    paths: { '/p': { get: { security: [{ a: [] }], 'x-amazon-apigateway-integration': mock } } },
  }
  const api = normalizeApi(doc, { file: 'api.json', id: 'a', basePath: '', stages: [stageSource('prod')] }, problems)!
  const gw = compileGateway(gatewaySource({ apis: [api], access: { ...DEFAULT_ACCESS, region: 'eu-west-1', accountId: '111122223333' } }), problems)
  const step = gw.apis[0]!.stages.get('prod')!.methods[0]!.methodRequest.find((s) => s.name === 'authorization') as LambdaAuthorizerStep
  t.ok(step instanceof LambdaAuthorizerStep)
  t.match(step, { name: 'authorization', region: 'eu-west-1', accountId: '111122223333', authorizer: { name: 'a', type: 'TOKEN', functionName: 'auth', ttlMs: 300_000, identitySources: [{ kind: 'header', name: 'authorization' }] } })
})
