// Monitoring, driven as a client: access logs per stage (formats of the developer guide's
// "Set up CloudWatch logging" page, SIGUSR1 reopening for logrotate), execution logs in
// API Gateway's wording, the admin listener's /metrics, /health and /ready.
import t from 'tap'
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { startGateway, startEchoBackend, writeApi, request, until, adminUrl, mockIntegration, REPO_ROOT as REPO } from '../helpers/index.js'

const mock = mockIntegration()
const api = (title: string) => ({
  openapi: '3.0.1',
  info: { title, version: '1' },
  paths: {
    '/mock': { get: { 'x-amazon-apigateway-integration': mock } },
    '/echo': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: '${stageVariables.backend}/echoed' } } },
    '/refused': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: 'http://127.0.0.1:1/nothing' } } },
  },
})

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [])

t.test('access log (CLF), execution logs at INFO with data trace, SIGUSR1 reopens the file', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  writeApi(t, api('obs'), 'api.json')
  const config = writeApi(t, {
    admin: { host: '127.0.0.1', port: 0 },
    apis: [{
      id: 'obs',
      file: 'api.json',
      stages: {
        prod: {
          variables: { backend: echo.url },
          accessLogSettings: { format: 'CLF', destination: 'access.log' },
          methodSettings: {
            '*/*': { loggingLevel: 'INFO', dataTraceEnabled: true, metricsEnabled: true },
            '/mock/GET': { loggingLevel: 'OFF' },
          },
        },
      },
    }],
  }, 'gateway.json')
  const log = join(t.testdirName, 'access.log')
  const gw = await startGateway({ args: ['--config', config, '--workers', '1'] })
  t.teardown(() => gw.stop())

  const ok = await request(`${gw.url}/prod/echo?x=1`, { headers: { 'user-agent': 'obs-test', authorization: 'Bearer s3cr3t-token' } })
  t.equal(ok.status, 200)
  const refused = await request(`${gw.url}/prod/refused`)
  t.equal(refused.status, 500)
  const quiet = await request(`${gw.url}/prod/mock`)
  t.equal(quiet.status, 200)
  const ids = [ok, refused, quiet].map((r) => [r.headers['x-amzn-requestid'], r.headers['x-amz-apigw-id']] as [string, string])

  await until(() => lines(log).length === 3, 'three access log lines')
  const [a, b, c] = lines(log)
  // The console's CLF example: sourceIp caller user [requestTime]"httpMethod resourcePath protocol" status responseLength requestId extendedRequestId;
  // caller and user are absent values, printed "-" as API Gateway does.
  const clf = (method: string, resource: string, status: number, length: number, [id, ext]: [string, string]) =>
    new RegExp(`^127\\.0\\.0\\.1 - - \\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000\\]"${method} ${resource} HTTP/1\\.1" ${status} ${length} ${id} ${ext.replace(/[+=/]/g, (ch) => '\\' + ch)}$`)
  t.match(a, clf('GET', '/echo', 200, ok.body.length, ids[0]!))
  t.match(b, clf('GET', '/refused', 500, refused.body.length, ids[1]!))
  t.match(c, clf('GET', '/mock', 200, quiet.body.length, ids[2]!))

  const out = () => gw.output()
  const okId = ids[0]![0]
  await until(() => out().includes(`(${okId}) Method completed with status: 200`), 'the execution log of the proxied request')
  // Lines are written in batches per worker (observability/log-writer.ts): wait for the refused request's too.
  await until(() => out().includes(`(${ids[1]![0]}) Method completed with status: 500`), 'the execution log of the refused request')
  const mine = (id: string) => out().split('\n').filter((l) => l.startsWith(`(${id}) `)).map((l) => l.slice(id.length + 3))
  const traced = mine(okId)
  // Wording of API Gateway's execution log (its test-invoke log, LocalStack's AWS-validated snapshots).
  t.match(traced, [
    /^Extended Request Id: /,
    `Starting execution for request: ${okId}`,
    'HTTP Method: GET, Resource Path: /echo',
    'Method request path: {}',
    'Method request query string: {x=1}',
    /^Method request headers: \{.*authorization=\*\*\*\*/,
    'Method request body before transformations: ',
    `Endpoint request URI: ${echo.url}/echoed?x=1`,
    /^Endpoint request headers: \{/,
    'Endpoint request body after transformations: ',
    `Sending request to ${echo.url}/echoed?x=1`,
    /^Received response\. Status: 200, Integration latency: \d+ ms$/,
    /^Endpoint response headers: \{/,
    /^Endpoint response body before transformations: \{"method":"GET"/,
    /^Method response body after transformations: \{"method":"GET"/,
    /^Method response headers: \{/,
    'Successfully completed execution',
    'Method completed with status: 200',
  ])
  // Bodies are logged as they are (the echo backend puts the request headers in its body), headers never carry a credential.
  t.strictSame(traced.filter((l) => l.includes('s3cr3t-token') && !/^(Endpoint response body before|Method response body after) transformations: /.test(l)), [], 'no credential reaches a header line')
  const failed = mine(ids[1]![0])
  t.ok(failed.some((l) => /^Execution failed due to configuration error: ECONNREFUSED/.test(l)), 'a refused backend says why')
  t.ok(failed.includes('Method completed with status: 500'))
  t.strictSame(mine(ids[2]![0]), [], 'loggingLevel OFF for /mock/GET overrides */*')

  // Detailed metrics (metricsEnabled) add the Resource and Method dimensions.
  const metrics = await request(`${await adminUrl(gw)}/metrics`)
  t.match(metrics.text, /^backplane_count_total\{ApiName="obs",Stage="prod",Resource="\/echo",Method="GET"\} 1$/m)
  t.match(metrics.text, /^backplane_count_total\{ApiName="obs",Stage="prod",Resource="",Method=""\} 3$/m)
  t.match(metrics.text, /^backplane_5xx_error_total\{ApiName="obs",Stage="prod",Resource="\/refused",Method="GET"\} 1$/m)

  // logrotate: move the file, SIGUSR1, the next line goes to a new file by the old name.
  renameSync(log, log + '.1')
  gw.signal('SIGUSR1')
  await new Promise((r) => setTimeout(r, 200))
  const after = await request(`${gw.url}/prod/mock`)
  await until(() => lines(log).length === 1, 'a line in the reopened file')
  t.match(lines(log)[0], clf('GET', '/mock', 200, after.body.length, [after.headers['x-amzn-requestid'] as string, after.headers['x-amz-apigw-id'] as string]))
  t.equal(lines(log + '.1').length, 3, 'the rotated file keeps its lines')
})

t.test('JSON access log to stdout with integration and error variables', async (t) => {
  writeApi(t, api('obs'), 'api.json')
  const format = '{"requestId":"$context.requestId","status":$context.status,"integrationStatus":"$context.integration.status","latency":"$context.integrationLatency","error":"$context.error.responseType","msg":"$context.error.message","apiKeyId":"$context.identity.apiKeyId","principal":"$context.authorizer.principalId","claim":"$context.authorizer.claims.sub"}'
  const config = writeApi(t, {
    apis: [{ id: 'obs', file: 'api.json', stages: { prod: { accessLogSettings: { format, destination: 'stdout' } } } }],
  }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const missing = await request(`${gw.url}/prod/nowhere`)
  t.equal(missing.status, 403)
  const id = missing.headers['x-amzn-requestid'] as string
  const line = await until(() => gw.output().split('\n').find((l) => l.includes(id) && l.startsWith('{')), 'the JSON line')
  // Values the gateway does not have yet (API keys, authorizers) print "-", as absent values do in API Gateway.
  t.strictSame(JSON.parse(line), { requestId: id, status: 403, integrationStatus: '-', latency: '-', error: 'MISSING_AUTHENTICATION_TOKEN', msg: 'Missing Authentication Token', apiKeyId: '-', principal: '-', claim: '-' })
})

t.test('an access log format without $context.requestId or extendedRequestId is refused at load', async (t) => {
  writeApi(t, api('obs'), 'api.json')
  const config = writeApi(t, {
    apis: [{ id: 'obs', file: 'api.json', stages: { prod: { accessLogSettings: { format: '$context.status $context.nosuch', destination: 'stdout' } } } }],
  }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config] }).catch((err: Error) => err)
  t.type(gw, Error)
  const text = String((gw as Error).message)
  t.match(text, /gateway\.json: \/apis\/0\/stages\/prod\/accessLogSettings\/format: the access log format must include at least \$context\.requestId or \$context\.extendedRequestId/)
  t.match(text, /warning: .*gateway\.json: \/apis\/0\/stages\/prod\/accessLogSettings\/format: \$context\.nosuch is not a variable for access logging; it prints "-"/)
})

t.test('with no settings, a 5xx still leaves an ERROR line saying why; a 2xx leaves none', async (t) => {
  const file = writeApi(t, api('plain'))
  const gw = await startGateway({ args: [file, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const bad = await request(`${gw.url}/test/refused`)
  t.equal(bad.status, 500)
  const good = await request(`${gw.url}/test/mock`)
  t.equal(good.status, 200)
  const id = bad.headers['x-amzn-requestid'] as string
  await until(() => gw.output().includes(`(${id}) Method completed with status: 500`), 'the ERROR lines')
  t.match(gw.output(), new RegExp(`\\(${id}\\) Execution failed due to configuration error: ECONNREFUSED`))
  t.notOk(gw.output().includes(`(${good.headers['x-amzn-requestid']})`))
})

t.test('admin listener: /health, /ready once every worker compiled, /metrics merged across workers', async (t) => {
  const file = writeApi(t, api('metered'))
  const gw = await startGateway({ args: [file, '--workers', '2', '--admin-port', '0'] })
  t.teardown(() => gw.stop())
  const admin = await adminUrl(gw)
  t.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/)
  const health = await request(`${admin}/health`)
  t.equal(health.status, 200)
  t.equal(health.text, 'ok\n')
  await until(async () => (await request(`${admin}/ready`)).status === 200, '/ready')

  const answers = await Promise.all([
    ...Array.from({ length: 20 }, () => request(`${gw.url}/test/mock`)),
    ...Array.from({ length: 5 }, () => request(`${gw.url}/test/nope`)),
    request(`${gw.url}/test/refused`),
  ])
  t.strictSame(answers.map((r) => r.status).sort(), [...Array(20).fill(200), 403, 403, 403, 403, 403, 500].sort())
  const res = await request(`${admin}/metrics`)
  t.equal(res.status, 200)
  t.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
  const value = (line: RegExp) => {
    const m = line.exec(res.text)
    return m === null ? null : Number(m[1])
  }
  // Without detailed metrics, API Gateway's stage-level dimensions only (ApiName, Stage).
  const stage = 'ApiName="metered",Stage="test",Resource="",Method=""'
  t.equal(value(new RegExp(`^backplane_count_total\\{${stage}\\} (\\d+)$`, 'm')), 26)
  t.equal(value(new RegExp(`^backplane_4xx_error_total\\{${stage}\\} (\\d+)$`, 'm')), 5)
  t.equal(value(new RegExp(`^backplane_5xx_error_total\\{${stage}\\} (\\d+)$`, 'm')), 1)
  t.equal(value(new RegExp(`^backplane_latency_milliseconds_count\\{${stage}\\} (\\d+)$`, 'm')), 26)
  t.equal(value(new RegExp(`^backplane_latency_milliseconds_bucket\\{${stage},le="\\+Inf"\\} (\\d+)$`, 'm')), 26)
  t.equal(value(new RegExp(`^backplane_integration_latency_milliseconds_count\\{${stage}\\} (\\d+)$`, 'm')), 1)
  t.notMatch(res.text, /Resource="\/mock"/)
  t.equal(value(/^backplane_pool_threads (\d+)$/m), 2)
  t.equal(value(/^backplane_workers_ready (\d+)$/m), 2)
  t.equal(value(/^backplane_log_lines_dropped_total (\d+)$/m), 0)
  t.ok((value(/^process_resident_memory_bytes (\d+)$/m) ?? 0) > 0)
  t.match(res.text, /^# TYPE backplane_latency_milliseconds histogram$/m)

  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 1/.test(gw.output()), 'the reload')
  await until(async () => (await request(`${admin}/ready`)).status === 200, '/ready after the reload')
  const again = await request(`${admin}/metrics`)
  t.match(again.text, /^backplane_reloads_total\{result="ok"\} 1$/m)
  t.match(again.text, new RegExp(`^backplane_count_total\\{${stage}\\} 26$`, 'm'), 'counts survive a reload')
  t.equal((await request(`${admin}/nothing`)).status, 404)
})

t.test('an access log destination that cannot be written costs dropped lines, counted in /metrics', async (t) => {
  writeApi(t, api('obs'), 'api.json')
  const config = writeApi(t, {
    admin: { host: '127.0.0.1', port: 0 },
    apis: [{ id: 'obs', file: 'api.json', stages: { prod: { accessLogSettings: { format: '$context.requestId', destination: 'no-such-dir/access.log' } } } }],
  }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const admin = await adminUrl(gw)
  for (let i = 0; i < 5; i++) t.equal((await request(`${gw.url}/prod/mock`)).status, 200, 'requests are answered all the same')
  await until(async () => /^backplane_log_lines_dropped_total 5$/m.test((await request(`${admin}/metrics`)).text), 'five dropped lines')
})

t.test('access log: $context.authorizer.* from a Lambda TOKEN authorizer', async (t) => {
  const authorizers = join(REPO, 'test', 'fixtures', 'functions', 'authorizers.mjs')
  const fnArn = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:tok/invocations'
  writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'authlog', version: '1' },
    components: { securitySchemes: { tok: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: fnArn, authorizerResultTtlInSeconds: 0 } } } },
    paths: {
      '/mock': { get: { security: [{ tok: [] }], 'x-amazon-apigateway-integration': mock } },
      '/fn': { get: { 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: fnArn.replace('function:tok', 'function:echo') } } },
    },
  }, 'api.json')
  const config = writeApi(t, {
    functions: { tok: { handler: `${authorizers}#token` }, echo: { handler: `${join(REPO, 'test', 'fixtures', 'functions', 'behaviors.mjs')}#echo` } },
    apis: [{ id: 'authlog', file: 'api.json', stages: { prod: { accessLogSettings: { format: '$context.requestId $context.authorizer.principalId $context.authorizer.stringKey $context.authorizer.numberKey $context.authorizer.missing $context.authorizer.claims.sub $context.authorizer.latency $context.integration.status $context.integrationLatency', destination: 'stdout' } } } }],
  }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const res = await request(`${gw.url}/prod/mock`, { headers: { authorization: 'allow' } })
  t.equal(res.status, 200)
  const id = res.headers['x-amzn-requestid'] as string
  const line = await until(() => gw.output().split('\n').find((l) => l.startsWith(id + ' ')), 'the access log line')
  // The context map's values stringified ("Output from an API Gateway Lambda authorizer"); absent keys and Cognito claims print "-".
  // The authorizer's latency is measured; a MOCK integration has no integration status or latency.
  t.match(line, new RegExp(`^${id} user-1 value 1 - - \\d+ - -$`))
  // A Lambda integration: status 200 (Invoke's) and its latency.
  const fn = await request(`${gw.url}/prod/fn`)
  t.equal(fn.status, 200)
  const fnId = fn.headers['x-amzn-requestid'] as string
  const fnLine = await until(() => gw.output().split('\n').find((l) => l.startsWith(fnId + ' ')), 'the Lambda access log line')
  t.match(fnLine, new RegExp(`^${fnId} - - - - - - 200 \\d+$`))
})
