// Lambda integrations over HTTP: the gateway config maps function names to local
// handler modules; aws_proxy sends payload format 1.0 and answers with the result; aws
// (non-proxy) renders the request template and matches errors by selectionPattern.
// Developer guide: "Lambda proxy integrations in API Gateway", "Lambda custom
// integrations in API Gateway", "Handle Lambda errors in API Gateway".
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startGateway, request } from '../helpers/index.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/functions/', import.meta.url))
const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`
const proxy = (fn: string, extra: object = {}) => ({ type: 'aws_proxy', httpMethod: 'POST', uri: arn(fn), ...extra })

t.test('lambda integrations', async (t) => {
  const dir = t.testdir({
    'reloadable.mjs': "export const handler = async () => ({ statusCode: 200, body: 'v1' })\n",
  })
  const api = {
    openapi: '3.0.1',
    info: { title: 'fn', version: '1' },
    'x-amazon-apigateway-binary-media-types': ['image/png'],
    paths: {
      '/echo/{id}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': proxy('echo') } },
      '/account': { get: { 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: arn('echo').replace(':123456789012:', ':210987654321:') } } },
      '/staged': { get: { 'x-amazon-apigateway-integration': proxy('${stageVariables.fn}') } },
      '/cjs': { get: { 'x-amazon-apigateway-integration': proxy('cjs') } },
      '/throws': { get: { 'x-amazon-apigateway-integration': proxy('throws') } },
      '/loops': { get: { 'x-amazon-apigateway-integration': proxy('loops', { timeoutInMillis: 29000 }) } },
      '/loops-integration': { get: { 'x-amazon-apigateway-integration': proxy('loopslong', { timeoutInMillis: 300 }) } },
      '/custom-timeout': {
        get: {
          'x-amazon-apigateway-integration': {
            type: 'aws', httpMethod: 'POST', uri: arn('loops'),
            responses: {
              'Task timed out.*': { statusCode: '504', responseTemplates: { 'application/json': '{"timedOut":"$input.path(\'$.errorMessage\')"}' } },
              default: { statusCode: '200' },
            },
          },
        },
      },
      '/malformed': { get: { 'x-amazon-apigateway-integration': proxy('nothing') } },
      '/binary': { post: { 'x-amazon-apigateway-integration': proxy('binary') } },
      '/missing': { get: { 'x-amazon-apigateway-integration': proxy('notconfigured') } },
      '/reloadable': { get: { 'x-amazon-apigateway-integration': proxy('reloadable') } },
      '/custom': {
        post: {
          'x-amazon-apigateway-integration': {
            type: 'aws', httpMethod: 'POST', uri: arn('returns'),
            requestTemplates: { 'application/json': '{"value": {"answer": 42}}' },
            responses: { default: { statusCode: '200' } },
          },
        },
      },
      '/custom-error': {
        get: {
          'x-amazon-apigateway-integration': {
            type: 'aws', httpMethod: 'POST', uri: arn('rejects'),
            responses: {
              '\\[404\\].*': { statusCode: '404', responseTemplates: { 'application/json': '{"error":"not found"}' } },
              default: { statusCode: '200' },
            },
          },
        },
      },
    },
  }
  writeFileSync(join(dir, 'api.json'), JSON.stringify(api))
  const behaviors = join(FIXTURES, 'behaviors.mjs')
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    apis: [{ id: 'fnapi', file: 'api.json', stages: { prod: { variables: { fn: 'cjs' } } } }],
    functions: {
      echo: { handler: `${behaviors}#echo`, environment: { TABLE: 'pets' }, memoryMb: 256 },
      cjs: { handler: join(FIXTURES, 'callback.cjs') + '#handler' },
      throws: { handler: `${behaviors}#throws` },
      loops: { handler: `${behaviors}#loops`, timeoutMs: 500 },
      loopslong: { handler: `${behaviors}#loops`, timeoutMs: 10000 },
      nothing: { handler: `${behaviors}#nothing` },
      binary: { handler: `${behaviors}#binary` },
      returns: { handler: `${behaviors}#returns` },
      rejects: { handler: `${behaviors}#rejects` },
      reloadable: { handler: './reloadable.mjs#handler' },
    },
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/prod`

  t.test('aws_proxy sends the payload format 1.0 event and returns the result', async (t) => {
    const res = await request(`${base}/echo/a%20b?x=1&x=2&y=3`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-multi': 'one' }, body: '{"n":1}' })
    t.equal(res.status, 200)
    t.equal(res.headers['content-type'], 'application/json')
    const { event, context, env } = res.json()
    t.equal(event.resource, '/echo/{id}')
    t.equal(event.path, '/echo/a%20b')
    t.equal(event.httpMethod, 'PUT')
    t.equal(event.headers['x-multi'], 'one')
    t.strictSame(event.multiValueHeaders['x-multi'], ['one'])
    t.strictSame(event.queryStringParameters, { x: '2', y: '3' })
    t.strictSame(event.multiValueQueryStringParameters, { x: ['1', '2'], y: ['3'] })
    // REST APIs pass path parameters still percent-encoded (serverless/serverless#5037; LocalStack's
    // AWS-validated test_lambda_aws_proxy_integration keeps `test%2Balias` so).
    t.strictSame(event.pathParameters, { id: 'a%20b' })
    t.strictSame(event.stageVariables, { fn: 'cjs' })
    t.equal(event.body, '{"n":1}')
    t.equal(event.isBase64Encoded, false)
    t.match(event.requestContext, {
      resourcePath: '/echo/{id}', httpMethod: 'PUT', stage: 'prod', apiId: 'fnapi', path: '/prod/echo/a%20b',
      requestId: res.headers['x-amzn-requestid'], identity: { sourceIp: '127.0.0.1' }, protocol: 'HTTP/1.1',
    })
    t.match(event.requestContext.requestTime, /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/)
    t.equal(context.functionName, 'echo')
    t.equal(context.memoryLimitInMB, '256')
    t.equal(env.TABLE, 'pets')
    t.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'echo')
  })

  t.test("without an accountId in the config, the event's account is the function ARN's in the integration URI", async (t) => {
    const res = await request(`${base}/account`)
    t.equal(res.json().event.requestContext.accountId, '210987654321')
  })

  t.test('a stage variable names the function; CommonJS callback handlers work', async (t) => {
    const res = await request(`${base}/staged`)
    t.equal(res.status, 200)
    t.match(res.json(), { cjs: true, name: 'cjs' })
    t.match((await request(`${base}/cjs`)).json(), { cjs: true })
  })

  t.test('a handler that throws: 502 Internal server error', async (t) => {
    const res = await request(`${base}/throws`)
    t.equal(res.status, 502)
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  t.test("a handler past its own timeout is a function error (502, as Lambda's \"Task timed out\"), and the function still serves after", async (t) => {
    const res = await request(`${base}/loops`)
    t.equal(res.status, 502)
    t.equal(res.text, '{"message": "Internal server error"}')
    t.equal((await request(`${base}/cjs`)).status, 200, 'the router was not stalled')
  })

  t.test('only the integration timeout (timeoutInMillis) answers 504 Endpoint request timed out', async (t) => {
    const res = await request(`${base}/loops-integration`)
    t.equal(res.status, 504)
    t.equal(res.text, '{"message": "Endpoint request timed out"}')
  })

  t.test("aws (non-proxy): the function's own timeout is matched by selectionPattern on \"Task timed out after N.00 seconds\"", async (t) => {
    const res = await request(`${base}/custom-timeout`)
    t.equal(res.status, 504)
    t.equal(res.text, '{"timedOut":"Task timed out after 0.50 seconds"}')
  })

  t.test('a result that is not a proxy response: 502', async (t) => {
    const res = await request(`${base}/malformed`)
    t.equal(res.status, 502)
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  t.test('a binary request body arrives base64-encoded and a base64 result is decoded', async (t) => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255])
    // The guide: the base64 result is decoded when the request's Accept names a binary media type.
    const res = await request(`${base}/binary`, { method: 'POST', headers: { 'content-type': 'image/png', accept: 'image/png' }, body: png })
    t.equal(res.status, 200)
    t.equal(res.headers['content-type'], 'image/png')
    t.same(res.body, png)
  })

  t.test('a function missing from the config: 500', async (t) => {
    const res = await request(`${base}/missing`)
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  t.test('aws (non-proxy): the rendered template is the event, the result the response', async (t) => {
    const res = await request(`${base}/custom`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    t.equal(res.status, 200)
    t.equal(res.text, '{"answer":42}')
  })

  t.test('aws (non-proxy): a function error is matched by selectionPattern on errorMessage', async (t) => {
    const res = await request(`${base}/custom-error`)
    t.equal(res.status, 404)
    t.equal(res.text, '{"error":"not found"}')
  })

  t.test('a changed handler file is picked up on reload (SIGHUP) without a restart', async (t) => {
    t.equal((await request(`${base}/reloadable`)).text, 'v1')
    writeFileSync(join(dir, 'reloadable.mjs'), "export const handler = async () => ({ statusCode: 200, body: 'v2' })\n")
    gw.signal('SIGHUP')
    let text = ''
    for (let i = 0; i < 50 && text !== 'v2'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      text = (await request(`${base}/reloadable`)).text
    }
    t.equal(text, 'v2')
  })
})
