// Lambda proxy integration (AWS_PROXY) conformance: each case replays a recording of real
// API Gateway from LocalStack's AWS-validated snapshots
// (tests/aws/services/apigateway/test_apigateway_lambda.snapshot.json and
// test_apigateway_integrations.snapshot.json, TestApiGatewayHeaderRemapping[AWS_PROXY]),
// with the function LocalStack used ("LAMBDA_RESPONSE_FROM_BODY": the request body is the
// result) and an echo of the event.
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { startGateway, request } from '../helpers/index.js'

const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111111111111:function:${fn}/invocations`
const proxy = (fn: string, httpMethod = 'POST') => ({ type: 'aws_proxy', httpMethod, uri: arn(fn) })

/** The requestContext keys of the recorded event ("invocation-payload-without-trailing-slash"). */
const RECORDED_CONTEXT_KEYS = ['accountId', 'apiId', 'deploymentId', 'domainName', 'domainPrefix', 'extendedRequestId', 'httpMethod', 'identity', 'path', 'protocol', 'requestId', 'requestTime', 'requestTimeEpoch', 'resourceId', 'resourcePath', 'stage']
const RECORDED_IDENTITY_KEYS = ['accessKey', 'accountId', 'caller', 'cognitoAuthenticationProvider', 'cognitoAuthenticationType', 'cognitoIdentityId', 'cognitoIdentityPoolId', 'principalOrgId', 'sourceIp', 'user', 'userAgent', 'userArn']

t.test('Lambda proxy integration, as recorded', async (t) => {
  const dir = t.testdir({
    'fns.mjs': [
      '// LocalStack\'s LAMBDA_RESPONSE_FROM_BODY: the result is the request body.',
      "export const fromBody = async (event) => JSON.parse(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body)",
      'export const echo = async (event) => ({ statusCode: 200, body: JSON.stringify(event) })',
      '',
    ].join('\n'),
  })
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'proxy', version: '1' },
    'x-amazon-apigateway-binary-media-types': ['application/octet-stream'],
    paths: {
      '/{proxy+}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': proxy('echo') } },
      '/result': { post: { 'x-amazon-apigateway-integration': proxy('fromBody') } },
      '/get-method': { get: { 'x-amazon-apigateway-integration': proxy('echo', 'GET') } },
    },
  }))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    accountId: '111111111111',
    apis: [{ id: 'lsproxy', file: 'api.json', stages: { stage: {} } }],
    functions: { echo: { handler: './fns.mjs#echo' }, fromBody: { handler: './fns.mjs#fromBody' } },
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')], timeoutMs: 40_000 })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/stage`
  const result = (body: unknown, headers: Record<string, string> = {}) =>
    request(`${base}/result`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

  t.test('"invocation-payload-with-path-encoded-email": %2B stays %2B in pathParameters and path', async (t) => {
    const res = await request(`${base}/proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com`, { headers: { 'user-agent': 'python-requests/testing' } })
    t.equal(res.status, 200)
    const ev = res.json()
    t.strictSame(ev.pathParameters, { proxy: 'proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com' })
    t.equal(ev.path, '/proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com')
    t.equal(ev.requestContext.path, '/stage/proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com')
    t.equal(ev.resource, '/{proxy+}')
  })

  t.test('"invocation-payload-with-trailing-slash" and "-with-double-slash": the proxy parameter drops one trailing slash, keeps inner ones', async (t) => {
    const trailing = (await request(`${base}/proxy-value/`)).json()
    t.equal(trailing.path, '/proxy-value/')
    t.strictSame(trailing.pathParameters, { proxy: 'proxy-value' })
    const double = (await request(`${base}/proxy-value//double-slash`)).json()
    t.strictSame(double.pathParameters, { proxy: 'proxy-value//double-slash' })
  })

  t.test('"invocation-payload-with-params-encoding": query values are form-decoded', async (t) => {
    const ev = (await request(`${base}/proxy-value/api?dateTimeOffset=2023-06-12T18:05:10.123456+00:00&email=test%2Balias@gmail.com&plus=test+alias@gmail.com&url=https://www.google.com/`)).json()
    t.strictSame(ev.queryStringParameters, { dateTimeOffset: '2023-06-12T18:05:10.123456 00:00', email: 'test+alias@gmail.com', plus: 'test alias@gmail.com', url: 'https://www.google.com/' })
  })

  t.test('the recorded requestContext has every field, accountId from the gateway config, and identity in full', async (t) => {
    const res = await request(`${base}/proxy-value`, { headers: { 'user-agent': 'python-requests/testing' } })
    const ctx = res.json().requestContext
    t.strictSame(Object.keys(ctx).sort(), RECORDED_CONTEXT_KEYS)
    t.strictSame(Object.keys(ctx.identity).sort(), RECORDED_IDENTITY_KEYS)
    t.equal(ctx.accountId, '111111111111')
    t.equal(ctx.apiId, 'lsproxy')
    t.equal(ctx.stage, 'stage')
    t.equal(ctx.path, '/stage/proxy-value')
    t.equal(ctx.identity.userAgent, 'python-requests/testing')
    t.equal(ctx.requestId, res.headers['x-amzn-requestid'])
    t.equal(ctx.extendedRequestId, res.headers['x-amz-apigw-id'])
    t.equal(typeof ctx.requestTimeEpoch, 'number')
    t.match(ctx.deploymentId, /^[0-9a-z]{6}$/)
  })

  t.test('event headers: "authorization" arrives as Authorization; X-Forwarded-*, X-Amzn-Trace-Id added; Connection and Content-Length dropped', async (t) => {
    // Recorded: the client's "authorization" and "aUThorization" both arrive as "Authorization";
    // the AWS_PROXY header-remapping event has X-Forwarded-For/-Port/-Proto and no Connection.
    const res = await request(`${base}/proxy-value`, { method: 'POST', headers: { authorization: 'random-value', 'content-type': 'application/json', 'x-forwarded-for': '10.1.1.1', 'max-forwards': '2' }, body: '{"message": "hello world"}' })
    const ev = res.json()
    t.equal(ev.headers.Authorization, 'random-value')
    t.strictSame(ev.multiValueHeaders.Authorization, ['random-value'])
    t.equal(ev.headers.authorization, undefined)
    t.equal(ev.headers['X-Forwarded-For'], '10.1.1.1, 127.0.0.1')
    t.equal(ev.headers['X-Forwarded-Proto'], 'http')
    t.equal(ev.headers['X-Forwarded-Port'], String(gw.port))
    t.match(ev.headers['X-Amzn-Trace-Id'], /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/)
    t.equal(res.headers['x-amzn-trace-id'], ev.headers['X-Amzn-Trace-Id'], 'the response carries the same trace id')
    for (const gone of ['connection', 'content-length', 'max-forwards']) t.notOk(Object.keys(ev.headers).some((k) => k.toLowerCase() === gone), `${gone} is not passed`)
    t.equal(ev.body, '{"message": "hello world"}')
  })

  t.test("the client's X-Amzn-Trace-Id is kept, in the event and on the response", async (t) => {
    const res = await request(`${base}/proxy-value`, { headers: { 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793' } })
    t.equal(res.json().headers['X-Amzn-Trace-Id'], 'Root=1-5759e988-bd862e3fe1be46a994272793')
    t.equal(res.headers['x-amzn-trace-id'], 'Root=1-5759e988-bd862e3fe1be46a994272793')
  })

  t.test('"invoke-api-no-body": {"statusCode": 200} answers 200, empty, application/json', async (t) => {
    const res = await result({ statusCode: 200 })
    t.equal(res.status, 200)
    t.equal(res.text, '')
    t.equal(res.headers['content-type'], 'application/json')
  })

  t.test('"invoke-api-with-headers": header values may be booleans; no Content-Type gives application/json', async (t) => {
    const res = await result({ statusCode: 200, headers: { 'test-header': 'value', 'header-bool': true } })
    t.equal(res.status, 200)
    t.equal(res.headers['test-header'], 'value')
    t.equal(res.headers['header-bool'], 'true')
    t.equal(res.headers['content-type'], 'application/json')
    t.match(res.headers['x-amzn-trace-id'], /^Root=1-/)
  })

  t.test('"invoke-api-with-headers-null": headers null is no headers', async (t) => {
    const res = await result({ statusCode: 200, headers: null })
    t.equal(res.status, 200)
    t.equal(res.headers['content-type'], 'application/json')
  })

  t.test('"invoke-api-wrong-format" and "invoke-api-invalid-status-code": 502 Internal server error', async (t) => {
    for (const body of [{ statusCode: 200, wrongValue: 'value' }, { statusCode: 'test' }, { statusCode: 200, multiValueHeaders: { 'test-multi-invalid': 'value1' } }]) {
      const res = await result(body)
      t.equal(res.status, 502, JSON.stringify(body))
      t.equal(res.text, '{"message": "Internal server error"}')
    }
  })

  t.test('"invoke-api-just-string": a string result is 502', async (t) => {
    const res = await result('justAString')
    t.equal(res.status, 502)
  })

  t.test('"invoke-api-status-code-str": statusCode "201" answers 201', async (t) => {
    const res = await result({ statusCode: '201' })
    t.equal(res.status, 201)
    t.equal(res.text, '')
  })

  t.test('"invoke-api-only-headers": no statusCode answers 200; an empty object as well', async (t) => {
    const res = await result({ headers: { 'test-header': 'value' } })
    t.equal(res.status, 200)
    t.equal(res.text, '')
    t.equal(res.headers['test-header'], 'value')
    t.equal((await result({})).status, 200)
  })

  t.test('"invoke-api-multi-headers-valid" and "-overwrite": multiValueHeaders values then headers value, all sent', async (t) => {
    const valid = await result({ statusCode: 200, multiValueHeaders: { 'test-multi': ['value1', 'value2'] } })
    // The recording's client joins repeated header lines ("value1, value2"); undici lists them.
    t.strictSame(valid.headers['test-multi'], ['value1', 'value2'])
    const both = await result({ statusCode: 200, multiValueHeaders: { 'test-multi': ['value-multi'] }, headers: { 'test-multi': 'value-solo' } })
    t.strictSame(both.headers['test-multi'], ['value-multi', 'value-solo'])
  })

  t.test('"invoke-api-b64-encoded-true": without a binary Accept the base64 text is the body', async (t) => {
    const b64 = Buffer.from('test-data').toString('base64')
    const text = await result({ statusCode: 200, body: b64, isBase64Encoded: true })
    t.equal(text.text, 'dGVzdC1kYXRh')
    const untouched = await result({ statusCode: 200, body: b64 })
    t.equal(untouched.text, 'dGVzdC1kYXRh', '"invoke-api-b64-encoded-false"')
    // The guide ("Return binary media from a Lambda proxy integration"): Accept naming a binary media type decodes it.
    const binary = await result({ statusCode: 200, body: b64, isBase64Encoded: true, headers: { 'Content-Type': 'application/octet-stream' } }, { accept: 'application/octet-stream' })
    t.equal(binary.text, 'test-data')
  })

  t.test('a function response header Date/Server is returned as x-amzn-Remapped-*', async (t) => {
    const res = await result({ statusCode: 200, headers: { Server: 'fn', Date: 'Mon, 01 Jan 2024 00:00:00 GMT' } })
    t.equal(res.headers['x-amzn-remapped-server'], 'fn')
    t.equal(res.headers['x-amzn-remapped-date'], 'Mon, 01 Jan 2024 00:00:00 GMT')
    t.not(res.headers.server, 'fn')
  })

  t.test('"invocation-payload-with-get-proxy-method": an AWS_PROXY integration with httpMethod GET answers 500', async (t) => {
    const res = await request(`${base}/get-method`)
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
  })
})
