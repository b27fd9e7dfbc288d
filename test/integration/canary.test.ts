// Canary release (a stage's canarySettings), driven as a client. Sources: the developer
// guide's "Set up an API Gateway canary release deployment" (traffic split between the stage
// and the canary by percentTraffic; the canary's stage variables override the stage's; canary
// requests get their own metrics, the stage name "{stage}/Canary" in CloudWatch, and are
// logged to the stage's logs too) and "Variables for access logging" / "Variables for data
// transformations" ($context.isCanaryRequest: true or false, "only available if you enabled a
// canary"; $context.stage the stage's name; $context.deploymentId the deployment serving it).
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Pool } from 'undici'
import { startGateway, startEchoBackend, writeApi, UNTHROTTLED, request, until, waitForReady, adminUrl, mockIntegration as mock, apiDoc as api, type Gateway } from '../helpers/index.js'

t.test('the canary\'s stage variables, $context, access log and metrics', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  // One definition for both releases: only the stage variables tell them apart.
  const template = '{"stage": "$context.stage", "canary": "$context.isCanaryRequest", "deployment": "$context.deploymentId", "version": "$stageVariables.version"}'
  writeApi(t, api('vars', {
    '/echo': {
      get: {
        'x-amazon-apigateway-integration': {
          type: 'http',
          httpMethod: 'POST',
          uri: '${stageVariables.backend}/${stageVariables.version}/echo',
          requestParameters: { 'integration.request.header.x-canary': 'context.isCanaryRequest' },
          requestTemplates: { 'application/json': template },
          responses: { default: { statusCode: '200' } },
        },
      },
    },
  }), 'api.json')
  writeApi(t, api('vars-v2', {
    '/echo': {
      get: {
        'x-amazon-apigateway-integration': {
          type: 'http',
          httpMethod: 'POST',
          uri: '${stageVariables.backend}/${stageVariables.version}/echo-v2',
          requestTemplates: { 'application/json': template },
          responses: { default: { statusCode: '200' } },
        },
      },
    },
  }), 'api-v2.json')
  const format = '$context.requestId $context.stage $context.isCanaryRequest $context.deploymentId'
  const config = writeApi(t, {
    workers: 1,
    admin: { host: '127.0.0.1', port: 0 },
    apis: [{
      id: 'vars',
      file: 'api.json',
      stages: {
        prod: {
          variables: { backend: echo.url, version: 'v1' },
          accessLogSettings: { format, destination: 'access.log' },
          methodSettings: { '*/*': { metricsEnabled: true } },
          canarySettings: { percentTraffic: 50, file: 'api.json', stageVariableOverrides: { version: 'v2' } },
        },
        beta: {
          variables: { backend: echo.url, version: 'v1' },
          canarySettings: { percentTraffic: 100, file: 'api-v2.json', stageVariableOverrides: { version: 'v3' }, useStageCache: true },
        },
        dev: { variables: { backend: echo.url, version: 'v1' }, accessLogSettings: { format, destination: 'access-dev.log' } },
      },
    }],
  }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(() => gw.stop())

  const seen = new Map<string, { path: string; header: string | undefined; body: Record<string, string>; id: string }[]>()
  for (let i = 0; i < 40; i++) {
    const res = await request(`${gw.url}/prod/echo`)
    t.equal(res.status, 200)
    const e = res.json()
    const key = e.path as string
    seen.set(key, [...(seen.get(key) ?? []), { path: e.path, header: e.headers['x-canary'], body: JSON.parse(e.body), id: String(res.headers['x-amzn-requestid']) }])
  }
  t.strictSame([...seen.keys()].sort(), ['/v1/echo', '/v2/echo'], 'the overridden variable reaches the backend URI of canary requests only')
  t.equal(seen.get('/v2/echo')!.length, 20, 'a single worker splits 50 % exactly')
  const stageReq = seen.get('/v1/echo')![0]!
  const canaryReq = seen.get('/v2/echo')![0]!
  // $context.stage stays the stage's name on canary requests; isCanaryRequest tells them apart.
  t.match(stageReq.body, { stage: 'prod', canary: 'false', version: 'v1' })
  t.match(canaryReq.body, { stage: 'prod', canary: 'true', version: 'v2' })
  t.equal(stageReq.header, 'false', 'context.isCanaryRequest as a request parameter: false')
  t.equal(canaryReq.header, 'true', 'and true on canary requests')
  t.equal(canaryReq.body.deployment, stageReq.body.deployment, 'the same definition is the same deployment')
  t.match(stageReq.body.deployment, /^[0-9a-z]{6}$/)

  // A canary with its own definition: its resources, its deployment id.
  const beta = await request(`${gw.url}/beta/echo`)
  const b = beta.json()
  t.equal(b.path, '/v3/echo-v2', 'the canary definition\'s URI with the canary\'s variables')
  t.match(JSON.parse(b.body), { stage: 'beta', canary: 'true', version: 'v3' })
  t.not(JSON.parse(b.body).deployment, stageReq.body.deployment, 'another definition, another $context.deploymentId')

  // Without canarySettings the variable is absent: empty in templates, "-" in access logs.
  const dev = await request(`${gw.url}/dev/echo`)
  const d = dev.json()
  t.match(JSON.parse(d.body), { stage: 'dev', canary: '', version: 'v1' })
  t.equal(d.headers['x-canary'], undefined, 'an absent context variable maps no header')

  // The access log: canary requests are logged with the stage's (AWS writes them to the stage's log group too).
  const log = join(t.testdirName, 'access.log')
  const lines = await until(() => {
    try {
      const l = readFileSync(log, 'utf8').split('\n').filter((x) => x !== '')
      return l.length === 40 ? l : null
    } catch {
      return null
    }
  }, 'forty access log lines')
  t.ok(lines.includes(`${stageReq.id} prod false ${stageReq.body.deployment}`), 'a stage request\'s line')
  t.ok(lines.includes(`${canaryReq.id} prod true ${canaryReq.body.deployment}`), 'a canary request\'s line')
  const devLog = join(t.testdirName, 'access-dev.log')
  const devLine = await until(() => {
    try {
      return readFileSync(devLog, 'utf8').trim()
    } catch {
      return null
    }
  }, 'the dev access log line')
  t.match(devLine, / dev - [0-9a-z]{6}$/, 'isCanaryRequest is absent on a stage without a canary')

  // Metrics: canary requests under Stage "prod/Canary", the others under "prod".
  const admin = await adminUrl(gw)
  const metrics = (await request(`${admin}/metrics`)).text
  t.match(metrics, /^backplane_count_total\{ApiName="vars",Stage="prod",Resource="",Method=""\} 20$/m)
  t.match(metrics, /^backplane_count_total\{ApiName="vars",Stage="prod\/Canary",Resource="",Method=""\} 20$/m)
  t.match(metrics, /^backplane_count_total\{ApiName="vars",Stage="prod\/Canary",Resource="\/echo",Method="GET"\} 20$/m, 'detailed metrics of the canary too')
})

/** Keep-alive loops of GETs until stopped; every answer kept with the time it arrived. */
function load(gw: Gateway, path: string, connections: number) {
  const pool = new Pool(gw.url, { connections, headersTimeout: 30_000, bodyTimeout: 30_000 })
  const answers: { at: number; status: number; body: string }[] = []
  const errors: string[] = []
  let stopped = false
  let closed: Promise<void> | null = null
  const done = Promise.all(Array.from({ length: connections }, async () => {
    while (!stopped) {
      try {
        const res = await pool.request({ method: 'GET', path })
        answers.push({ status: res.statusCode, body: await res.body.text(), at: Date.now() })
      } catch (err) {
        errors.push((err as Error).message)
      }
    }
  }))
  return {
    answers,
    errors,
    stop(): Promise<void> {
      stopped = true
      closed ??= done.then(() => pool.close())
      return closed
    },
  }
}

t.test('promoting the canary: an edit of the config and SIGHUP, under load, drops nothing', async (t) => {
  writeApi(t, api('promote', { '/v': { get: { 'x-amazon-apigateway-integration': mock('"v1"') } } }), 'v1.json')
  writeApi(t, api('promote', { '/v': { get: { 'x-amazon-apigateway-integration': mock('"v2"') } } }), 'v2.json')
  const throttling = UNTHROTTLED
  const gateway = (stage: object) => ({ workers: 2, admin: { host: '127.0.0.1', port: 0 }, throttling, apis: [{ id: 'promote', file: 'v1.json', stages: { prod: stage } }] })
  const config = writeApi(t, gateway({ canarySettings: { percentTraffic: 20, file: 'v2.json' } }), 'gateway.json')
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(() => gw.stop())
  await waitForReady(gw)

  const l = load(gw, '/prod/v', 8)
  t.teardown(() => l.stop())
  await until(() => l.answers.length >= 500, 'load under way')
  // Step 1: more traffic to the canary.
  writeFileSync(config, JSON.stringify(gateway({ canarySettings: { percentTraffic: 60, file: 'v2.json' } })))
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 1\n/.test(gw.output()), 'the first reload')
  const mark1 = l.answers.length
  await until(() => l.answers.length >= mark1 + 500, 'load after the first reload')
  // Step 2, the promotion: the stage takes the canary's definition, the canary goes.
  writeFileSync(config, JSON.stringify({ workers: 2, admin: { host: '127.0.0.1', port: 0 }, throttling, apis: [{ id: 'promote', file: 'v2.json', stages: { prod: {} } }] }))
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 2\n/.test(gw.output()), 'the promotion')
  const promoted = Date.now()
  // Counted by time, not by number: on a fast machine 500 answers come in under 100 ms.
  const answeredAfter = () => l.answers.filter((a) => a.at > promoted + 100).length
  await until(() => answeredAfter() > 500, 'load after the promotion')
  await l.stop()

  t.strictSame(l.errors, [], 'no request failed')
  t.ok(l.answers.every((a) => a.status === 200), 'every request answered 200')
  const share = (from: number, to: number) => l.answers.slice(from, to).filter((a) => a.body === '"v2"').length / (to - from)
  const before = share(0, 500)
  t.ok(before > 0.1 && before < 0.3, `20 % to the canary before (${before})`)
  const during = share(mark1 + 100, mark1 + 500)
  t.ok(during > 0.45 && during < 0.75, `60 % after the first reload (${during})`)
  const after = l.answers.filter((a) => a.at > promoted + 100)
  t.ok(after.length > 100 && after.every((a) => a.body === '"v2"'), `only v2 once promoted (${after.length} answers)`)
  t.notMatch(gw.output(), /reload refused/)
})

t.test('a broken canary is refused on reload with file, pointer and reason; the running canary stays', async (t) => {
  writeApi(t, api('broken', { '/v': { get: { 'x-amazon-apigateway-integration': mock('"v1"') } } }), 'v1.json')
  writeApi(t, api('broken', { '/v': { get: { 'x-amazon-apigateway-integration': mock('"v2"') } } }), 'v2.json')
  const config = writeApi(t, { workers: 1, apis: [{ id: 'broken', file: 'v1.json', stages: { prod: { canarySettings: { percentTraffic: 100, file: 'v2.json' } } } }] }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(() => gw.stop())
  t.equal((await request(`${gw.url}/prod/v`)).text, '"v2"')
  const v3 = writeApi(t, api('broken', { '/v': { get: { 'x-amazon-apigateway-integration': { type: 'nope' } } } }), 'v3.json')
  writeFileSync(config, JSON.stringify({ workers: 1, apis: [{ id: 'broken', file: 'v1.json', stages: { prod: { canarySettings: { percentTraffic: 100, file: 'v3.json' } } } }] }))
  gw.signal('SIGHUP')
  await until(() => /reload refused/.test(gw.output()), 'the refusal')
  t.ok(gw.output().includes(`${v3}: /paths/~1v/get/x-amazon-apigateway-integration/type: unknown integration type "nope"`), 'the canary file\'s problem names that file')
  t.equal((await request(`${gw.url}/prod/v`)).text, '"v2"', 'the running canary stays')
})
