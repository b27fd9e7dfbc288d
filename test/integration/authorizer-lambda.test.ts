// Lambda authorizers (TOKEN and REQUEST) over HTTP: real authorizer modules in the function
// host, a remote one behind a loopback Lambda Invoke endpoint, two workers sharing one
// result cache. Sources of the pinned facts:
// - developer guide, "Use API Gateway Lambda authorizers", "Input to an API Gateway Lambda
//   authorizer", "Output from an API Gateway Lambda authorizer" (events, the context map's
//   values stringified, $context.authorizer.*);
// - API reference, "Authorizer" (identitySource: missing/empty → 401 without calling the
//   function; identityValidationExpression; authorizerResultTtlInSeconds default 300, 0 off);
// - "Gateway response types for API Gateway" (UNAUTHORIZED 401, ACCESS_DENIED 403,
//   AUTHORIZER_CONFIGURATION_ERROR 500 and their x-amzn-ErrorType);
// - AWS-observed bodies: `{"Message":"User is not authorized to access this resource with an
//   explicit deny"}` / `{"Message":"User is not authorized to access this resource"}` for the
//   denials, `{"message": null}` with AuthorizerConfigurationException for an authorizer
//   error, a timeout or a malformed result, a non-scalar context value included
//   (dev.to/marcogrcr "API Gateway + Lambda authorizer + Lambda proxy integration failure
//   modes"; serverless-offline PR #1376, tested against API Gateway).
import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { startGateway, startEchoBackend, request } from '../helpers/index.js'

const FIXTURES = fileURLToPath(new URL('../fixtures/functions/', import.meta.url))
const AUTHORIZERS = join(FIXTURES, 'authorizers.mjs')
const BEHAVIORS = join(FIXTURES, 'behaviors.mjs')
const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`
const proxy = { type: 'aws_proxy', httpMethod: 'POST', uri: arn('echo') }
const ARN_PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:authapi/prod'

function tokenScheme(fn: string, header: string, extra: object = {}) {
  return {
    type: 'apiKey', name: header, in: 'header',
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: arn(fn), ...extra },
  }
}

const get = (scheme: string, integration: object = proxy) => ({ get: { security: [{ [scheme]: [] }], 'x-amazon-apigateway-integration': integration } })

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
}

/** The event the echo function received, from an aws_proxy answer. */
function echoedEvent(body: Buffer): Record<string, any> {
  return (JSON.parse(body.toString('utf8')) as { event: Record<string, any> }).event
}

t.test('lambda authorizers', async (t) => {
  const dir = t.testdir({})
  const files = { plain: join(dir, 'plain.txt'), cached: join(dir, 'cached.txt'), short: join(dir, 'short.txt'), request: join(dir, 'request.txt'), requestCached: join(dir, 'request-cached.txt') }
  for (const f of Object.values(files)) writeFileSync(f, '')

  // A loopback Lambda Invoke endpoint, as remote functions are reached (functions/remote.ts).
  const remoteCalls: { path: string; event: Record<string, unknown> }[] = []
  const invokeApi = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>
      remoteCalls.push({ path: req.url ?? '', event })
      if (event.authorizationToken === 'unauthorized') {
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' })
        res.end(JSON.stringify({ errorType: 'Error', errorMessage: 'Unauthorized', trace: [] }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ principalId: 'remote-user', policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] }, context: { via: 'invoke-api' } }))
    })
  })
  invokeApi.listen(0, '127.0.0.1')
  await once(invokeApi, 'listening')
  t.teardown(() => new Promise<void>((resolve) => invokeApi.close(() => resolve())))
  const invokeUrl = `http://127.0.0.1:${(invokeApi.address() as AddressInfo).port}`

  const echo = await startEchoBackend()
  t.teardown(() => echo.close())

  const api = {
    openapi: '3.0.1',
    info: { title: 'auth', version: '1' },
    components: {
      securitySchemes: {
        plain: tokenScheme('plainAuth', 'Authorization', { authorizerResultTtlInSeconds: 0, identityValidationExpression: '[a-z-]+' }),
        cached: tokenScheme('cachedAuth', 'X-Token', { identitySource: 'method.request.header.X-Token' }),
        short: tokenScheme('shortAuth', 'X-Token', { authorizerResultTtlInSeconds: 1 }),
        slow: tokenScheme('slowAuth', 'Authorization', { authorizerResultTtlInSeconds: 0 }),
        remote: tokenScheme('remoteAuth', 'Authorization', { authorizerResultTtlInSeconds: 0 }),
        req: {
          type: 'apiKey', name: 'x-id', in: 'header',
          'x-amazon-apigateway-authtype': 'custom',
          'x-amazon-apigateway-authorizer': { type: 'request', authorizerUri: arn('requestAuth'), identitySource: 'method.request.header.X-Id, method.request.querystring.q', authorizerResultTtlInSeconds: 0 },
        },
        reqCached: {
          type: 'apiKey', name: 'x-id', in: 'header',
          'x-amazon-apigateway-authtype': 'custom',
          'x-amazon-apigateway-authorizer': { type: 'request', authorizerUri: arn('requestCachedAuth'), identitySource: 'method.request.header.X-Id, method.request.querystring.q, stageVariables.tier' },
        },
      },
    },
    paths: {
      '/pets': get('plain'),
      '/other': get('plain'),
      '/mapped': get('plain', {
        type: 'http', httpMethod: 'POST', uri: `${echo.url}/mapped`,
        requestParameters: { 'integration.request.header.x-principal': 'context.authorizer.principalId', 'integration.request.header.x-string': 'context.authorizer.stringKey' },
        requestTemplates: { 'application/json': '{"principal":"$context.authorizer.principalId","number":"$context.authorizer.numberKey","bool":"$context.authorizer.booleanKey"}' },
        passthroughBehavior: 'when_no_templates',
        responses: { default: { statusCode: '200' } },
      }),
      '/cached/pets': get('cached'),
      '/cached/other': get('cached'),
      '/short': get('short'),
      '/slow': get('slow'),
      '/remote': get('remote'),
      '/req/{id}': get('req'),
      '/reqc/{id}': get('reqCached'),
    },
  }
  writeFileSync(join(dir, 'api.json'), JSON.stringify(api))
  // The same API with the denial customized: gateway responses see $context.authorizer.* too.
  writeFileSync(join(dir, 'custom.json'), JSON.stringify({
    ...api,
    'x-amazon-apigateway-gateway-responses': {
      ACCESS_DENIED: { responseTemplates: { 'application/json': '{"why":"$context.authorizer.why","principal":"$context.authorizer.principalId","msg":$context.error.messageString}' } },
      AUTHORIZER_CONFIGURATION_ERROR: { statusCode: '503', responseTemplates: { 'application/json': '{"custom":"authorizer failed"}' } },
    },
  }))
  const env = (file: string) => ({ COUNT_FILE: file })
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 2,
    apis: [
      { id: 'authapi', file: 'api.json', stages: { prod: { variables: { tier: 'gold' } } } },
      { id: 'customapi', file: 'custom.json', basePath: 'custom', stages: { prod: { variables: {} } } },
    ],
    functions: {
      echo: { handler: `${BEHAVIORS}#echo` },
      plainAuth: { handler: `${AUTHORIZERS}#token`, environment: env(files.plain) },
      cachedAuth: { handler: `${AUTHORIZERS}#token`, environment: env(files.cached) },
      shortAuth: { handler: `${AUTHORIZERS}#token`, environment: env(files.short) },
      slowAuth: { handler: `${AUTHORIZERS}#token`, timeoutMs: 300 },
      requestAuth: { handler: `${AUTHORIZERS}#request`, environment: env(files.request) },
      requestCachedAuth: { handler: `${AUTHORIZERS}#request`, environment: env(files.requestCached) },
      remoteAuth: { url: invokeUrl },
    },
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/prod`

  t.test('TOKEN: Allow runs the integration with requestContext.authorizer as API Gateway sends it', async (t) => {
    const res = await request(`${base}/pets`, { headers: { authorization: 'allow' } })
    t.equal(res.status, 200)
    const event = echoedEvent(res.body)
    const authorizer = event.requestContext.authorizer as Record<string, unknown>
    t.equal(typeof authorizer.integrationLatency, 'number')
    // The context map's values arrive stringified; principalId beside them.
    t.strictSame({ ...authorizer, integrationLatency: 0 }, { stringKey: 'value', numberKey: '1', booleanKey: 'true', arn: `${ARN_PREFIX}/GET/pets`, principalId: 'user-1', integrationLatency: 0 })
  })

  t.test('TOKEN: the event is {type, authorizationToken, methodArn} with access.region/accountId in methodArn', async (t) => {
    const res = await request(`${base}/other`, { headers: { authorization: 'allow' } })
    t.equal(res.status, 200)
    // The authorizer echoed its methodArn through the context: the request's own resource path.
    t.equal(echoedEvent(res.body).requestContext.authorizer.arn, `${ARN_PREFIX}/GET/other`)
    const remote = await request(`${base}/remote`, { headers: { authorization: 'tok-123' } })
    t.equal(remote.status, 200)
    const call = remoteCalls.at(-1)!
    t.strictSame(call.event, { type: 'TOKEN', authorizationToken: 'tok-123', methodArn: `${ARN_PREFIX}/GET/remote` })
  })

  t.test('$context.authorizer.* in templates and context.authorizer.* in parameter mappings', async (t) => {
    const res = await request(`${base}/mapped`, { headers: { authorization: 'allow', 'content-type': 'application/json' } })
    t.equal(res.status, 200)
    const echoed = res.json() as { headers: Record<string, string>; body: string }
    t.equal(echoed.headers['x-principal'], 'user-1')
    t.equal(echoed.headers['x-string'], 'value')
    t.strictSame(JSON.parse(echoed.body), { principal: 'user-1', number: '1', bool: 'true' })
  })

  t.test('a number principalId is handed on as its text', async (t) => {
    const res = await request(`${base}/pets`, { headers: { authorization: 'numeric-principal' } })
    t.equal(res.status, 200)
    t.equal(echoedEvent(res.body).requestContext.authorizer.principalId, '42')
  })

  t.test('a missing identity source is 401 Unauthorized without calling the function', async (t) => {
    const before = lines(files.plain).length
    for (const headers of [{}, { authorization: '' }] as Array<Record<string, string>>) {
      const res = await request(`${base}/pets`, { headers })
      t.equal(res.status, 401)
      t.equal(res.headers['x-amzn-errortype'], 'UnauthorizedException')
      t.equal(res.body.toString(), '{"message":"Unauthorized"}')
    }
    t.equal(lines(files.plain).length, before)
  })

  t.test('a token failing identityValidationExpression is 401 without calling the function', async (t) => {
    const before = lines(files.plain).length
    const res = await request(`${base}/pets`, { headers: { authorization: 'NOT-lower' } })
    t.equal(res.status, 401)
    t.equal(res.headers['x-amzn-errortype'], 'UnauthorizedException')
    t.equal(res.body.toString(), '{"message":"Unauthorized"}')
    t.equal(lines(files.plain).length, before)
  })

  t.test('the function failing with "Unauthorized" is 401', async (t) => {
    const before = lines(files.plain).length
    const res = await request(`${base}/pets`, { headers: { authorization: 'unauthorized' } })
    t.equal(res.status, 401)
    t.equal(res.headers['x-amzn-errortype'], 'UnauthorizedException')
    t.equal(res.body.toString(), '{"message":"Unauthorized"}')
    t.equal(lines(files.plain).length, before + 1)
    const remote = await request(`${base}/remote`, { headers: { authorization: 'unauthorized' } })
    t.equal(remote.status, 401)
    t.equal(remote.body.toString(), '{"message":"Unauthorized"}')
  })

  t.test('an explicit Deny is 403 "… with an explicit deny"', async (t) => {
    for (const token of ['deny', 'allow-and-deny']) {
      const res = await request(`${base}/pets`, { headers: { authorization: token } })
      t.equal(res.status, 403, token)
      t.equal(res.headers['x-amzn-errortype'], 'AccessDeniedException')
      t.equal(res.body.toString(), '{"Message":"User is not authorized to access this resource with an explicit deny"}')
    }
  })

  t.test('no matching Allow is 403 "User is not authorized to access this resource"', async (t) => {
    const res = await request(`${base}/pets`, { headers: { authorization: 'elsewhere' } })
    t.equal(res.status, 403)
    t.equal(res.headers['x-amzn-errortype'], 'AccessDeniedException')
    t.equal(res.body.toString(), '{"Message":"User is not authorized to access this resource"}')
  })

  t.test('another error, a malformed result or a timeout is 500 AUTHORIZER_CONFIGURATION_ERROR', async (t) => {
    for (const token of ['boom', 'no-policy', 'bad-policy', 'object-context', 'not-json-object']) {
      const res = await request(`${base}/pets`, { headers: { authorization: token } })
      t.equal(res.status, 500, token)
      t.equal(res.headers['x-amzn-errortype'], 'AuthorizerConfigurationException', token)
      t.equal(res.body.toString(), '{"message": null}', token)
    }
    const started = Date.now()
    const res = await request(`${base}/slow`, { headers: { authorization: 'slow' } })
    t.equal(res.status, 500)
    t.equal(res.headers['x-amzn-errortype'], 'AuthorizerConfigurationException')
    t.equal(res.body.toString(), '{"message": null}')
    t.ok(Date.now() - started < 5_000, 'answered after the function timeout, not hung')
  })

  t.test('each outcome goes through its gateway response, which the API may customize', async (t) => {
    const denied = await request(`${gw.url}/custom/prod/pets`, { headers: { authorization: 'deny' } })
    t.equal(denied.status, 403)
    t.equal(denied.headers['x-amzn-errortype'], 'AccessDeniedException')
    t.strictSame(denied.json(), { why: 'denied', principal: 'user-4', msg: 'User is not authorized to access this resource with an explicit deny' })
    const failed = await request(`${gw.url}/custom/prod/pets`, { headers: { authorization: 'boom' } })
    t.equal(failed.status, 503)
    t.equal(failed.headers['x-amzn-errortype'], 'AuthorizerConfigurationException')
    t.strictSame(failed.json(), { custom: 'authorizer failed' })
  })

  t.test('REQUEST: the event as API Gateway sends it, identity sources required', async (t) => {
    const res = await request(`${base}/req/7?q=a&q=b&r=1`, { headers: { 'x-id': 'abc', 'x-multi': 'one' } })
    t.equal(res.status, 200)
    const proxied = echoedEvent(res.body)
    t.equal(proxied.requestContext.authorizer.principalId, 'req-user')
    const event = JSON.parse(proxied.requestContext.authorizer.event as string) as Record<string, any>
    t.strictSame(Object.keys(event), ['type', 'methodArn', 'resource', 'path', 'httpMethod', 'headers', 'multiValueHeaders', 'queryStringParameters', 'multiValueQueryStringParameters', 'pathParameters', 'stageVariables', 'requestContext'])
    t.equal(event.type, 'REQUEST')
    t.equal(event.methodArn, `${ARN_PREFIX}/GET/req/7`)
    t.equal(event.resource, '/req/{id}')
    t.equal(event.path, '/req/7')
    t.equal(event.httpMethod, 'GET')
    t.equal(event.headers['x-id'], 'abc')
    t.strictSame(event.multiValueHeaders['x-multi'], ['one'])
    t.strictSame(event.queryStringParameters, { q: 'b', r: '1' })
    t.strictSame(event.multiValueQueryStringParameters, { q: ['a', 'b'], r: ['1'] })
    t.strictSame(event.pathParameters, { id: '7' })
    t.strictSame(event.stageVariables, { tier: 'gold' })
    t.match(event.requestContext, { resourcePath: '/req/{id}', httpMethod: 'GET', stage: 'prod', apiId: 'authapi', accountId: '123456789012', identity: { sourceIp: '127.0.0.1' } })

    const before = lines(files.request).length
    for (const [url, headers] of [[`${base}/req/7?q=a`, {}], [`${base}/req/7`, { 'x-id': 'abc' }], [`${base}/req/7?q=`, { 'x-id': 'abc' }]] as const) {
      const r = await request(url, { headers })
      t.equal(r.status, 401, url)
      t.equal(r.body.toString(), '{"message":"Unauthorized"}')
    }
    t.equal(lines(files.request).length, before, 'not called for a missing or empty identity source')
  })

  t.test('REQUEST with caching: keyed by every identity source\'s value', async (t) => {
    const call = (id: string, q: string) => request(`${base}/reqc/${id}?q=${q}`, { headers: { 'x-id': 'abc' } })
    t.equal((await call('1', 'a')).status, 200)
    // Another path with the same identity: the cached policy (Allow on /reqc/1 only) decides.
    t.equal((await call('2', 'a')).status, 403)
    t.equal(lines(files.requestCached).length, 1)
    t.equal((await call('1', 'b')).status, 200)
    t.equal(lines(files.requestCached).length, 2, 'another query value is another key')
    t.equal((await call('1', 'b')).status, 200)
    t.equal(lines(files.requestCached).length, 2)
  })

  t.test('authorizerResultTtlInSeconds 0: every request calls the function', async (t) => {
    const before = lines(files.plain).filter((l) => l === 'allow').length
    for (let i = 0; i < 3; i++) t.equal((await request(`${base}/pets`, { headers: { authorization: 'allow' } })).status, 200)
    t.equal(lines(files.plain).filter((l) => l === 'allow').length, before + 3)
  })

  t.test('the cache is one for both workers: one call per token within the TTL', async (t) => {
    // Many requests at once, spread over connections and so over both workers.
    const burst = await Promise.all(Array.from({ length: 4 }, () => request(`${base}/cached/pets`, { headers: { 'x-token': 'allow-get' } })))
    t.strictSame(burst.map((r) => r.status), [200, 200, 200, 200])
    const afterFirst = lines(files.cached).length
    // Concurrent first requests may each miss; from then on every answer is cached.
    t.ok(afterFirst >= 1 && afterFirst <= 4)
    // Waves of requests until both workers have answered some: x-amz-apigw-id starts with a
    // prefix of the thread that made it (util/ids.ts).
    const threads = new Set<string>()
    const statuses = new Set<number>()
    let last: Buffer | null = null
    for (let wave = 0; wave < 40 && (threads.size < 2 || wave < 4); wave++) {
      const more = await Promise.all(Array.from({ length: 6 }, (_, i) => request(`${base}/cached/${i % 2 === 0 ? 'pets' : 'other'}`, { headers: { 'x-token': 'allow-get' } })))
      for (const r of more) {
        statuses.add(r.status)
        threads.add(String(r.headers['x-amz-apigw-id']).slice(0, 7))
      }
      last = more[1]!.body
    }
    t.equal(threads.size, 2, 'both workers answered')
    t.strictSame(statuses, new Set([200]))
    t.equal(lines(files.cached).length, afterFirst, 'no call for the cached token, on either worker, for either path')
    // The context of a cached answer is the cached result's.
    t.equal(echoedEvent(last!).requestContext.authorizer.principalId, 'user-2')
  })

  t.test('the cached policy is evaluated against each request\'s own methodArn', async (t) => {
    const before = lines(files.cached).length
    const allowed = await request(`${base}/cached/pets`, { headers: { 'x-token': 'pets-only' } })
    t.equal(allowed.status, 200)
    for (let i = 0; i < 4; i++) {
      const denied = await request(`${base}/cached/other`, { headers: { 'x-token': 'pets-only' } })
      t.equal(denied.status, 403)
      t.equal(denied.body.toString(), '{"Message":"User is not authorized to access this resource"}')
      t.equal((await request(`${base}/cached/pets`, { headers: { 'x-token': 'pets-only' } })).status, 200)
    }
    t.equal(lines(files.cached).length, before + 1, 'one call: the other methodArn is re-evaluated from the cached policy')
    // A denial is cached too.
    t.equal((await request(`${base}/cached/pets`, { headers: { 'x-token': 'deny' } })).status, 403)
    t.equal((await request(`${base}/cached/pets`, { headers: { 'x-token': 'deny' } })).status, 403)
    t.equal(lines(files.cached).length, before + 2)
  })

  t.test('failures are not cached: the next request calls the function again', async (t) => {
    const before = lines(files.cached).length
    t.equal((await request(`${base}/cached/pets`, { headers: { 'x-token': 'boom' } })).status, 500)
    t.equal((await request(`${base}/cached/pets`, { headers: { 'x-token': 'boom' } })).status, 500)
    t.equal((await request(`${base}/cached/pets`, { headers: { 'x-token': 'unauthorized' } })).status, 401)
    t.equal((await request(`${base}/cached/pets`, { headers: { 'x-token': 'unauthorized' } })).status, 401)
    t.equal(lines(files.cached).length, before + 4)
  })

  t.test('the TTL is honoured: after it the function is called again', async (t) => {
    t.equal((await request(`${base}/short`, { headers: { 'x-token': 'allow' } })).status, 200)
    t.equal((await request(`${base}/short`, { headers: { 'x-token': 'allow' } })).status, 200)
    t.equal(lines(files.short).length, 1)
    await sleep(1_300)
    t.equal((await request(`${base}/short`, { headers: { 'x-token': 'allow' } })).status, 200)
    t.equal(lines(files.short).length, 2)
  })
})
