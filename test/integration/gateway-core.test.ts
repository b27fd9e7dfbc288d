// The gateway core over real HTTP: the CLI started on a free port, a loopback echo
// backend, and a client that sees what an API Gateway client would see.
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startGateway, startEchoBackend, writeApi, request } from '../helpers/index.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const APIGW_ID = /^[A-Za-z0-9+/]{15}=$/

const mockIntegration = (status: string, body: string) => ({
  type: 'mock',
  requestTemplates: { 'application/json': `{"statusCode": ${status}}` },
  responses: {
    '4\\d{2}': { statusCode: '404', responseTemplates: { 'application/json': '{"error":"not here"}' } },
    default: { statusCode: '200', responseParameters: { 'method.response.header.X-Custom': "'yes'" }, responseTemplates: { 'application/json': body } },
  },
})

/** An operation answered by the mock: its method response 200 declares X-Custom, as API Gateway requires of a mapped header. */
const mockOperation = (status: string, body: string) => ({
  responses: { '200': { description: 'ok', headers: { 'X-Custom': { schema: { type: 'string' } } } } },
  'x-amazon-apigateway-integration': mockIntegration(status, body),
})

const proxy = (uri: string, extra: object = {}) => ({
  type: 'http_proxy',
  httpMethod: 'ANY',
  uri,
  requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' },
  ...extra,
})

t.test('gateway core', async (t) => {
  const backend = await startEchoBackend()
  t.teardown(() => backend.close())
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'core', version: '1' },
    paths: {
      '/pets': {
        get: mockOperation('200', '[{"id":1}]'),
        post: mockOperation('404', ''),
      },
      '/pets/{petId}': { get: mockOperation('200', '{"one":true}') },
      '/proxy/{proxy+}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': proxy('${stageVariables.backend}/echo/{proxy}') } },
      '/slow/{proxy+}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': proxy(`${backend.url}/{proxy}`, { timeoutInMillis: 400 }) } },
      '/dead/{proxy+}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': proxy('http://127.0.0.1:9/{proxy}') } },
      '/later': { get: { 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:later/invocations' } } },
      '/query': {
        get: {
          'x-amazon-apigateway-integration': {
            type: 'http_proxy', httpMethod: 'POST', uri: `${backend.url}/q`,
            requestParameters: { 'integration.request.querystring.stage': 'context.stage', 'integration.request.header.x-static': "'fixed'", 'integration.request.header.x-from-query': 'method.request.querystring.who' },
          },
        },
      },
    },
  })
  const gw = await startGateway({ args: [file, '--stage', 'dev', '--stage-var', `backend=${backend.url}`, '--workers', '2'] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/dev`

  t.test('a mock route answers with its response template, status and mapped header', async (t) => {
    const res = await request(`${base}/pets`)
    t.equal(res.status, 200)
    t.equal(res.text, '[{"id":1}]')
    t.equal(res.headers['content-type'], 'application/json')
    t.equal(res.headers['x-custom'], 'yes')
    t.match(res.headers['x-amzn-requestid'], UUID)
    t.match(res.headers['x-amz-apigw-id'], APIGW_ID)
  })

  t.test('the mock statusCode selects the integration response by selectionPattern', async (t) => {
    const res = await request(`${base}/pets`, { method: 'POST' })
    t.equal(res.status, 404)
    t.equal(res.text, '{"error":"not here"}')
  })

  t.test('each request gets its own request id', async (t) => {
    const [a, b] = await Promise.all([request(`${base}/pets`), request(`${base}/pets`)])
    t.not(a.headers['x-amzn-requestid'], b.headers['x-amzn-requestid'])
    t.not(a.headers['x-amz-apigw-id'], b.headers['x-amz-apigw-id'])
  })

  for (const [what, method, path] of [['an unknown resource', 'GET', '/nothing'], ['an unknown method', 'DELETE', '/pets'], ['an unknown stage', 'GET', '/../prod/pets'], ['no stage at all', 'GET', '']] as const) {
    t.test(`returns 403 MISSING_AUTHENTICATION_TOKEN for ${what}`, async (t) => {
      const url = path.startsWith('/..') ? `${gw.url}${path.slice(3)}` : path === '' ? `${gw.url}/` : `${base}${path}`
      const res = await request(url, { method })
      t.equal(res.status, 403)
      t.equal(res.text, '{"message":"Missing Authentication Token"}')
      t.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException')
      t.equal(res.headers['content-type'], 'application/json')
      t.match(res.headers['x-amzn-requestid'], UUID)
    })
  }

  t.test('http_proxy passes method, encoded path, query string, headers and body through', async (t) => {
    const res = await request(`${base}/proxy/a%20b/c%2Fd?x=1&x=2&y=%C3%A9`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'x-custom-in': 'hello', connection: 'keep-alive', 'x-forwarded-for': '10.0.0.1', 'x-echo-header-x-from-backend': 'back' },
      body: 'some body',
    })
    t.equal(res.status, 200)
    const seen = res.json()
    t.equal(seen.method, 'PUT')
    t.equal(seen.path, '/echo/a%20b/c/d')
    t.equal(seen.query, 'x=1&x=2&y=%C3%A9')
    t.equal(seen.body, 'some body')
    t.equal(seen.headers['x-custom-in'], 'hello')
    t.equal(seen.headers['content-type'], 'text/plain')
    t.equal(seen.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1')
    t.equal(seen.headers.host, backend.url.slice('http://'.length))
    t.equal(res.headers['x-from-backend'], 'back')
    t.match(res.headers['x-amzn-requestid'], UUID)
  })

  t.test('http_proxy passes the backend status and body as they are', async (t) => {
    const res = await request(`${base}/proxy/teapot`, { headers: { 'x-echo-status': '418' } })
    t.equal(res.status, 418)
    t.equal(res.json().path, '/echo/teapot')
  })

  t.test('requestParameters add query strings and headers; httpMethod overrides the method', async (t) => {
    const res = await request(`${base}/query?who=me`)
    const seen = res.json()
    t.equal(seen.method, 'POST')
    t.equal(seen.path, '/q')
    t.equal(seen.query, 'who=me&stage=dev')
    t.equal(seen.headers['x-static'], 'fixed')
    t.equal(seen.headers['x-from-query'], 'me')
  })

  t.test('past timeoutInMillis the client gets 504 Endpoint request timed out', async (t) => {
    const res = await request(`${base}/slow/x`, { headers: { 'x-echo-delay-ms': '3000' } })
    t.equal(res.status, 504)
    t.equal(res.text, '{"message": "Endpoint request timed out"}')
    t.equal(res.headers['x-amzn-errortype'], 'InternalServerErrorException')
  })

  t.test('a backend that never answers still gets the client a 504', async (t) => {
    const res = await request(`${base}/slow/hang`)
    t.equal(res.status, 504)
  })

  t.test('a connection reset mid-exchange gets 502 Internal server error', async (t) => {
    const res = await request(`${base}/slow/reset`)
    t.equal(res.status, 502)
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  t.test('a refused connection gets 500 Internal server error', async (t) => {
    const res = await request(`${base}/dead/x`)
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  t.test('a request to a 2 s backend does not delay a fast route sent right after it', async (t) => {
    const slowStart = Date.now()
    const slow = request(`${base}/proxy/slow`, { headers: { 'x-echo-delay-ms': '2000' } }).then((r) => ({ r, at: Date.now() - slowStart }))
    await new Promise((r) => setTimeout(r, 50))
    const fastStart = Date.now()
    const [fastMock, fastProxy] = await Promise.all([request(`${base}/pets/1`), request(`${base}/proxy/fast`)])
    const fastAt = Date.now() - fastStart
    t.equal(fastMock.status, 200)
    t.equal(fastProxy.status, 200)
    const { r, at } = await slow
    t.equal(r.status, 200)
    t.ok(at >= 2000, `the slow one took its 2 s (${at} ms)`)
    t.ok(fastAt < 1000, `the fast ones did not wait for it (${fastAt} ms)`)
  })

  t.test('a body over 10 MB gets 413 Request Too Long', async (t) => {
    const res = await request(`${base}/proxy/big`, { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1) }).catch((e: Error) => e)
    if (res instanceof Error) {
      t.fail(`the client saw no answer: ${res.message}`)
      return
    }
    t.equal(res.status, 413)
    t.equal(res.text, '{"message":"Request Too Long"}')
    t.equal(res.headers['x-amzn-errortype'], 'RequestTooLargeException')
    t.match(res.headers['x-amzn-requestid'], UUID)
  })

  t.test('a body of 1 MB is passed through whole', async (t) => {
    const body = Buffer.alloc(1024 * 1024, 'a')
    const res = await request(`${base}/proxy/mb`, { method: 'POST', body })
    t.equal(res.status, 200)
    t.equal(res.json().body.length, body.length)
  })

  t.test('an integration type not served yet answers 500', async (t) => {
    const res = await request(`${base}/later`)
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
  })
})

t.test('http_proxy keeps the backend\'s header names as it sent them', async (t) => {
  const server = http.createServer((_req, res) => {
    res.setHeader('X-Mixed-Case', 'yes')
    res.end('ok')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  const file = writeApi(t, { openapi: '3.0.1', info: { title: 'case', version: '1' }, paths: { '/{proxy+}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': proxy(`http://127.0.0.1:${port}/{proxy}`) } } } })
  const gw = await startGateway({ args: [file, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const raw = await new Promise<string[]>((resolve, reject) => {
    const req = http.get(`${gw.url}/test/x`, (res) => {
      res.resume()
      res.on('end', () => resolve(res.rawHeaders))
    })
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')))
    req.on('error', reject)
  })
  const i = raw.indexOf('X-Mixed-Case')
  t.ok(i >= 0, `X-Mixed-Case among ${raw.filter((_, k) => k % 2 === 0).join(', ')}`)
  t.equal(raw[i + 1], 'yes')
})

t.test('several APIs on one listener: by Host {apiId}.execute-api.* and by base path', async (t) => {
  const api = (body: string) => ({ openapi: '3.0.1', info: { title: body, version: '1' }, paths: { '/who': { get: mockOperation('200', body) } } })
  const dir = t.testdir({
    'a.json': JSON.stringify(api('"a"')),
    'b.json': JSON.stringify(api('"b"')),
    'c.json': JSON.stringify(api('"c"')),
  })
  const config = join(dir, 'backplane.json')
  writeFileSync(config, JSON.stringify({
    apis: [
      { id: 'alpha', file: 'a.json', stages: { prod: {}, beta: {} } },
      { id: 'bravo1234', file: 'b.json', stages: { prod: {} } },
      { id: 'charlie', file: 'c.json', basePath: 'orders', stages: { v1: {} } },
    ],
  }))
  const gw = await startGateway({ args: ['--config', config, '--workers', '1'] })
  t.teardown(() => gw.stop())
  t.equal((await request(`${gw.url}/prod/who`)).text, '"a"', 'no Host match and no base path: the API without a base path')
  t.equal((await request(`${gw.url}/beta/who`)).text, '"a"', 'a second stage of the same API')
  t.equal((await request(`${gw.url}/prod/who`, { headers: { host: 'bravo1234.execute-api.us-east-1.amazonaws.com' } })).text, '"b"', 'Host selects the API by id')
  t.equal((await request(`${gw.url}/orders/v1/who`)).text, '"c"', 'the base path selects the API')
  t.equal((await request(`${gw.url}/orders/prod/who`)).status, 403, 'a stage of another API is unknown here')
})

t.test('SIGTERM stops accepting connections but lets a request in flight finish', async (t) => {
  const backend = await startEchoBackend()
  t.teardown(() => backend.close())
  const file = writeApi(t, { openapi: '3.0.1', info: { title: 'drain', version: '1' }, paths: { '/{proxy+}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': proxy(`${backend.url}/{proxy}`) } } } })
  const gw = await startGateway({ args: [file, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const inFlight = request(`${gw.url}/test/slow`, { headers: { 'x-echo-delay-ms': '1500' } })
  await new Promise((r) => setTimeout(r, 300))
  gw.signal('SIGTERM')
  await new Promise((r) => setTimeout(r, 200))
  const late = await request(`${gw.url}/test/late`, { timeoutMs: 2000 }).then(() => 'answered', (e: Error & { code?: string }) => e.code ?? e.message)
  t.equal(late, 'ECONNREFUSED', 'no new connection is accepted')
  const res = await inFlight
  t.equal(res.status, 200, 'the request in flight got its answer')
  t.equal(res.json().path, '/slow')
  t.strictSame(await gw.exited, { code: 0, signal: null }, 'then the gateway exits 0')
})
