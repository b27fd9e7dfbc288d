// Resource policies (x-amazon-apigateway-policy) over HTTP, alone and combined with AWS_IAM
// and Cognito authorization.
//
// Facts pinned:
// - "x-amazon-apigateway-policy" (developer guide): on import "execute-api:/*" is converted to
//   arn:aws:execute-api:region:account-id:api-id/*.
// - "How API Gateway resource policies affect authorization workflow": resource policy only →
//   an explicit Allow is needed; IAM → Table A in the API owner's account (an Allow from either
//   policy, no explicit Deny), Table B across accounts (both must allow); Cognito → after
//   authentication the resource policy must allow on its own.
// - Denial bodies (AWS knowledge center, "403 Forbidden errors … Lambda authorizer", its 2020
//   text): {"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on
//   resource: <arn>"} and "… with an explicit deny"; x-amzn-ErrorType AccessDeniedException.
import t from 'tap'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { writeApi, request, startGateway } from '../helpers/index.js'
import { startGatewayWithAccess, sdkCredentials } from '../helpers/access.js'
import type { CredentialSource } from '../../src/config/model.js'

const FUNCTIONS = fileURLToPath(new URL('../fixtures/functions/', import.meta.url))
const ARN = (tail: string) => `arn:aws:execute-api:us-east-1:123456789012:rp/${tail}`
const ALICE: CredentialSource = { pointer: '/credentials/0', accessKeyId: 'AKIDALICE0000000001', secretAccessKey: 'alice-secret', sessionToken: null, arn: 'arn:aws:iam::123456789012:user/alice', policy: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] } }
const BOB: CredentialSource = { pointer: '/credentials/1', accessKeyId: 'AKIDBOB000000000002', secretAccessKey: 'bob-secret', sessionToken: null, arn: 'arn:aws:iam::123456789012:user/bob', policy: null }
const CAROL: CredentialSource = { pointer: '/credentials/2', accessKeyId: 'AKIDCAROL0000000003', secretAccessKey: 'carol-secret', sessionToken: null, arn: 'arn:aws:iam::210987654321:user/carol', policy: { Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] } }
const POOL = 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Rp'
const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Rp'
const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': '{"ok":true}' } } } }
const op = (security?: object[]) => ({ get: { ...(security !== undefined ? { security } : {}), 'x-amazon-apigateway-integration': mock } })

t.test('resource policies', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwks = writeApi(t, { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }, 'jwks.json')
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'rp', version: '1' },
    'x-amazon-apigateway-policy': {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/prod/GET/open/*', 'execute-api:/prod/GET/blocked', 'execute-api:/prod/GET/cognito-ok'] },
        { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/GET/blocked', Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] } } },
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*/GET/ranged', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*/GET/outside', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
        { Effect: 'Allow', Principal: { AWS: BOB.arn }, Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/*/iam' },
      ],
    },
    paths: {
      '/open/{x}': op(),
      '/notallowed': op(),
      '/blocked': op(),
      '/ranged': op(),
      '/outside': op(),
      '/iam': op([{ sigv4: [] }]),
      '/cognito-ok': op([{ pool: [] }]),
      '/cognito-no': op([{ pool: [] }]),
    },
    components: {
      securitySchemes: {
        sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' },
        pool: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'cognito_user_pools', 'x-amazon-apigateway-authorizer': { type: 'cognito_user_pools', providerARNs: [POOL] } },
      },
    },
  }, 'rp.json')
  const gw = await startGatewayWithAccess(t, { args: [file, '--stage', 'prod', '--workers', '1'], access: { credentials: [ALICE, BOB, CAROL], userPools: { [POOL]: { arn: POOL, issuer: ISSUER, jwks } } } })
  t.teardown(gw.stop)
  const base = `${gw.url}/prod`
  const denied = (res: { status: number, headers: Record<string, unknown>, text: string }, message: string) => {
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'AccessDeniedException')
    t.equal(res.text, JSON.stringify({ Message: message }))
  }

  await t.test('resource policy only: an explicit Allow serves; no Allow is an implicit deny; a Deny wins', async () => {
    t.equal((await request(`${base}/open/a`)).status, 200, 'execute-api:/prod/GET/open/* expanded to the API ARN')
    denied(await request(`${base}/notallowed`), `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN('prod/GET/notallowed')}`)
    denied(await request(`${base}/blocked`), `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN('prod/GET/blocked')} with an explicit deny`)
  })

  await t.test('aws:SourceIp conditions: IpAddress and NotIpAddress with CIDR blocks', async () => {
    denied(await request(`${base}/ranged`), `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN('prod/GET/ranged')}`)
    t.equal((await request(`${base}/outside`)).status, 200, '127.0.0.1 is not in 10.0.0.0/8')
  })

  const sign = async (cred: CredentialSource, path: string) => {
    const signer = new SignatureV4({ credentials: sdkCredentials(cred), region: 'us-east-1', service: 'execute-api', sha256: Hash.bind(null, 'sha256') })
    const host = new URL(gw.url).host
    return (await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path, query: {}, headers: { host } })).headers
  }

  await t.test('IAM in the API owner\'s account (Table A): either policy may allow', async () => {
    t.equal((await request(`${base}/iam`, { headers: await sign(ALICE, '/prod/iam') })).status, 200, 'identity policy Allow, resource policy silent')
    t.equal((await request(`${base}/iam`, { headers: await sign(BOB, '/prod/iam') })).status, 200, 'no identity policy, resource policy Allow for bob')
  })

  await t.test('IAM across accounts (Table B): both must allow', async () => {
    denied(await request(`${base}/iam`, { headers: await sign(CAROL, '/prod/iam') }), `User: ${CAROL.arn} is not authorized to perform: execute-api:Invoke on resource: ${ARN('prod/GET/iam')}`)
  })

  await t.test('Cognito: after authentication the resource policy must allow', async () => {
    const jwt = await new SignJWT({ token_use: 'id', email: 'a@example.com' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(ISSUER).setIssuedAt().setExpirationTime('1h').sign(privateKey)
    t.equal((await request(`${base}/cognito-ok`, { headers: { authorization: jwt } })).status, 200)
    denied(await request(`${base}/cognito-no`, { headers: { authorization: jwt } }), `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN('prod/GET/cognito-no')}`)
    t.equal((await request(`${base}/cognito-no`)).status, 401, 'authentication comes first')
  })
})

t.test('a resource policy the gateway cannot evaluate is refused at load with its pointer', async (t) => {
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'vpce', version: '1' },
    'x-amazon-apigateway-policy': {
      Statement: [
        { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { StringNotEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } } },
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } },
      ],
    },
    paths: { '/p': op() },
  })
  const err = await startGatewayWithAccess(t, { args: [file], access: {} }).then(() => null, (e: Error) => e)
  t.ok(err, 'the gateway does not start')
  t.match(err!.message, '/x-amazon-apigateway-policy/Statement/0/Condition/StringNotEquals/aws:SourceVpce: resource policy: condition key aws:SourceVpce cannot be evaluated: the gateway is not reached through VPC endpoints')
  t.match(err!.message, '/x-amazon-apigateway-policy/Statement/1/Condition/DateGreaterThan: resource policy: condition operator DateGreaterThan is not supported; the API is refused rather than served without its policy')
})

t.test('a Lambda authorizer with a resource policy: explicit Denies before the authorizer runs, then Table A', async (t) => {
  const dir = t.testdir({ 'calls.txt': '' })
  const calls = join(dir, 'calls.txt')
  const authorizerArn = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:tokenAuth/invocations'
  const lambdaOp = { get: { security: [{ tokenAuth: [] }], 'x-amazon-apigateway-integration': mock } }
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'rpl', version: '1' },
    'x-amazon-apigateway-policy': {
      Statement: [
        { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/GET/blocked' },
        { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/GET/public' },
      ],
    },
    paths: { '/blocked': lambdaOp, '/public': lambdaOp, '/private': lambdaOp },
    components: { securitySchemes: { tokenAuth: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: authorizerArn, authorizerResultTtlInSeconds: 0 } } } },
  }))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    apis: [{ id: 'rpl', file: 'api.json', stages: { prod: {} } }],
    functions: { tokenAuth: { handler: `${join(FUNCTIONS, 'authorizers.mjs')}#token`, environment: { COUNT_FILE: calls } } },
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/prod`
  const call = (path: string, token: string) => request(`${base}${path}`, { headers: { authorization: token } })
  const body = (res: { text: string }) => JSON.parse(res.text)

  const blocked = await call('/blocked', 'allow')
  t.equal(blocked.status, 403)
  t.strictSame(body(blocked), { Message: 'User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:rpl/prod/GET/blocked with an explicit deny' })
  t.equal(readFileSync(calls, 'utf8'), '', 'the authorizer was not called')
  t.equal((await call('/public', 'elsewhere')).status, 200, 'the resource policy allows where the authorizer\'s policy is silent')
  t.equal((await call('/private', 'allow')).status, 200, 'the authorizer allows where the resource policy is silent')
  const neither = await call('/private', 'elsewhere')
  t.equal(neither.status, 403)
  t.strictSame(body(neither), { Message: 'User is not authorized to access this resource' })
  const denied = await call('/public', 'deny')
  t.equal(denied.status, 403)
  t.strictSame(body(denied), { Message: 'User is not authorized to access this resource with an explicit deny' })
  t.equal(readFileSync(calls, 'utf8'), 'elsewhere\nallow\nelsewhere\ndeny\n', 'four calls after the pre-check passed')
})
