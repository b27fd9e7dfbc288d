// AWS_IAM authorization over HTTP: requests signed by the AWS SDK for JavaScript
// (ApiGatewayManagementApiClient, whose signing name is execute-api, pointed at the gateway)
// and presigned with @smithy/signature-v4 as a client presigns a URL.
//
// Facts pinned (AWS knowledge center "How do I troubleshoot signature mismatch errors when
// making SigV4 signed requests with IAM authentication to API Gateway?" and API Gateway's
// recorded answers quoted there and in the Broadcom note 186297):
// - unsigned → 403 {"message":"Missing Authentication Token"};
// - unknown access key → 403 "The security token included in the request is invalid.";
// - wrong secret → 403 "The request signature we calculated does not match the signature you
//   provided. Check your AWS Secret Access Key and signing method. Consult the service
//   documentation for details.\n\nThe Canonical String for this request should have been\n'…'
//   \n\nThe String-to-Sign should have been\n'…'\n" (InvalidSignatureException);
// - X-Amz-Date older than 5 minutes → 403 "Signature expired: {date} is now earlier than {now-5}
//   ({now} - 5 min.)" (InvalidSignatureException);
// - no execute-api:Invoke allow → 403 {"Message":"User: {arn} is not authorized to perform: execute-api:Invoke
//   on resource: {methodArn} because no identity-based policy allows the execute-api:Invoke action".
import t from 'tap'
import { ApiGatewayManagementApiClient, GetConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { writeApi, request, startEchoBackend } from '../helpers/index.js'
import { startGatewayWithAccess, sdkCredentials as sdk } from '../helpers/access.js'
import type { CredentialSource } from '../../src/config/model.js'

const ALICE: CredentialSource = { pointer: '/credentials/0', accessKeyId: 'AKIDALICE0000000001', secretAccessKey: 'alice-secret-key-0123456789', sessionToken: null, arn: 'arn:aws:iam::123456789012:user/alice', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:us-east-1:123456789012:iamapi/prod/*' }, { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:us-east-1:123456789012:iamapi/prod/GET/secret' }] } }
const BOB: CredentialSource = { pointer: '/credentials/1', accessKeyId: 'AKIDBOB000000000002', secretAccessKey: 'bob-secret-key-0123456789', sessionToken: null, arn: 'arn:aws:iam::123456789012:user/bob', policy: null }
const TEMP: CredentialSource = { pointer: '/credentials/2', accessKeyId: 'ASIATEMP00000000003', secretAccessKey: 'temp-secret-key-0123456789', sessionToken: 'session-token-value-xyz', arn: 'arn:aws:sts::123456789012:assumed-role/Reader/session-1', policy: { Statement: [{ Effect: 'Allow', Action: 'execute-api:*', Resource: '*' }] } }

const identityTemplate = '{"accessKey":"$context.identity.accessKey","accountId":"$context.identity.accountId","caller":"$context.identity.caller","user":"$context.identity.user","userArn":"$context.identity.userArn"}'
const mock = (template: string) => ({ type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': template } } } })
const sigv4 = [{ sigv4: [] }]
const FUNCTIONS = fileURLToPath(new URL('../fixtures/functions/', import.meta.url))
const lambdaArn = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:echo/invocations'

interface Captured { method: string, path: string, query: Record<string, string | string[] | null>, headers: Record<string, string>, body: unknown }

/** Signs one command with the SDK and captures the request instead of sending it. */
async function sdkSigned (endpoint: string, credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }, command: GetConnectionCommand | PostToConnectionCommand, signingDate?: Date): Promise<Captured> {
  const client = new ApiGatewayManagementApiClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, ...(signingDate !== undefined ? { systemClockOffset: signingDate.getTime() - Date.now() } : {}) })
  let captured: Captured | undefined
  client.middlewareStack.add((_next: any) => async (args: any) => {
    captured = { method: args.request.method, path: args.request.path, query: args.request.query, headers: args.request.headers, body: args.request.body }
    throw new Error('captured')
  }, { step: 'deserialize', priority: 'low', name: 'captureSigned' } as any)
  await client.send(command as any).catch((err: Error) => { if (err.message !== 'captured') throw err })
  client.destroy()
  return captured!
}

function queryString (q: Record<string, string | string[] | null>): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
  const parts: string[] = []
  for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v ?? '']) parts.push(`${enc(k)}=${enc(x)}`)
  return parts.length === 0 ? '' : '?' + parts.join('&')
}

async function replay (base: string, c: Captured, tweak: (h: Record<string, string>) => void = () => {}) {
  const headers = { ...c.headers }
  tweak(headers)
  const body = c.body === undefined || c.body === null ? undefined : typeof c.body === 'string' ? c.body : Buffer.from(c.body as Uint8Array)
  return await request(`${base}${c.path}${queryString(c.query)}`, { method: c.method, headers, ...(body !== undefined ? { body } : {}) })
}

t.test('AWS_IAM methods verify Signature Version 4', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'iam', version: '1' },
    paths: {
      '/@connections/{connectionId}': {
        get: { security: sigv4, 'x-amazon-apigateway-integration': mock('{"connectedAt":"2020-01-01T00:00:00Z","identity":{"sourceIp":"$context.identity.accessKey","userAgent":"$context.identity.userArn"},"lastActiveAt":"2020-01-01T00:00:00Z"}') },
        post: { security: sigv4, 'x-amazon-apigateway-integration': mock(identityTemplate) },
      },
      '/secret': { get: { security: sigv4, 'x-amazon-apigateway-integration': mock('{"secret":true}') } },
      '/open': { get: { 'x-amazon-apigateway-integration': mock('{"open":true}') } },
      // The operation-level extension (developer guide "x-amazon-apigateway-auth object").
      '/legacy': { get: { 'x-amazon-apigateway-auth': { type: 'AWS_IAM' }, 'x-amazon-apigateway-integration': mock('{"legacy":"$context.identity.userArn"}') } },
      '/lambda': { post: { security: sigv4, 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: lambdaArn } } },
      '/mapped': {
        get: {
          security: sigv4,
          'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: `${echo.url}/mapped`, requestParameters: { 'integration.request.header.x-user-arn': 'context.identity.userArn', 'integration.request.header.x-access-key': 'context.identity.accessKey' } },
        },
      },
    },
    components: { securitySchemes: { sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' } } },
  }, 'iamapi.json')
  const config = join(t.testdirName, 'backplane.json')
  writeFileSync(config, JSON.stringify({ workers: 1, apis: [{ id: 'iamapi', file, stages: { prod: {} } }], functions: { echo: { handler: `${join(FUNCTIONS, 'behaviors.mjs')}#echo` } } }))
  const gw = await startGatewayWithAccess(t, { args: ['--config', config], access: { credentials: [ALICE, BOB, TEMP] } })
  t.teardown(gw.stop)
  const endpoint = `${gw.url}/prod`

  await t.test('the SDK client calls a signed method end to end; $context.identity is the principal', async (t) => {
    const client = new ApiGatewayManagementApiClient({ endpoint, region: 'us-east-1', credentials: sdk(ALICE), maxAttempts: 1 })
    t.teardown(() => client.destroy())
    const out = await client.send(new GetConnectionCommand({ ConnectionId: 'c1' }))
    t.strictSame(out.Identity, { SourceIp: ALICE.accessKeyId, UserAgent: ALICE.arn })
  })

  await t.test('a signed POST with a body: $context.identity.accessKey, caller, user, userArn, accountId', async (t) => {
    const res = await replay(gw.url, await sdkSigned(endpoint, sdk(ALICE), new PostToConnectionCommand({ ConnectionId: 'c1', Data: Buffer.from('{"hello":"world"}') })))
    t.equal(res.status, 200)
    const id = res.json()
    t.equal(id.accessKey, ALICE.accessKeyId)
    t.equal(id.accountId, '123456789012')
    t.equal(id.userArn, ALICE.arn)
    t.match(id.caller, /^AIDA[A-Z2-7]{17}$/, 'an IAM user id (AIDA…)')
    t.equal(id.user, id.caller)
  })

  await t.test('no signature → 403 Missing Authentication Token', async (t) => {
    const res = await request(`${endpoint}/secret`)
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException')
    t.equal(res.text, '{"message":"Missing Authentication Token"}')
    const open = await request(`${endpoint}/open`)
    t.equal(open.status, 200, 'a method without AWS_IAM needs no signature')
  })

  await t.test('an unknown access key → 403 "The security token included in the request is invalid."', async (t) => {
    const res = await replay(gw.url, await sdkSigned(endpoint, { accessKeyId: 'AKIDNOBODY000000000', secretAccessKey: 'x' }, new GetConnectionCommand({ ConnectionId: 'c1' })))
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'UnrecognizedClientException')
    t.equal(res.text, '{"message":"The security token included in the request is invalid."}')
  })

  await t.test('a wrong secret → 403 INVALID_SIGNATURE with the canonical string and string to sign', async (t) => {
    const c = await sdkSigned(endpoint, { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-the-secret' }, new GetConnectionCommand({ ConnectionId: 'c1' }))
    const res = await replay(gw.url, c)
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'InvalidSignatureException')
    const message: string = res.json().message
    const signed = /SignedHeaders=([^,]+)/.exec(c.headers.authorization!)![1]!
    const names = signed.split(';')
    const canonical = ['GET', '/prod/%40connections/c1', '', ...names.map((n) => `${n}:${c.headers[Object.keys(c.headers).find((k) => k.toLowerCase() === n)!]!.trim()}`), '', signed, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'].join('\n')
    const amzDate = c.headers['x-amz-date']!
    t.equal(message.split('\n\n')[0], 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.')
    t.ok(message.includes(`\n\nThe Canonical String for this request should have been\n'${canonical}'\n\n`), 'the canonical request, as the SDK built it')
    t.match(message, new RegExp(`The String-to-Sign should have been\\n'AWS4-HMAC-SHA256\\n${amzDate}\\n${amzDate.slice(0, 8)}/us-east-1/execute-api/aws4_request\\n[0-9a-f]{64}'\\n$`))
  })

  await t.test('a body changed after signing → 403 INVALID_SIGNATURE', async (t) => {
    const c = await sdkSigned(endpoint, sdk(ALICE), new PostToConnectionCommand({ ConnectionId: 'c1', Data: Buffer.from('original') }))
    c.body = Buffer.from('tampered')
    const res = await replay(gw.url, c)
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'InvalidSignatureException')
    t.match(res.json().message, /^The request signature we calculated does not match/)
  })

  await t.test('X-Amz-Date older than 5 minutes → 403 "Signature expired: … is now earlier than … (… - 5 min.)"', async (t) => {
    const c = await sdkSigned(endpoint, sdk(ALICE), new GetConnectionCommand({ ConnectionId: 'c1' }), new Date(Date.now() - 6 * 60_000))
    const res = await replay(gw.url, c)
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'InvalidSignatureException')
    t.match(res.json().message, new RegExp(`^Signature expired: ${c.headers['x-amz-date']} is now earlier than \\d{8}T\\d{6}Z \\(\\d{8}T\\d{6}Z - 5 min\\.\\)$`))
    const fresh = await replay(gw.url, await sdkSigned(endpoint, sdk(ALICE), new GetConnectionCommand({ ConnectionId: 'c1' }), new Date(Date.now() - 4 * 60_000)))
    t.equal(fresh.status, 200, 'four minutes old is within the window')
  })

  await t.test('X-Amz-Date more than 5 minutes ahead → 403 "Signature not yet current"', async (t) => {
    const c = await sdkSigned(endpoint, sdk(ALICE), new GetConnectionCommand({ ConnectionId: 'c1' }), new Date(Date.now() + 6 * 60_000))
    const res = await replay(gw.url, c)
    t.equal(res.status, 403)
    t.match(res.json().message, new RegExp(`^Signature not yet current: ${c.headers['x-amz-date']} is still later than \\d{8}T\\d{6}Z \\(\\d{8}T\\d{6}Z \\+ 5 min\\.\\)$`))
  })

  await t.test('the identity policy decides: an explicit Deny and no Allow are 403 ACCESS_DENIED', async (t) => {
    const signer = new SignatureV4({ credentials: sdk(ALICE), region: 'us-east-1', service: 'execute-api', sha256: Hash.bind(null, 'sha256') })
    const host = new URL(gw.url).host
    const denied = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/prod/secret', query: {}, headers: { host } })
    const res = await request(`${gw.url}/prod/secret`, { headers: denied.headers })
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'AccessDeniedException')
    t.equal(res.json().Message, `User: ${ALICE.arn} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:iamapi/prod/GET/secret with an explicit deny`)
    const bob = await replay(gw.url, await sdkSigned(endpoint, sdk(BOB), new GetConnectionCommand({ ConnectionId: 'c1' })))
    t.equal(bob.status, 403)
    t.equal(bob.json().Message, `User: ${BOB.arn} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:iamapi/prod/GET/@connections/c1 because no identity-based policy allows the execute-api:Invoke action`)
  })

  await t.test('temporary credentials need their X-Amz-Security-Token', async (t) => {
    const ok = await replay(gw.url, await sdkSigned(endpoint, sdk(TEMP), new PostToConnectionCommand({ ConnectionId: 'c2', Data: Buffer.from('x') })))
    t.equal(ok.status, 200)
    const id = ok.json()
    t.equal(id.userArn, TEMP.arn)
    t.match(id.caller, /^AROA[A-Z2-7]{17}:session-1$/, 'a role session: AROA…:session')
    const wrong = await replay(gw.url, await sdkSigned(endpoint, { ...sdk(TEMP), sessionToken: 'another-token' }, new GetConnectionCommand({ ConnectionId: 'c2' })))
    t.equal(wrong.status, 403)
    t.equal(wrong.text, '{"message":"The security token included in the request is invalid."}')
    const none = await replay(gw.url, await sdkSigned(endpoint, { accessKeyId: TEMP.accessKeyId, secretAccessKey: TEMP.secretAccessKey }, new GetConnectionCommand({ ConnectionId: 'c2' })))
    t.equal(none.status, 403, 'without the token')
  })

  await t.test('a presigned URL (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature)', async (t) => {
    const signer = new SignatureV4({ credentials: sdk(ALICE), region: 'us-east-1', service: 'execute-api', sha256: Hash.bind(null, 'sha256') })
    const host = new URL(gw.url).host
    const presigned = await signer.presign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/prod/@connections/p1', query: { extra: 'a b' }, headers: { host } }, { expiresIn: 60 })
    t.strictSame(Object.keys(presigned.query!).sort(), ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'extra'])
    const ok = await request(`${gw.url}/prod/@connections/p1${queryString(presigned.query as Record<string, string>)}`)
    t.equal(ok.status, 200)
    t.equal(ok.json().identity.sourceIp, ALICE.accessKeyId)
    const tampered = await request(`${gw.url}/prod/@connections/p2${queryString(presigned.query as Record<string, string>)}`)
    t.equal(tampered.status, 403)
    t.equal(tampered.headers['x-amzn-errortype'], 'InvalidSignatureException')
    const old = await signer.presign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/prod/@connections/p1', query: {}, headers: { host } }, { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) })
    const expired = await request(`${gw.url}/prod/@connections/p1${queryString(old.query as Record<string, string>)}`)
    t.equal(expired.status, 403)
    t.match(expired.json().message, /^Signature expired: \d{8}T\d{6}Z is now earlier than/)
  })

  await t.test('x-amazon-apigateway-auth { type: AWS_IAM } is enforced like an awsSigv4 scheme', async (t) => {
    const unsigned = await request(`${endpoint}/legacy`)
    t.equal(unsigned.status, 403)
    t.equal(unsigned.text, '{"message":"Missing Authentication Token"}')
    const signer = new SignatureV4({ credentials: sdk(ALICE), region: 'us-east-1', service: 'execute-api', sha256: Hash.bind(null, 'sha256') })
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/prod/legacy', query: {}, headers: { host: new URL(gw.url).host } })
    const res = await request(`${endpoint}/legacy`, { headers: signed.headers })
    t.equal(res.status, 200)
    t.strictSame(res.json(), { legacy: ALICE.arn })
  })

  await t.test('requestContext.identity of the Lambda proxy event', async (t) => {
    const signer = new SignatureV4({ credentials: sdk(ALICE), region: 'us-east-1', service: 'execute-api', sha256: Hash.bind(null, 'sha256') })
    const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/prod/lambda', query: {}, headers: { host: new URL(gw.url).host, 'content-type': 'application/json' }, body: '{"a":1}' })
    const res = await request(`${endpoint}/lambda`, { method: 'POST', headers: signed.headers, body: '{"a":1}' })
    t.equal(res.status, 200)
    const identity = res.json().event.requestContext.identity
    t.match(identity, { accessKey: ALICE.accessKeyId, accountId: '123456789012', userArn: ALICE.arn, caller: /^AIDA/, user: /^AIDA/, sourceIp: '127.0.0.1', cognitoIdentityId: null })
  })

  await t.test('context.identity.* in parameter mappings', async (t) => {
    const signer = new SignatureV4({ credentials: sdk(ALICE), region: 'us-east-1', service: 'execute-api', sha256: Hash.bind(null, 'sha256') })
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/prod/mapped', query: {}, headers: { host: new URL(gw.url).host } })
    const res = await request(`${endpoint}/mapped`, { headers: signed.headers })
    t.equal(res.status, 200)
    t.match(res.json().headers, { 'x-user-arn': ALICE.arn, 'x-access-key': ALICE.accessKeyId })
  })

  await t.test('an Authorization header that is not SigV4 → 403 IncompleteSignatureException listing what is missing', async (t) => {
    const res = await request(`${endpoint}/secret`, { headers: { authorization: 'Bearer abc' } })
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'IncompleteSignatureException')
    t.equal(res.json().message, "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc")
  })
})
