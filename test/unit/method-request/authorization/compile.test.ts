// The authorization compile step: Cognito and IAM schemes become steps; what the gateway
// cannot enforce is refused at load with file, pointer and reason, never served open.
import t from 'tap'
import { normalizeApi } from '../../../../src/config/normalize.js'
import { DEFAULT_ACCESS, type AccessSource } from '../../../../src/config/model.js'
import { compileGateway } from '../../../../src/pipeline/compile.js'
import type { ConfigProblem } from '../../../../src/errors.js'
import { stageSource, gatewaySource } from '../../../helpers/sources.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }
const POOL = 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_X'

function compile(doc: Record<string, unknown>, access: AccessSource = DEFAULT_ACCESS): { errors: string[], steps: string[] } {
  const problems: ConfigProblem[] = []
  const api = normalizeApi({ openapi: '3.0.1', info: { title: 'a', version: '1' }, ...doc }, { file: 'api.json', id: 'a', basePath: '', stages: [stageSource('prod')] }, problems)!
  const gw = compileGateway(gatewaySource({ apis: [api], access }), problems)
  // Only the authorization step (decompression and the others are not this file's).
  const steps = gw.apis[0]!.stages.get('prod')!.methods.map((m) => m.methodRequest.filter((s) => s.name === 'authorization').map((s) => `${s.name}:${s.constructor.name}`).join(','))
  return { errors: problems.filter((p) => p.severity === 'error').map((p) => `${p.pointer}: ${p.message}`), steps }
}

const sigv4 = { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' }
const cognito = (extra: object = {}) => ({ type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'cognito_user_pools', 'x-amazon-apigateway-authorizer': { type: 'cognito_user_pools', providerARNs: [POOL], ...extra } })

t.test('awsSigv4 (the reserved authtype) is AWS_IAM, and not an API key requirement', async (t) => {
  t.strictSame(compile({ paths: { '/p': { get: { security: [{ sigv4: [] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { sigv4 } } }), { errors: [], steps: ['authorization:IamStep'] })
})

t.test('other aws-prefixed authtypes are refused', async (t) => {
  t.strictSame(compile({ paths: { '/p': { get: { security: [{ s: [] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { s: { ...sigv4, 'x-amazon-apigateway-authtype': 'awsSigv4a' } } } }).errors, [
    '/components/securitySchemes/s: security scheme "s" is of a kind the gateway cannot enforce; the method GET /p is refused rather than served open',
  ])
})

t.test('a Cognito authorizer compiles when its pool is in the gateway config', async (t) => {
  const dir = t.testdir({ 'jwks.json': JSON.stringify({ keys: [] }) })
  const access = { ...DEFAULT_ACCESS, userPools: { [POOL]: { arn: POOL, issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X', jwks: `${dir}/jwks.json` } } }
  t.strictSame(compile({ paths: { '/p': { get: { security: [{ c: ['scope/a'] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { c: cognito() } } }, access), { errors: [], steps: ['authorization:CognitoStep'] })
  t.strictSame(compile({ paths: { '/p': { get: { security: [{ c: [] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { c: cognito({ identitySource: 'method.request.querystring.token' }) } } }, access).errors, [
    '/components/securitySchemes/c/x-amazon-apigateway-authorizer/identitySource: a Cognito authorizer reads one header: method.request.header.{name}; the method GET /p is refused rather than served open',
  ])
  const missingFile = { ...DEFAULT_ACCESS, userPools: { [POOL]: { arn: POOL, issuer: 'https://x', jwks: `${dir}/nope.json` } } }
  t.match(compile({ paths: { '/p': { get: { security: [{ c: [] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { c: cognito() } } }, missingFile).errors, [
    /^\/components\/securitySchemes\/c\/x-amazon-apigateway-authorizer\/providerARNs\/0: cannot read the JWKS of user pool .* from .*nope\.json: ENOENT/,
  ])
})

t.test('Cognito: providerARNs must name pools of the gateway config', async (t) => {
  t.strictSame(compile({ paths: { '/p': { get: { security: [{ c: [] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { c: cognito() } } }).errors, [
    `/components/securitySchemes/c/x-amazon-apigateway-authorizer/providerARNs/0: user pool ${POOL} is not in the gateway config's userPools; the method GET /p is refused rather than served open`,
  ])
  t.strictSame(compile({ paths: { '/p': { get: { security: [{ c: [] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { c: cognito({ providerARNs: [] }) } } }).errors, [
    '/components/securitySchemes/c/x-amazon-apigateway-authorizer/providerARNs: a Cognito authorizer needs providerARNs, a list of user pool ARNs; the method GET /p is refused rather than served open',
  ])
})

t.test('two authorizers as alternatives are refused: API Gateway applies one per method', async (t) => {
  t.strictSame(compile({ paths: { '/p': { get: { security: [{ sigv4: [] }, { other: [] }], 'x-amazon-apigateway-integration': mock } } }, components: { securitySchemes: { sigv4, other: sigv4 } } }).errors, [
    '/paths/~1p/get/security: the security requirements of GET /p combine authorizers as alternatives, which API Gateway cannot express (one authorizer per method); the method is refused rather than served open',
  ])
})

t.test('with a resource policy, a method without authorization still gets a step', async (t) => {
  t.strictSame(compile({ 'x-amazon-apigateway-policy': { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }] }, paths: { '/p': { get: { 'x-amazon-apigateway-integration': mock } } } }), { errors: [], steps: ['authorization:ResourcePolicyStep'] })
})

t.test('x-amazon-apigateway-auth { type: AWS_IAM } (case-insensitive) is AWS_IAM; NONE adds nothing; other types are refused', async (t) => {
  const with_ = (auth: unknown) => compile({ paths: { '/p': { get: { 'x-amazon-apigateway-auth': auth, 'x-amazon-apigateway-integration': mock } } } })
  t.strictSame(with_({ type: 'aws_iam' }), { errors: [], steps: ['authorization:IamStep'] })
  t.strictSame(with_({ type: 'NONE' }), { errors: [], steps: [''] })
  t.strictSame(with_({ type: 'COGNITO_USER_POOLS' }).errors, ['/paths/~1p/get/x-amazon-apigateway-auth: must be { type: NONE } or { type: AWS_IAM } (case-insensitive)'])
  t.strictSame(with_('AWS_IAM').errors, ['/paths/~1p/get/x-amazon-apigateway-auth: must be { type: NONE } or { type: AWS_IAM } (case-insensitive)'])
})
