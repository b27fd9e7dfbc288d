// The audit: nothing protected is served open. Every kind of protection an API Gateway
// export (or a definition written for its import) can carry is either enforced — the
// compiled method has a protecting step before its integration — or refused at load with
// file, JSON pointer and reason. As the authorizer, Cognito and IAM steps land, kinds move
// from "refused" to "enforced"; neither outcome may ever become "served open".
//
// Sources: "x-amazon-apigateway-authtype property" (custom / cognito_user_pools / awsSigv4
// on apiKey schemes), "x-amazon-apigateway-authorizer object" (token, request,
// cognito_user_pools; jwt is HTTP APIs only), "x-amazon-apigateway-auth object" (operation
// level, NONE or AWS_IAM, case-insensitive, REST API methods), "Configure a method to use API
// keys with an OpenAPI definition" (the api_key scheme: apiKey, x-api-key, header),
// "x-amazon-apigateway-policy"; LocalStack's AWS-validated import snapshots
// (openapi.spec.tf.json: the api_key scheme → apiKeyRequired true; global-auth: root-level
// security applies to every method).
import t from 'tap'
import { normalizeApi } from '../../../../src/config/normalize.js'
import { loadAccess } from '../../../../src/config/access.js'
import { compileGateway, type CompiledMethod } from '../../../../src/pipeline/compile.js'
import type { ConfigProblem } from '../../../../src/errors.js'
import { stageSource, gatewaySource } from '../../../helpers/sources.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }
const lambdaUri = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations'

/** Security schemes as API Gateway exports them. */
const SCHEMES = {
  api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' },
  token: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: lambdaUri, authorizerResultTtlInSeconds: 300 } },
  request: { type: 'apiKey', name: 'Unused', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'request', authorizerUri: lambdaUri, identitySource: 'method.request.header.Auth, method.request.querystring.q', authorizerResultTtlInSeconds: 0 } },
  cognito: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'cognito_user_pools', 'x-amazon-apigateway-authorizer': { type: 'cognito_user_pools', providerARNs: ['arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Example'] } },
  sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' },
  // A free-form authtype names a Lambda authorizer's scheme for REST APIs; without an authorizer it is nothing the gateway can enforce.
  freeform: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'oauth-internal' },
  jwt: { type: 'oauth2', flows: {}, 'x-amazon-apigateway-authorizer': { type: 'jwt', jwtConfiguration: { issuer: 'https://i', audience: ['a'] }, identitySource: '$request.header.Authorization' } },
  bearer: { type: 'http', scheme: 'bearer' },
  queryKey: { type: 'apiKey', name: 'api_key', in: 'query' },
  otherHeader: { type: 'apiKey', name: 'X-Custom-Key', in: 'header' },
}

interface Case {
  readonly name: string
  /** The operation under audit, GET /target. */
  readonly op: Record<string, unknown>
  /** Document-level additions (root security, resource policy, key source). */
  readonly doc?: Record<string, unknown>
  /** Swagger 2 instead of OpenAPI 3. */
  readonly swagger?: boolean
}

const CASES: Case[] = [
  { name: 'an api_key requirement (apiKeyRequired), OpenAPI 3', op: { security: [{ api_key: [] }] } },
  { name: 'an api_key requirement (apiKeyRequired), Swagger 2', op: { security: [{ api_key: [] }] }, swagger: true },
  { name: 'an api_key requirement with the AUTHORIZER key source', op: { security: [{ api_key: [] }] }, doc: { 'x-amazon-apigateway-api-key-source': 'AUTHORIZER' } },
  { name: 'a Lambda TOKEN authorizer (authtype custom)', op: { security: [{ token: [] }] } },
  { name: 'a Lambda REQUEST authorizer (authtype custom)', op: { security: [{ request: [] }] } },
  { name: 'a Cognito user pool authorizer with scopes', op: { security: [{ cognito: ['email', 'pets/read'] }] } },
  { name: 'IAM through an awsSigv4 scheme', op: { security: [{ sigv4: [] }] } },
  { name: 'IAM through x-amazon-apigateway-auth AWS_IAM', op: { 'x-amazon-apigateway-auth': { type: 'AWS_IAM' } } },
  { name: 'IAM through x-amazon-apigateway-auth aws_iam (values are case-insensitive)', op: { 'x-amazon-apigateway-auth': { type: 'aws_iam' } } },
  { name: 'x-amazon-apigateway-auth of an unknown type', op: { 'x-amazon-apigateway-auth': { type: 'COGNITO' } } },
  { name: 'a free-form authtype without an authorizer', op: { security: [{ freeform: [] }] } },
  { name: 'a jwt authorizer (HTTP APIs only)', op: { security: [{ jwt: [] }] } },
  { name: 'an http bearer scheme without API Gateway extensions', op: { security: [{ bearer: [] }] } },
  { name: 'an apiKey scheme in the query string', op: { security: [{ queryKey: [] }] } },
  { name: 'an apiKey scheme on a header other than x-api-key', op: { security: [{ otherHeader: [] }] } },
  { name: 'a requirement naming no scheme', op: { security: [{ missing: [] }] } },
  { name: 'an API key AND an authorizer in one requirement', op: { security: [{ api_key: [], token: [] }] } },
  { name: 'alternatives: an API key OR an authorizer', op: { security: [{ api_key: [] }, { token: [] }] } },
  { name: 'alternatives: an authorizer OR IAM', op: { security: [{ request: [] }, { sigv4: [] }] } },
  { name: 'alternatives: nothing OR an API key (optional security)', op: { security: [{}, { api_key: [] }] } },
  { name: 'alternatives: nothing OR an authorizer (optional security)', op: { security: [{}, { token: [] }] } },
  { name: 'alternatives: an authorizer OR nothing (optional security)', op: { security: [{ cognito: [] }, {}] } },
  { name: 'alternatives: nothing OR IAM (optional security)', op: { security: [{}, { sigv4: [] }] } },
  { name: 'root-level security: an API key', op: {}, doc: { security: [{ api_key: [] }] } },
  { name: 'root-level security: an authorizer', op: {}, doc: { security: [{ token: [] }] } },
  { name: 'root-level security: IAM', op: {}, doc: { security: [{ sigv4: [] }] } },
  { name: 'an operation-level requirement replacing root-level security', op: { security: [{ cognito: [] }] }, doc: { security: [{ api_key: [] }] } },
  { name: 'a resource policy (x-amazon-apigateway-policy)', op: {}, doc: { 'x-amazon-apigateway-policy': { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }] } } },
]

interface Outcome {
  readonly errors: readonly ConfigProblem[]
  readonly method: CompiledMethod | null
}

function compileCase(c: Case): Outcome {
  const problems: ConfigProblem[] = []
  const base = c.swagger === true
    ? { swagger: '2.0', info: { title: 'audit', version: '1' }, securityDefinitions: SCHEMES }
    : { openapi: '3.0.1', info: { title: 'audit', version: '1' }, components: { securitySchemes: SCHEMES } }
  const doc = { ...base, ...c.doc, paths: { '/target': { get: { ...c.op, 'x-amazon-apigateway-integration': mock } } } }
  const api = normalizeApi(doc, { file: 'audit.json', id: 'audit', basePath: '', stages: [stageSource('prod')] }, problems)
  if (api === null) return { errors: problems.filter((p) => p.severity === 'error'), method: null }
  const access = loadAccess({ apiKeys: [{ id: 'k', value: 'audit-key-0123456789', enabled: true }], usagePlans: [{ id: 'p', apiStages: [{ apiId: 'audit', stage: 'prod' }], apiKeys: ['k'] }] }, { file: 'backplane.yaml', baseDir: '.', apis: [api], problems })
  const gw = compileGateway(gatewaySource({ apis: [api], access }), problems)
  return { errors: problems.filter((p) => p.severity === 'error'), method: gw.apis[0]!.stages.get('prod')!.methods[0]! }
}

/** Steps that only read, reshape or rate-limit the request: any other step stands between the caller and the integration. */
const NON_PROTECTING = new Set(['decompression', 'validation', 'throttling'])
const protectingSteps = (m: CompiledMethod) => m.methodRequest.filter((s) => !NON_PROTECTING.has(s.name)).map((s) => s.name)

for (const c of CASES) {
  t.test(`${c.name}: enforced or refused at load, never served open`, async (t) => {
    const o = compileCase(c)
    if (o.errors.length > 0) {
      for (const e of o.errors) {
        t.equal(e.file, 'audit.json', 'the refusal names the file')
        t.match(e.pointer, /^\/(paths|components|securityDefinitions|security|x-amazon-apigateway-policy)/, 'and a JSON pointer into it')
        t.ok(e.message.length > 0, 'and a reason')
      }
      return
    }
    t.ok(o.method !== null && protectingSteps(o.method).length > 0, `a protecting step runs before the integration (steps: ${o.method?.methodRequest.map((s) => s.name).join(', ')})`)
  })
}

t.test('what this branch enforces itself: API key requirements, whatever else the definition holds', async (t) => {
  const own = CASES.filter((c) => /api_key|API key/.test(c.name) && !/authorizer|AND|OR an authorizer/.test(c.name))
  t.strictSame(own.map((c) => c.name), [
    'an api_key requirement (apiKeyRequired), OpenAPI 3',
    'an api_key requirement (apiKeyRequired), Swagger 2',
    'an api_key requirement with the AUTHORIZER key source',
    'alternatives: nothing OR an API key (optional security)',
    'root-level security: an API key',
  ])
  for (const c of own) {
    const o = compileCase(c)
    t.strictSame(o.errors, [], c.name)
    t.strictSame(o.method === null ? null : protectingSteps(o.method), ['api-key'], c.name)
  }
})

t.test('IAM (awsSigv4) and authorizer schemes are not taken for API key requirements', async (t) => {
  for (const name of ['sigv4', 'token', 'request', 'cognito', 'freeform', 'otherHeader', 'queryKey']) {
    const problems: ConfigProblem[] = []
    const api = normalizeApi({ openapi: '3.0.1', info: { title: 'a', version: '1' }, components: { securitySchemes: SCHEMES }, paths: { '/target': { get: { security: [{ [name]: [] }], 'x-amazon-apigateway-integration': mock } } } }, { file: 'a.json', id: 'a', basePath: '', stages: [stageSource('prod')] }, problems)!
    t.equal(api.operations[0]!.apiKeyRequired, false, name)
  }
})

t.test('x-amazon-apigateway-auth of an unknown type is refused with its pointer', async (t) => {
  const o = compileCase(CASES.find((c) => c.name.startsWith('x-amazon-apigateway-auth of an unknown'))!)
  t.strictSame(o.errors.map((e) => `${e.pointer}: ${e.message}`), ['/paths/~1target/get/x-amazon-apigateway-auth: must be { type: NONE } or { type: AWS_IAM } (case-insensitive)'])
})

t.test('an empty security list overrides root-level security (OpenAPI: "an empty array removes a top-level declaration"): the method is open, its siblings are not', async (t) => {
  const problems: ConfigProblem[] = []
  const api = normalizeApi({
    openapi: '3.0.1', info: { title: 'a', version: '1' }, components: { securitySchemes: SCHEMES }, security: [{ api_key: [] }],
    paths: { '/public': { get: { security: [], 'x-amazon-apigateway-integration': mock } }, '/private': { get: { 'x-amazon-apigateway-integration': mock } } },
  }, { file: 'a.json', id: 'a', basePath: '', stages: [stageSource('prod')] }, problems)!
  const access = loadAccess({ apiKeys: [{ id: 'k', value: 'audit-key-0123456789', enabled: true }], usagePlans: [{ id: 'p', apiStages: [{ apiId: 'a', stage: 'prod' }], apiKeys: ['k'] }] }, { file: 'b.yaml', baseDir: '.', apis: [api], problems })
  const gw = compileGateway(gatewaySource({ apis: [api], access }), problems)
  t.strictSame(problems.filter((p) => p.severity === 'error'), [])
  const byPath = new Map(gw.apis[0]!.stages.get('prod')!.methods.map((m) => [m.resourcePath, protectingSteps(m)]))
  t.strictSame(byPath.get('/public'), [])
  t.strictSame(byPath.get('/private'), ['api-key'])
})

t.test('x-amazon-apigateway-auth at the document or path level would protect nothing: refused', async (t) => {
  for (const [doc, pointer] of [
    [{ 'x-amazon-apigateway-auth': { type: 'AWS_IAM' }, paths: { '/p': { get: { 'x-amazon-apigateway-integration': mock } } } }, '/x-amazon-apigateway-auth'],
    [{ paths: { '/p': { 'x-amazon-apigateway-auth': { type: 'AWS_IAM' }, get: { 'x-amazon-apigateway-integration': mock } } } }, '/paths/~1p/x-amazon-apigateway-auth'],
  ] as const) {
    const problems: ConfigProblem[] = []
    normalizeApi({ openapi: '3.0.1', info: { title: 'a', version: '1' }, ...doc }, { file: 'a.json', id: 'a', basePath: '', stages: [stageSource('prod')] }, problems)
    t.strictSame(problems.filter((p) => p.severity === 'error').map((p) => `${p.pointer}: ${p.message}`), [`${pointer}: x-amazon-apigateway-auth applies to operations only: put it on each operation it protects (here it would protect nothing)`])
  }
})

t.test('x-amazon-apigateway-auth NONE is open access', async (t) => {
  const o = compileCase({ name: 'none', op: { 'x-amazon-apigateway-auth': { type: 'none' } } })
  t.strictSame(o.errors, [])
  t.strictSame(protectingSteps(o.method!), [])
})
