// Which front serves by default (issue 11): the front per worker, one worker per core the
// process may use; `--front main` (or BACKPLANE_FRONT=main) keeps the main-thread front,
// which still serves and reloads. `serve` starts its workers before it loads the
// configuration (pool/prestart.ts): a config naming another worker count gets that count,
// and a refused configuration still ends the process at once.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { execFile } from 'node:child_process'
import { startGateway, writeApi, request, CLI_PATH, REPO_ROOT } from '../helpers/index.js'

/**
 * The listening line waits for the first worker's front: a worker's start (module graph,
 * compile, WASM) is on its path. Bounded wider than startGateway's default for a loaded CI machine.
 */
const START_TIMEOUT_MS = 60_000

const mockApi = (body: string) => ({
  openapi: '3.0.1',
  info: { title: 'default front', version: '1' },
  paths: {
    '/v': {
      get: {
        'x-amazon-apigateway-integration': {
          type: 'mock',
          requestTemplates: { 'application/json': '{"statusCode": 200}' },
          responses: { default: { statusCode: '200', responseTemplates: { 'application/json': body } } },
        },
      },
    },
  },
})

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Listening TCP sockets on 127.0.0.1:`port` (/proc/net/tcp: local address, state 0A = LISTEN). */
function listeners(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => {
    const f = l.trim().split(/\s+/)
    return f[1] === local && f[3] === '0A'
  }).length
}

t.test('without --front: one front per worker, one worker per core', async (t) => {
  const gw = await startGateway({ args: [writeApi(t, mockApi('"v1"')), '--admin-port', '0'], timeoutMs: START_TIMEOUT_MS })
  t.teardown(() => gw.stop())
  await until(() => /backplane admin on http/.test(gw.output()), 'the admin line')
  t.match(gw.output(), /front end: .*, one per worker\n/, 'the front end line names the front per worker')
  const admin = /backplane admin on (http:\/\/\S+)/.exec(gw.output())![1]!
  await until(async () => (await request(`${admin}/ready`)).status === 200, '/ready')
  t.equal(listeners(gw.port), availableParallelism(), 'a listener per core (the test process\'s cores: the gateway inherits its affinity)')
  const res = await request(`${gw.url}/test/v`)
  t.equal(res.status, 200)
  t.equal(res.text, '"v1"')
})

for (const how of ['--front main', 'BACKPLANE_FRONT=main']) {
  t.test(`${how}: the main-thread front serves and reloads`, async (t) => {
    const file = writeApi(t, mockApi('"v1"'))
    const args = how.startsWith('--') ? [file, '--front', 'main', '--workers', '1'] : [file, '--workers', '1']
    const gw = await startGateway({ args, ...(how.startsWith('--') ? {} : { env: { BACKPLANE_FRONT: 'main' } }), timeoutMs: START_TIMEOUT_MS })
    t.teardown(() => gw.stop())
    await until(() => /front end: /.test(gw.output()), 'the front end line')
    t.notMatch(gw.output(), /one per worker/, 'the front end line names no front per worker')
    t.equal(listeners(gw.port), 1, 'one listener: the main thread\'s')
    const res = await request(`${gw.url}/test/v`)
    t.equal(res.status, 200)
    t.equal(res.text, '"v1"')
    writeFileSync(file, JSON.stringify(mockApi('"v2"')))
    gw.signal('SIGHUP')
    await until(() => /reloaded: configuration version 1/.test(gw.output()), 'the reload line')
    const after = await request(`${gw.url}/test/v`)
    t.equal(after.text, '"v2"', 'the reloaded configuration serves')
  })
}

t.test('the config\'s workers, not the count the workers were started with', async (t) => {
  const api = writeApi(t, mockApi('"v1"'))
  const config = writeApi(t, { workers: 3, apis: [{ id: 'a', file: api, stages: { test: {} } }] }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config, '--admin-port', '0'], timeoutMs: START_TIMEOUT_MS })
  t.teardown(() => gw.stop())
  await until(() => /backplane admin on http/.test(gw.output()), 'the admin line')
  const admin = /backplane admin on (http:\/\/\S+)/.exec(gw.output())![1]!
  await until(async () => (await request(`${admin}/ready`)).status === 200, '/ready')
  t.equal(listeners(gw.port), 3, 'three fronts, as the config says')
  t.equal((await request(`${gw.url}/test/v`)).text, '"v1"')
})

t.test('a refused configuration exits 1 at once, its started workers stopped', async (t) => {
  const bad = writeApi(t, { openapi: '3.0.1', info: { title: 'bad', version: '1' }, paths: { '/v': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '#if(' } } } } } })
  const started = Date.now()
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [CLI_PATH, 'serve', bad, '--strict', '--port', '0', '--host', '127.0.0.1', '--workers', '2'], { cwd: REPO_ROOT, timeout: 60_000 }, (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr }))
  })
  t.equal(result.code, 1, 'exit code 1')
  t.match(result.stderr, /requestTemplates.*mapping template error/, 'the problem printed with its pointer')
  t.ok(Date.now() - started < 30_000, 'no worker keeps the process alive')
})
