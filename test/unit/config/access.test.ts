// The gateway config's account section (src/config/access.ts): region, accountId,
// credentials, userPools, apiKeys, usagePlans — shapes, references, `${env:NAME}` secrets,
// unknown keys, and no secret in any message.
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { loadAccess, warnUncoveredKeyStages, MIN_API_KEY_VALUE_LENGTH, MAX_API_KEY_VALUE_LENGTH } from '../../../src/config/access.js'
import { loadGateway, GATEWAY_CONFIG_KEYS } from '../../../src/config/load.js'
import { normalizeApi } from '../../../src/config/normalize.js'
import { DEFAULT_ACCESS, type ApiSource } from '../../../src/config/model.js'
import { ConfigError, formatProblem, type ConfigProblem } from '../../../src/errors.js'
import { stageSource } from '../../helpers/sources.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }

function api(id: string, stages: string[], keyRequired = true): ApiSource {
  const problems: ConfigProblem[] = []
  const doc = {
    openapi: '3.0.1',
    info: { title: id, version: '1' },
    paths: { '/p': { get: { ...(keyRequired ? { security: [{ api_key: [] }] } : {}), 'x-amazon-apigateway-integration': mock } } },
    components: { securitySchemes: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
  }
  const a = normalizeApi(doc, { file: `/apis/${id}.json`, id, basePath: '', stages: stages.map((name) => stageSource(name)) }, problems)
  if (a === null || problems.some((p) => p.severity === 'error')) throw new Error(problems.map(formatProblem).join('\n'))
  return a
}

const APIS = [api('petstore', ['prod', 'dev']), api('orders', ['v1'])]
const KEY1 = 'abcdefghij0123456789'
const KEY2 = 'zyxwvutsrq9876543210-second'

function load(cfg: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, baseDir = '/cfg') {
  const problems: ConfigProblem[] = []
  const access = loadAccess(cfg, { file: '/cfg/backplane.yaml', baseDir, apis: APIS, problems, env })
  const lines = (sev: 'error' | 'warning') => problems.filter((p) => p.severity === sev).map((p) => `${p.pointer}: ${p.message}`)
  return { access, problems, errors: lines('error'), warnings: lines('warning') }
}

t.test('without an account section: us-east-1, account 123456789012, nothing else', async (t) => {
  const r = load({})
  t.strictSame(r.problems, [])
  t.strictSame(r.access, { ...DEFAULT_ACCESS, file: '/cfg/backplane.yaml' })
})

t.test('a full section loads, secrets read from the environment', async (t) => {
  const dir = t.testdir({ 'jwks.json': JSON.stringify({ keys: [] }) })
  const pool = 'arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_Example'
  const policy = { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:*/prod/GET/*' }] }
  const r = load({
    region: 'eu-west-1',
    accountId: '111122223333',
    credentials: [
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: '${env:ALICE_SECRET}', arn: 'arn:aws:iam::111122223333:user/alice', policy },
      { accessKeyId: 'ASIATEMP', secretAccessKey: 's3cr3t', sessionToken: 'tok-${env:TOKEN_PART}', arn: 'arn:aws:sts::111122223333:assumed-role/r/s' },
    ],
    userPools: {
      [pool]: { issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example', jwks: './jwks.json' },
      'arn:aws:cognito-idp:eu-west-1:111122223333:userpool/eu-west-1_Remote': { issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Remote', jwks: 'http://127.0.0.1:9/.well-known/jwks.json' },
    },
    apiKeys: [
      { id: 'k1', name: 'alice', value: KEY1, enabled: true, description: 'descriptive only' },
      { id: 'k2', value: '${env:KEY2}', enabled: false },
    ],
    usagePlans: [
      { id: 'basic', name: 'Basic', description: 'descriptive only', apiStages: [{ apiId: 'petstore', stage: 'prod', throttle: { '/p/GET': { rateLimit: 1, burstLimit: 1 } } }], apiKeys: ['k1', 'k2'], throttle: { rateLimit: 10, burstLimit: 2 }, quota: { limit: 100, period: 'DAY' } },
    ],
  }, { ALICE_SECRET: 'wJalrXUtnFEMI', TOKEN_PART: 'xyz', KEY2 }, dir)
  // Throttles and quotas are both served: no not-enforced warning.
  t.strictSame(r.problems, [])
  t.equal(r.access.region, 'eu-west-1')
  t.equal(r.access.accountId, '111122223333')
  t.strictSame(r.access.credentials, [
    { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI', sessionToken: null, arn: 'arn:aws:iam::111122223333:user/alice', policy, pointer: '/credentials/0' },
    { accessKeyId: 'ASIATEMP', secretAccessKey: 's3cr3t', sessionToken: 'tok-xyz', arn: 'arn:aws:sts::111122223333:assumed-role/r/s', policy: null, pointer: '/credentials/1' },
  ], 'each with its pointer, so that compiling its policy can report file and pointer')
  t.equal(r.access.file, '/cfg/backplane.yaml')
  t.strictSame(r.access.userPools[pool], { arn: pool, issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example', jwks: join(dir, 'jwks.json') })
  t.equal(Object.values(r.access.userPools)[1]!.jwks, 'http://127.0.0.1:9/.well-known/jwks.json', 'a URL is kept as written')
  t.strictSame(r.access.apiKeys, [
    { id: 'k1', name: 'alice', value: KEY1, enabled: true },
    { id: 'k2', name: 'k2', value: KEY2, enabled: false },
  ])
  t.strictSame(r.access.usagePlans, [
    { id: 'basic', apiStages: [{ apiId: 'petstore', stage: 'prod', throttle: { '/p/GET': { rateLimit: 1, burstLimit: 1 } } }], apiKeys: ['k1', 'k2'], throttle: { rateLimit: 10, burstLimit: 2 }, quota: { limit: 100, period: 'DAY', offset: 0 } },
  ], 'throttles typed (config/throttling.ts), the quota validated, offset 0 when absent')
  t.ok(Object.isFrozen(r.access.usagePlans[0]!.quota))
  t.ok(Object.isFrozen(r.access) && Object.isFrozen(r.access.apiKeys[0]))
})

t.test('an unquoted YAML account id keeps its 12 digits; a shortened one is refused', async (t) => {
  t.equal(load({ accountId: 111122223333 }).access.accountId, '111122223333')
  t.strictSame(load({ accountId: 12345678901 }).errors, ['/accountId: must be a 12-digit AWS account id, as a string ("012345678901": quote it in YAML)'])
  t.strictSame(load({ region: 'US East' }).errors, ['/region: must be an AWS region name such as us-east-1'])
})

t.test('API key values: 20 to 128 characters, as API Gateway CreateApiKey requires (LocalStack AWS-validated snapshot test_create_api_key_with_invalid_value)', async (t) => {
  const short = 'a'.repeat(MIN_API_KEY_VALUE_LENGTH - 1)
  const long = 'b'.repeat(MAX_API_KEY_VALUE_LENGTH + 1)
  t.equal(MIN_API_KEY_VALUE_LENGTH, 20)
  t.equal(MAX_API_KEY_VALUE_LENGTH, 128)
  const r = load({ apiKeys: [{ id: 'a', value: short, enabled: true }, { id: 'b', value: long, enabled: true }, { id: 'c', value: 'c'.repeat(20), enabled: true }, { id: 'd', value: 'd'.repeat(128), enabled: true }] })
  t.strictSame(r.errors, [
    '/apiKeys/0/value: the key value must be 20 to 128 characters long, as API Gateway requires',
    '/apiKeys/1/value: the key value must be 20 to 128 characters long, as API Gateway requires',
  ])
  t.strictSame(r.access.apiKeys.map((k) => k.id), ['c', 'd'])
})

t.test('a key without "enabled" is disabled, as CreateApiKey leaves it (LocalStack AWS-validated snapshot create-api-key-no-name: enabled false), with a warning', async (t) => {
  const r = load({ apiKeys: [{ id: 'k1', value: KEY1 }] })
  t.strictSame(r.errors, [])
  t.strictSame(r.warnings, ['/apiKeys/0: API key k1 has no "enabled": it is disabled, as API Gateway creates keys, and requests with it get 403 Forbidden'])
  t.equal(r.access.apiKeys[0]!.enabled, false)
})

t.test('malformed entries are errors with their JSON pointers', async (t) => {
  const r = load({
    credentials: [
      { accessKeyId: 'AKID1', secretAccessKey: 'x', arn: 'alice', policy: 'allow all' },
      { accessKeyId: 'AKID2', secretAccessKey: 'x', arn: 'arn:aws:iam::111122223333:user/b', policy: { Version: '2012-10-17' } },
      { secretAccessKey: 'x', arn: 'arn:aws:iam::111122223333:user/c' },
      { accessKeyId: 'AKID2', secretAccessKey: 'y', arn: 'arn:aws:iam::111122223333:user/d' },
      'AKID3',
    ],
    userPools: {
      'my-pool': { issuer: 'https://x', jwks: 'http://127.0.0.1:9/j' },
      'arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_A': { issuer: 'cognito', jwks: './missing.json' },
    },
    apiKeys: [
      { id: 'k1', value: KEY1, enabled: 'yes' },
      { id: 'k1', value: KEY2, enabled: true },
      { id: 'k3', value: KEY1, enabled: true },
      { id: 'has space', value: 'q'.repeat(30), enabled: true },
      { id: 'k5', value: 42, enabled: true },
    ],
    usagePlans: [
      { id: 'p1', apiStages: [{ apiId: 'nope', stage: 'prod' }, { apiId: 'petstore', stage: 'test' }, { apiId: 'orders', stage: 'v1', throttle: 5 }], apiKeys: ['k1', 'ghost'], throttle: [1], quota: 'daily' },
      { id: 'p1', apiStages: {}, apiKeys: 'k1' },
    ],
  })
  t.strictSame(r.errors, [
    '/credentials/0/arn: must be an IAM principal ARN, arn:aws:iam::{accountId}:user/{name} (or role/…, sts assumed-role/…)',
    '/credentials/0/policy: must be an IAM policy document (a map with Statement)',
    '/credentials/1/policy/Statement: must be a statement or a list of statements',
    '/credentials/2/accessKeyId: accessKeyId must be a non-empty string (or ${env:NAME})',
    '/credentials/3/accessKeyId: this access key id is given to another credential too',
    '/credentials/4: each credential must be a map with accessKeyId, secretAccessKey and arn',
    '/userPools/my-pool: the key must be a user pool ARN, arn:aws:cognito-idp:{region}:{accountId}:userpool/{poolId}',
    "/userPools/arn:aws:cognito-idp:us-east-1:111122223333:userpool~1us-east-1_A/issuer: must be the pool's issuer URL, https://cognito-idp.{region}.amazonaws.com/{poolId}",
    '/userPools/arn:aws:cognito-idp:us-east-1:111122223333:userpool~1us-east-1_A/jwks: JWKS file /cfg/missing.json does not exist',
    '/apiKeys/0/enabled: must be true or false',
    '/apiKeys/1/id: API key id k1 is also used by /apiKeys/0',
    '/apiKeys/2/value: API key k3 has the same value as API key k1: each key needs its own value',
    '/apiKeys/3/id: must be an id of letters, digits, ".", "_" or "-" ($context.identity.apiKeyId)',
    '/apiKeys/4/value: the key value must be a non-empty string (or ${env:NAME})',
    '/usagePlans/0/apiStages/0/apiId: names no API of this gateway: "nope" (APIs: petstore, orders)',
    '/usagePlans/0/apiStages/1/stage: names no stage of API petstore: "test" (stages: prod, dev)',
    '/usagePlans/0/apiStages/2/throttle: must be a map of "{resourcePath}/{httpMethod}" ("/pets/GET") to { rateLimit, burstLimit }',
    "/usagePlans/0/apiKeys/1: names no API key id of /apiKeys (list the keys' ids, not their values)",
    '/usagePlans/0/throttle: must be a map with rateLimit (requests per second) and burstLimit (requests)',
    '/usagePlans/0/quota: must be a map',
    '/usagePlans/1/id: usage plan id p1 is used twice',
    '/usagePlans/1/apiStages: must be a list',
    '/usagePlans/1/apiKeys: must be a list of API key ids',
  ])
})

t.test('a JWKS file that is not a key set is refused', async (t) => {
  const dir = t.testdir({ 'jwks.json': '{"kty":"RSA"}' })
  const r = load({ userPools: { 'arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_A': { issuer: 'https://i', jwks: 'jwks.json' } } }, {}, dir)
  t.strictSame(r.errors, [`/userPools/arn:aws:cognito-idp:us-east-1:111122223333:userpool~1us-east-1_A/jwks: JWKS file ${join(dir, 'jwks.json')} is not a JSON Web Key Set: no "keys" list`])
})

t.test('${env:NAME}: an unset variable is an error naming the variable, never a value', async (t) => {
  const r = load({ apiKeys: [{ id: 'k1', value: '${env:BP_TEST_UNSET_KEY}', enabled: true }], credentials: [{ accessKeyId: 'AKID', secretAccessKey: '${env:BP_TEST_UNSET_SECRET}', arn: 'arn:aws:iam::111122223333:user/a' }] })
  t.strictSame(r.errors, [
    '/credentials/0/secretAccessKey: environment variable BP_TEST_UNSET_SECRET is not set',
    '/apiKeys/0/value: environment variable BP_TEST_UNSET_KEY is not set',
  ])
  t.strictSame(r.access.apiKeys, [])
  t.strictSame(r.access.credentials, [])
})

t.test('unknown keys are warned of at every level of the section, with "did you mean"', async (t) => {
  const dir = t.testdir({ 'jwks.json': '{"keys":[]}' })
  const r = load({
    credentials: [{ accessKeyId: 'AKID', secretAccessKey: 'x', arn: 'arn:aws:iam::111122223333:user/a', polcy: {} }],
    userPools: { 'arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_A': { issuer: 'https://i', jwks: 'jwks.json', isuer: 'x' } },
    apiKeys: [{ id: 'k1', value: KEY1, enabled: true, enable: true }],
    usagePlans: [{ id: 'p', apiStages: [{ apiId: 'petstore', stage: 'prod', stages: 'x' }], apiKeys: ['k1'], qouta: {} }],
  }, {}, dir)
  t.strictSame(r.errors, [])
  t.strictSame(r.warnings, [
    '/credentials/0/polcy: unknown key "polcy" is ignored; did you mean "policy"?',
    '/userPools/arn:aws:cognito-idp:us-east-1:111122223333:userpool~1us-east-1_A/isuer: unknown key "isuer" is ignored; did you mean "issuer"?',
    '/apiKeys/0/enable: unknown key "enable" is ignored; did you mean "enabled"?',
    '/usagePlans/0/qouta: unknown key "qouta" is ignored; did you mean "quota"?',
    '/usagePlans/0/apiStages/0/stages: unknown key "stages" is ignored; did you mean "stage"?',
  ])
})

t.test('no secret or key value appears in any message', async (t) => {
  const secrets = ['wJalrXUtnFEMI-SECRET', 'SESSION-TOKEN-VALUE', KEY1, 'short-key-val', 'LONG'.repeat(40), KEY2]
  const r = load({
    credentials: [
      { accessKeyId: 'AKID', secretAccessKey: secrets[0], sessionToken: secrets[1], arn: 'bad', policy: 1 },
      { accessKeyId: 'AKID', secretAccessKey: secrets[0], arn: 'arn:aws:iam::111122223333:user/a' },
    ],
    apiKeys: [
      { id: 'k1', value: KEY1 },
      { id: 'k2', value: KEY1, enabled: true },
      { id: 'k3', value: secrets[3], enabled: true },
      { id: 'k4', value: secrets[4], enabled: true },
      { id: 'k1', value: KEY2, enabled: 1, extra: KEY2 },
    ],
    usagePlans: [{ id: 'p', apiStages: [{ apiId: 'petstore', stage: 'prod' }], apiKeys: [KEY1] }],
  })
  t.ok(r.errors.length >= 8, 'the bad entries are reported')
  const text = r.problems.map(formatProblem).join('\n')
  for (const s of secrets) t.notOk(text.includes(s), `no secret in the messages (${secrets.indexOf(s)})`)
  t.match(text, /\/usagePlans\/0\/apiKeys\/0: names no API key id/, 'a key value written where an id goes is reported without echoing it')
})

t.test('the top level of the gateway config: unknown keys warned with "did you mean"; the other sections\' names are known', async (t) => {
  const dir = t.testdir({
    'api.json': JSON.stringify({ openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: { '/p': { get: { 'x-amazon-apigateway-integration': mock } } } }),
    'backplane.json': JSON.stringify({
      apis: [{ id: 'a', file: 'api.json' }],
      workers: 1,
      usagePlan: [],
      apikeys: [],
      admin: { port: 0 }, tracing: {}, endpoints: {}, roles: {}, vpcLinks: {},
      region: 'us-west-2',
    }),
  })
  const r = loadGateway({ apiFiles: [], configFile: join(dir, 'backplane.json') })
  t.strictSame(r.warnings.map((p) => `${p.pointer}: ${p.message}`), [
    '/usagePlan: unknown key "usagePlan" is ignored; did you mean "usagePlans"?',
    '/apikeys: unknown key "apikeys" is ignored; did you mean "apiKeys"?',
  ])
  t.equal(r.gateway.access.region, 'us-west-2')
  for (const k of ['listen', 'host', 'port', 'workers', 'apis', 'functions', 'region', 'accountId', 'credentials', 'userPools', 'apiKeys', 'usagePlans']) t.ok(GATEWAY_CONFIG_KEYS.includes(k), k)
})

t.test('the loader refuses a config whose usage plan names an API stage that is not served', async (t) => {
  const dir = t.testdir({
    'api.json': JSON.stringify({ openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: { '/p': { get: { 'x-amazon-apigateway-integration': mock } } } }),
  })
  const cfg = join(dir, 'backplane.json')
  writeFileSync(cfg, JSON.stringify({ apis: [{ id: 'a', file: 'api.json', stages: { prod: {} } }], apiKeys: [{ id: 'k', value: KEY1, enabled: true }], usagePlans: [{ id: 'p', apiStages: [{ apiId: 'a', stage: 'dev' }], apiKeys: ['k'] }] }))
  try {
    loadGateway({ apiFiles: [], configFile: cfg })
    t.fail('should throw')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    t.strictSame((err as ConfigError).problems.filter((p) => p.severity === 'error').map(formatProblem), [`${cfg}: /usagePlans/0/apiStages/0/stage: names no stage of API a: "dev" (stages: prod)`])
  }
})

t.test('a stage whose methods require a key but that no usage plan covers is warned of (every request gets 403)', async (t) => {
  const problems: ConfigProblem[] = []
  const access = load({ apiKeys: [{ id: 'k1', value: KEY1, enabled: true }], usagePlans: [{ id: 'p', apiStages: [{ apiId: 'petstore', stage: 'prod' }], apiKeys: ['k1'] }] }).access
  warnUncoveredKeyStages([...APIS, api('open', ['x'], false)], access, problems)
  t.strictSame(problems.map((p) => `${p.file}: ${p.pointer}: ${p.message}`), [
    '/apis/petstore.json: /paths/~1p/get/security: GET /p requires an API key, but no usage plan with keys covers stage dev of API petstore: every request to it gets 403 Forbidden',
    '/apis/orders.json: /paths/~1p/get/security: GET /p requires an API key, but no usage plan with keys covers stage v1 of API orders: every request to it gets 403 Forbidden',
  ])
})

t.test('a key in two usage plans of one API stage is refused, as AWS refuses the usage plan key (ConflictException)', async (t) => {
  // AWS CreateUsagePlanKey: "API Key … cannot reference multiple Usage Plans with the same API Stage".
  const r = load({
    apiKeys: [{ id: 'k1', value: KEY1, enabled: true }, { id: 'k2', value: KEY2, enabled: true }],
    usagePlans: [
      { id: 'basic', apiStages: [{ apiId: 'petstore', stage: 'prod' }], apiKeys: ['k1', 'k2'] },
      { id: 'other', apiStages: [{ apiId: 'petstore', stage: 'dev' }], apiKeys: ['k1'] },
      { id: 'gold', apiStages: [{ apiId: 'orders', stage: 'v1' }, { apiId: 'petstore', stage: 'prod' }], apiKeys: ['k2'] },
    ],
  })
  t.strictSame(r.errors, ['/usagePlans/2/apiKeys/0: API key k2 is already in usage plan basic for stage prod of API petstore: a key may be in one usage plan per API stage (AWS: ConflictException)'])
})
