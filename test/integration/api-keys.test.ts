// API keys and usage plans over HTTP, and the audit that nothing protected is served open.
// Developer guide: "Choose an API key source in API Gateway" (a key that matches none of the
// usage plan's keys → 403 Forbidden), "Configure a method to use API keys with an OpenAPI
// definition" (the api_key scheme), "Gateway response types" (INVALID_API_KEY, 403),
// "$context variables" (identity.apiKey, identity.apiKeyId). LocalStack's AWS-validated
// TestUsagePlans::test_api_key_required_for_methods: no key → 403, the plan's key in
// x-api-key → 200, the same key disabled → 403.
import t from 'tap'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startGateway, startEchoBackend, writeApi, request, CLI_PATH, REPO_ROOT } from '../helpers/index.js'
import { writeAuthorizerKeyApi } from '../helpers/authorizer-key-source.js'

const KEY1 = 'alice-key-0123456789abcdef'
const KEY_DISABLED = 'bob-disabled-key-0123456789'
const KEY_DEV = 'carol-dev-only-key-0123456789'
const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY'
const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`
const mock = (template: string | null = null) => ({
  type: 'mock',
  requestTemplates: { 'application/json': '{"statusCode": 200}' },
  responses: { default: { statusCode: '200', ...(template === null ? {} : { responseTemplates: { 'application/json': template } }) } },
})
const API_KEY_SCHEME = { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } }

t.test('API keys over HTTP', async (t) => {
  const backend = await startEchoBackend()
  t.teardown(() => backend.close())
  const apiFile = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'keys', version: '1' },
    components: { securitySchemes: API_KEY_SCHEME },
    paths: {
      '/mapped': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock('{"apiKey":"$context.identity.apiKey","apiKeyId":"$context.identity.apiKeyId"}') } },
      '/backend': {
        get: {
          security: [{ api_key: [] }],
          'x-amazon-apigateway-integration': {
            type: 'http', httpMethod: 'GET', uri: `${backend.url}/seen`,
            requestParameters: { 'integration.request.header.x-key-id': 'context.identity.apiKeyId' },
            responses: { default: { statusCode: '200' } },
          },
        },
      },
      '/fn': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: arn('identity') } } },
      '/open': { get: { 'x-amazon-apigateway-integration': mock('{"open":true}') } },
    },
  }, 'keys.json')
  const dir = t.testdirName
  writeFileSync(join(dir, 'identity.mjs'), 'export const handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.identity) })\n')
  const config = join(dir, 'backplane.json')
  writeFileSync(config, JSON.stringify({
    workers: 1,
    apis: [{ id: 'petstore', file: apiFile, stages: { prod: {}, dev: {} } }],
    functions: { identity: { handler: join(dir, 'identity.mjs') + '#handler' } },
    credentials: [{ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: '${env:BP_TEST_SECRET}', arn: 'arn:aws:iam::123456789012:user/alice' }],
    apiKeys: [
      { id: 'k1', name: 'alice', value: '${env:BP_TEST_KEY1}', enabled: true },
      { id: 'k2', name: 'bob', value: KEY_DISABLED, enabled: false },
      { id: 'k3', name: 'carol', value: KEY_DEV, enabled: true, enabld: true },
    ],
    usagePlans: [
      { id: 'prod-plan', apiStages: [{ apiId: 'petstore', stage: 'prod' }], apiKeys: ['k1', 'k2'] },
      { id: 'dev-plan', apiStages: [{ apiId: 'petstore', stage: 'dev' }], apiKeys: ['k3'] },
    ],
    usagePlan: [],
  }))
  const gw = await startGateway({ args: ['--config', config], env: { BP_TEST_KEY1: KEY1, BP_TEST_SECRET: SECRET } })
  t.teardown(gw.stop)

  const get = (path: string, key: string | null) => request(`${gw.url}${path}`, key === null ? {} : { headers: { 'x-api-key': key } })
  const forbidden = async (path: string, key: string | null, what: string) => {
    const r = await get(path, key)
    t.equal(r.status, 403, `${what}: 403`)
    t.equal(r.text, '{"message":"Forbidden"}', `${what}: {"message":"Forbidden"}`)
    t.equal(r.headers['x-amzn-errortype'], 'ForbiddenException', `${what}: x-amzn-ErrorType ForbiddenException`)
    t.equal(r.headers['content-type'], 'application/json', `${what}: JSON`)
    t.ok(typeof r.headers['x-amzn-requestid'] === 'string', `${what}: x-amzn-RequestId`)
  }

  await forbidden('/prod/mapped', null, 'no key')
  await forbidden('/prod/mapped', '', 'an empty x-api-key')
  await forbidden('/prod/mapped', 'not-a-key-of-this-gateway-at-all', 'an unknown key')
  await forbidden('/prod/mapped', KEY_DISABLED, 'a disabled key')
  await forbidden('/prod/mapped', KEY_DEV, 'a key whose usage plan covers another stage')
  await forbidden('/dev/mapped', KEY1, 'a prod key on the dev stage')
  await forbidden('/prod/fn', null, 'no key, before the Lambda integration')

  let r = await get('/prod/mapped', KEY1)
  t.equal(r.status, 200)
  t.equal(r.text, `{"apiKey":"${KEY1}","apiKeyId":"k1"}`, '$context.identity.apiKey / apiKeyId in templates; the value came from ${env:BP_TEST_KEY1}')
  r = await get('/dev/mapped', KEY_DEV)
  t.equal(r.text, `{"apiKey":"${KEY_DEV}","apiKeyId":"k3"}`)
  r = await request(`${gw.url}/prod/mapped`, { headers: { 'X-API-Key': KEY1 } })
  t.equal(r.status, 200, 'the header name is case-insensitive')

  r = await get('/prod/backend', KEY1)
  t.equal(r.status, 200)
  t.equal(r.json().headers['x-key-id'], 'k1', 'context.identity.apiKeyId in integration request parameters')

  r = await get('/prod/fn', KEY1)
  t.equal(r.status, 200)
  t.match(r.json(), { apiKey: KEY1, apiKeyId: 'k1', sourceIp: '127.0.0.1' }, 'requestContext.identity.apiKey / apiKeyId in the Lambda proxy event')

  r = await get('/prod/open', null)
  t.equal(r.status, 200, 'a method without a key requirement stays open')
  t.equal(r.text, '{"open":true}')

  const out = gw.output()
  t.match(out, /backplane\.json: \/usagePlan: unknown key "usagePlan" is ignored; did you mean "usagePlans"\?/, 'top-level unknown keys are warned of')
  t.match(out, /backplane\.json: \/apiKeys\/2\/enabld: unknown key "enabld" is ignored; did you mean "enabled"\?/)
  for (const secret of [KEY1, KEY_DISABLED, KEY_DEV, SECRET]) t.notOk(out.includes(secret), 'no key value or secret in the gateway\'s output')
})

t.test('a usage plan naming an unknown key or stage stops the gateway with file and pointer, without printing a key', async (t) => {
  const apiFile = writeApi(t, { openapi: '3.0.1', info: { title: 'k', version: '1' }, components: { securitySchemes: API_KEY_SCHEME }, paths: { '/p': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock() } } } }, 'k.json')
  const config = join(t.testdirName, 'bad.json')
  writeFileSync(config, JSON.stringify({
    apis: [{ id: 'k', file: apiFile, stages: { prod: {} } }],
    apiKeys: [{ id: 'k1', value: KEY1, enabled: true }, { id: 'k2', value: 'too-short' }],
    usagePlans: [{ id: 'p', apiStages: [{ apiId: 'k', stage: 'beta' }], apiKeys: ['k1', KEY1] }],
  }))
  const { code, stderr } = await cli(['check', '--config', config])
  t.equal(code, 1)
  t.match(stderr, `${config}: /apiKeys/1/value: the key value must be 20 to 128 characters long, as API Gateway requires`)
  t.match(stderr, `${config}: /usagePlans/0/apiStages/0/stage: names no stage of API k: "beta" (stages: prod)`)
  t.match(stderr, `${config}: /usagePlans/0/apiKeys/1: names no API key id of /apiKeys`)
  t.notOk(stderr.includes(KEY1) || stderr.includes('too-short'), 'no key value in the output')
})

t.test('AUTHORIZER key source: the Lambda authorizer\'s usageIdentifierKey is the key ("Choose an API key source in API Gateway")', async (t) => {
  const apiFile = writeAuthorizerKeyApi(t, mock('{"apiKeyId":"$context.identity.apiKeyId","principal":"$context.authorizer.principalId"}'))
  const dir = t.testdirName
  // The token names the key the authorizer hands back as usageIdentifierKey.
  writeFileSync(join(dir, 'auth.mjs'), `const keys = ${JSON.stringify({ alice: KEY1, bob: KEY_DISABLED })}
export const handler = async (event) => ({
  principalId: event.authorizationToken,
  policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: event.methodArn }] },
  ...(keys[event.authorizationToken] === undefined ? {} : { usageIdentifierKey: keys[event.authorizationToken] }),
})
`)
  const config = join(dir, 'backplane.json')
  writeFileSync(config, JSON.stringify({
    workers: 1,
    apis: [{ id: 'authkeys', file: apiFile, stages: { prod: {} } }],
    functions: { keyAuth: { handler: join(dir, 'auth.mjs') + '#handler' } },
    apiKeys: [{ id: 'k1', value: KEY1, enabled: true }, { id: 'k2', value: KEY_DISABLED, enabled: false }],
    usagePlans: [{ id: 'p', apiStages: [{ apiId: 'authkeys', stage: 'prod' }], apiKeys: ['k1', 'k2'] }],
  }))
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  const get = (headers: Record<string, string>) => request(`${gw.url}/prod/keyed`, { headers })
  let r = await get({ authorization: 'alice' })
  t.equal(r.status, 200)
  t.equal(r.text, '{"apiKeyId":"k1","principal":"alice"}')
  for (const [what, headers] of [
    ['no usageIdentifierKey', { authorization: 'carol' }],
    ['no usageIdentifierKey, a valid x-api-key header (not the source)', { authorization: 'carol', 'x-api-key': KEY1 }],
    ['a disabled key', { authorization: 'bob' }],
  ] as const) {
    r = await get(headers)
    t.equal(r.status, 403, `${what}: 403`)
    t.equal(r.text, '{"message":"Forbidden"}', `${what}: Forbidden`)
    t.equal(r.headers['x-amzn-errortype'], 'ForbiddenException', `${what}: ForbiddenException`)
  }
  r = await get({})
  t.equal(r.status, 401, 'no token: the authorizer answers first (401 Unauthorized)')
  for (const secret of [KEY1, KEY_DISABLED]) t.notOk(gw.output().includes(secret), 'no key value in the output')
})

/** `backplane <args>`, bounded; its exit code and output. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

// The audit over HTTP: each kind of protection, in an API file of its own, goes through one
// `backplane check`; a refused one must be named with its file and a pointer; every accepted
// one is then served, in one gateway, and a request without credentials must not reach the
// integration.
const lambdaUri = arn('auth')
const SCHEMES = {
  ...API_KEY_SCHEME,
  token: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: lambdaUri } },
  request: { type: 'apiKey', name: 'Unused', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'request', authorizerUri: lambdaUri, identitySource: 'method.request.header.Auth' } },
  cognito: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'cognito_user_pools', 'x-amazon-apigateway-authorizer': { type: 'cognito_user_pools', providerARNs: ['arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Example'] } },
  sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' },
}
const KINDS: { name: string; op: Record<string, unknown>; root?: Record<string, unknown> }[] = [
  { name: 'api-key', op: { security: [{ api_key: [] }] } },
  { name: 'token', op: { security: [{ token: [] }] } },
  { name: 'request', op: { security: [{ request: [] }] } },
  { name: 'cognito', op: { security: [{ cognito: ['pets/read'] }] } },
  { name: 'sigv4', op: { security: [{ sigv4: [] }] } },
  { name: 'auth-aws-iam', op: { 'x-amazon-apigateway-auth': { type: 'AWS_IAM' } } },
  { name: 'alternatives', op: { security: [{ token: [] }, { api_key: [] }] } },
  { name: 'optional-key', op: { security: [{}, { api_key: [] }] } },
  { name: 'root-api-key', op: {}, root: { security: [{ api_key: [] }] } },
  { name: 'root-token', op: {}, root: { security: [{ token: [] }] } },
  { name: 'policy', op: {}, root: { 'x-amazon-apigateway-policy': { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }] } } },
]

t.test('audit over HTTP: every protection kind is refused by `check` or enforced when served', async (t) => {
  const dir = t.testdir()
  const docFor = (name: string, op: Record<string, unknown>, root: Record<string, unknown> = {}) => ({
    openapi: '3.0.1', info: { title: name, version: '1' }, components: { securitySchemes: SCHEMES }, ...root,
    paths: { [`/${name}`]: { get: { ...op, 'x-amazon-apigateway-integration': mock('{"served":true}') } } },
  })
  const configFor = (apis: { id: string; file: string }[]) => {
    const file = join(dir, `cfg-${apis.map((a) => a.id).join('-')}.json`)
    writeFileSync(file, JSON.stringify({
      workers: 1,
      apis: apis.map((a) => ({ ...a, basePath: a.id, stages: { prod: {} } })),
      apiKeys: [{ id: 'k', value: KEY1, enabled: true }],
      usagePlans: [{ id: 'p', apiStages: apis.map((a) => ({ apiId: a.id, stage: 'prod' })), apiKeys: ['k'] }],
    }))
    return file
  }
  // One `check` over every kind (each its own API file): a kind is refused when a problem
  // names its file; the others are accepted.
  const all = KINDS.map((k) => {
    const file = join(dir, `${k.name}.json`)
    writeFileSync(file, JSON.stringify(docFor(k.name, k.op, k.root)))
    return { id: k.name, file }
  })
  const out = await cli(['check', '--config', configFor(all)])
  const accepted: { id: string; file: string }[] = []
  for (const a of all) {
    const escaped = a.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    if (!new RegExp(`^${escaped}: `, 'm').test(out.stderr)) accepted.push(a)
    else t.match(out.stderr, new RegExp(`^${escaped}: /\\S+: .+$`, 'm'), `${a.id}: refused with file, pointer and reason`)
  }
  t.equal(out.code, accepted.length === all.length ? 0 : 1, 'check fails exactly when a kind is refused')
  t.ok(accepted.some((a) => a.id === 'api-key'), 'the API key kinds are enforced by this branch')
  const gw = await startGateway({ args: ['--config', configFor(accepted)] })
  t.teardown(gw.stop)
  for (const a of accepted) {
    const r = await request(`${gw.url}/${a.id}/prod/${a.id}`)
    t.ok(r.status >= 400 && r.status < 500, `${a.id}: without credentials, ${r.status} ${r.text}`)
    t.notOk(r.text.includes('served'), `${a.id}: the integration did not run`)
    const withKey = await request(`${gw.url}/${a.id}/prod/${a.id}`, { headers: { 'x-api-key': KEY1 } })
    if (/key/.test(a.id)) t.equal(withKey.status, 200, `${a.id}: served with the key`)
  }
})
