// Throttling over HTTP: each limit, the order in which API Gateway applies them, the THROTTLED
// gateway response, what a refused or throttled request takes, metrics and SIGHUP.
// Developer guide, "Throttle requests to your REST APIs": token buckets; the order is the
// per-client per-method limits of a usage plan's API stage, the per-client limits of the
// usage plan, the per-method limits of the stage ("applied at the API method level for a
// stage": "*/*" is every method's default, a method's own entry overrides it), the account
// level. "Gateway response types": THROTTLED is 429; API Gateway's default body for it is
// {"message":"Too Many Requests"} with x-amzn-ErrorType TooManyRequestsException (LocalStack's
// AWS-validated snapshot TestApiGatewayGatewayResponse::test_gateway_response_crud: THROTTLED, statusCode 429, template
// {"message":$context.error.messageString}).
//
// Rates are 0.001 per second (a token per 1000 s): nothing refills while a test runs, so each
// count below is exact.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startGateway, writeApi, request, until, adminUrl, mockIntegration as mock, type Gateway } from '../helpers/index.js'
import { writeAuthorizerKeyApi } from '../helpers/authorizer-key-source.js'

const KEY1 = 'k1-value-0123456789abcdef'
const KEY2 = 'k2-value-0123456789abcdef'
const KEY3 = 'k3-value-0123456789abcdef'
const SLOW = 0.001

/** Statuses of `n` requests sent one after another. */
async function statuses(url: string, n: number, key: string | null = null, method = 'GET'): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await request(url, { method, ...(key === null ? {} : { headers: { 'x-api-key': key } }) })).status)
  return out
}
const admitted = (n: number, throttled: number) => [...Array<number>(n).fill(200), ...Array<number>(throttled).fill(429)]

t.test('the levels in API Gateway\'s order, each with its own bucket', async (t) => {
  const dir = t.testdir()
  const apiFile = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'order', version: '1' },
    components: { securitySchemes: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
    paths: {
      '/keyed': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock() }, post: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock() } },
      '/open': { get: { 'x-amazon-apigateway-integration': mock() } },
      '/other': { get: { 'x-amazon-apigateway-integration': mock() } },
    },
  }, 'order.json')
  const config = join(dir, 'gateway.json')
  const write = (otherRate: number) => writeFileSync(config, JSON.stringify({
    workers: 2,
    admin: { host: '127.0.0.1', port: 0 },
    apis: [{
      id: 'order',
      file: apiFile,
      stages: {
        prod: {
          methodSettings: {
            '*/*': { throttlingRateLimit: SLOW, throttlingBurstLimit: 6, metricsEnabled: true },
            '/other/GET': { throttlingBurstLimit: 2, throttlingRateLimit: otherRate },
          },
        },
      },
    }],
    apiKeys: [{ id: 'k1', value: KEY1, enabled: true }, { id: 'k2', value: KEY2, enabled: true }, { id: 'k3', value: KEY3, enabled: true }],
    usagePlans: [
      { id: 'gold', apiStages: [{ apiId: 'order', stage: 'prod', throttle: { '/keyed/GET': { rateLimit: SLOW, burstLimit: 2 } } }], throttle: { rateLimit: SLOW, burstLimit: 4 }, apiKeys: ['k1', 'k2'] },
      { id: 'silver', apiStages: [{ apiId: 'order', stage: 'prod' }], apiKeys: ['k3'] },
    ],
  }))
  write(SLOW)
  const gw: Gateway = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  const url = (path: string) => `${gw.url}/prod${path}`

  // 1. Per client per method (gold's "/keyed/GET": burst 2).
  t.strictSame(await statuses(url('/keyed'), 3, KEY1), admitted(2, 1), 'k1 GET /keyed: 2, then the usage plan method limit')
  const r = await request(url('/keyed'), { headers: { 'x-api-key': KEY1 } })
  t.equal(r.status, 429)
  t.equal(r.text, '{"message":"Too Many Requests"}', 'THROTTLED\'s default body')
  t.equal(r.headers['x-amzn-errortype'], 'TooManyRequestsException')
  t.equal(r.headers['content-type'], 'application/json')
  t.match(r.headers['x-amzn-requestid'], /^[0-9a-f-]{36}$/)
  t.strictSame(await statuses(url('/keyed'), 4, KEY1), [429, 429, 429, 429], 'more throttled requests…')

  // 2. Per client (gold's throttle, burst 4, for each key across its methods): the throttled
  // GETs above took nothing, so k1 has 4 - 2 = 2 left for POST.
  t.strictSame(await statuses(url('/keyed'), 3, KEY1, 'POST'), admitted(2, 1), 'k1 POST /keyed: the rest of k1\'s plan bucket, then the usage plan limit')

  // 3. Another key of the same plan has buckets of its own.
  t.strictSame(await statuses(url('/keyed'), 3, KEY2), admitted(2, 1), 'k2 GET /keyed: its own usage plan method bucket')

  // A request refused for its key (403) takes no token from any bucket.
  t.strictSame(await statuses(url('/keyed'), 5, null), [403, 403, 403, 403, 403], 'no key: 403 Forbidden, before throttling')
  t.strictSame(await statuses(url('/keyed'), 3, 'not-a-key-of-this-gateway-0000'), [403, 403, 403])

  // 4. Per method ("*/*": burst 6 for GET /keyed, shared by every client): k1 2 + k2 2 = 4 taken.
  t.strictSame(await statuses(url('/keyed'), 3, KEY3), admitted(2, 1), 'k3 (a plan without throttles) GET /keyed: the method limit, shared by all keys')

  // 5. The stage's "*/*" is each method's own default: GET /open has a burst of 6 of its own.
  t.strictSame(await statuses(url('/open'), 7), admitted(6, 1), 'GET /open: "*/*" applies to it alone')

  // 6. A method's own entry overrides "*/*".
  t.strictSame(await statuses(url('/other'), 3), admitted(2, 1), 'GET /other: its own burst of 2')

  // Every throttled request is counted (ThrottleCount-like counter of the admin listener).
  const admin = await adminUrl(gw)
  const metrics = await request(`${admin}/metrics`)
  t.match(metrics.text, /^backplane_throttled_total\{ApiName="order",Stage="prod",Resource="",Method=""\} 11$/m, '1 + 1 + 4 + 1 + 1 + 1 + 1 + 1 = 11 throttled on the stage')

  // SIGHUP with the same limits: the buckets keep their (spent) tokens.
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 1/.test(gw.output()), 'the first reload')
  t.strictSame(await statuses(url('/other'), 2), [429, 429], 'still spent after a reload')
  // SIGHUP with a higher rate: the same bucket, refilled at the new rate from the next request.
  write(1000)
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 2/.test(gw.output()), 'the second reload')
  await new Promise((r) => setTimeout(r, 50))
  t.strictSame(await statuses(url('/other'), 1), [200], 'the new rate refills it')
  t.notMatch(gw.output(), /not enforced/, 'no "not enforced" warning for throttles')
})

t.test('the account level: one bucket for every API and stage of the gateway, customizable THROTTLED response', async (t) => {
  const dir = t.testdir()
  const a = writeApi(t, { openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: { '/x': { get: { 'x-amazon-apigateway-integration': mock() } } } }, 'a.json')
  const b = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'b', version: '1' },
    'x-amazon-apigateway-gateway-responses': { THROTTLED: { responseParameters: { 'gatewayresponse.header.Retry-After': "'1000'" }, responseTemplates: { 'application/json': '{"error":"$context.error.responseType","message":$context.error.messageString}' } } },
    paths: { '/y': { get: { 'x-amazon-apigateway-integration': mock() } } },
  }, 'b.json')
  const config = join(dir, 'gateway.json')
  writeFileSync(config, JSON.stringify({
    workers: 2,
    throttling: { rateLimit: SLOW, burstLimit: 5 },
    apis: [{ id: 'a', file: a, basePath: 'a', stages: { prod: {}, dev: {} } }, { id: 'b', file: b, basePath: 'b', stages: { prod: { methodSettings: { '*/*': { throttlingRateLimit: 100, throttlingBurstLimit: 100 } } } } }],
  }))
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  t.strictSame(await statuses(`${gw.url}/a/prod/x`, 2), [200, 200])
  t.strictSame(await statuses(`${gw.url}/a/dev/x`, 2), [200, 200])
  t.strictSame(await statuses(`${gw.url}/b/prod/y`, 2), [200, 429], 'the fifth request of the account, whatever its API, stage or method limit')
  t.strictSame(await statuses(`${gw.url}/a/prod/x`, 1), [429])
  const r = await request(`${gw.url}/b/prod/y`)
  t.equal(r.status, 429)
  t.equal(r.text, '{"error":"THROTTLED","message":"Too Many Requests"}', 'the API\'s THROTTLED gateway response template')
  t.equal(r.headers['retry-after'], '1000')
  t.equal(r.headers['x-amzn-errortype'], 'TooManyRequestsException')
})

t.test('with the AUTHORIZER key source the usage plan limit follows the Lambda authorizer; a denied caller takes no token', async (t) => {
  // "Choose an API key source in API Gateway": with AUTHORIZER the key is the authorizer's
  // usageIdentifierKey, so the usage plan's throttle can only apply after the authorizer ran.
  const apiFile = writeAuthorizerKeyApi(t, mock())
  const dir = t.testdirName
  writeFileSync(join(dir, 'auth.mjs'), `export const handler = async (event) => ({
  principalId: event.authorizationToken,
  policyDocument: { Version: '2012-10-17', Statement: [{ Effect: event.authorizationToken === 'mallory' ? 'Deny' : 'Allow', Action: 'execute-api:Invoke', Resource: event.methodArn }] },
  usageIdentifierKey: ${JSON.stringify(KEY1)},
})
`)
  const config = join(dir, 'gateway.json')
  writeFileSync(config, JSON.stringify({
    workers: 1,
    apis: [{ id: 'authkeys', file: apiFile, stages: { prod: {} } }],
    functions: { keyAuth: { handler: join(dir, 'auth.mjs') + '#handler' } },
    apiKeys: [{ id: 'k1', value: KEY1, enabled: true }],
    usagePlans: [{ id: 'gold', apiStages: [{ apiId: 'authkeys', stage: 'prod' }], throttle: { rateLimit: SLOW, burstLimit: 2 }, apiKeys: ['k1'] }],
  }))
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  const get = async (token: string) => (await request(`${gw.url}/prod/keyed`, { headers: { authorization: token } })).status
  t.strictSame([await get('mallory'), await get('mallory'), await get('mallory')], [403, 403, 403], 'denied by the authorizer: 403, before throttling')
  t.strictSame([await get('alice'), await get('alice'), await get('alice')], [200, 200, 429], 'the key\'s usage plan bucket (burst 2), untouched by the denied calls')
})
