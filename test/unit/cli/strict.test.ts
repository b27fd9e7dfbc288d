// A mapping template that does not compile: `check` refuses it; `serve` serves the rest of the
// API and that method answers 500 Internal server error with the reason logged (as API Gateway's
// "Execution failed due to configuration error"); `serve --strict` refuses to start, and
// `--strict` makes every warning an error for `check` too.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { CLI_PATH, REPO_ROOT } from '../../helpers/gateway.js'
import { startGateway, request } from '../../helpers/index.js'

function run (...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const mock = (template: string) => ({ type: 'mock', requestTemplates: { 'application/json': template }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': '{"ok":true}' } } } })
const api = {
  openapi: '3.0.1',
  info: { title: 'strict', version: '1' },
  paths: {
    '/good': { get: { 'x-amazon-apigateway-integration': mock('{"statusCode": 200}') } },
    '/broken': { get: { 'x-amazon-apigateway-integration': mock('#if($x') } },
  },
}
const BROKEN_POINTER = '/paths/~1broken/get/x-amazon-apigateway-integration/requestTemplates/application~1json'

t.test('check refuses a template that does not compile', async (t) => {
  const file = join(t.testdir({ 'api.json': JSON.stringify(api) }), 'api.json')
  const r = run('check', file)
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${BROKEN_POINTER}: mapping template error at line 1, column \\d+: `))
})

t.test('serve answers 500 for that method, with the reason logged, and serves the rest', async (t) => {
  const file = join(t.testdir({ 'api.json': JSON.stringify(api) }), 'api.json')
  const gw = await startGateway({ args: [file] })
  t.teardown(gw.stop)
  t.match(gw.output(), `warning: ${file}: ${BROKEN_POINTER}: mapping template error at line 1`)
  const good = await request(`${gw.url}/test/good`)
  t.equal(good.status, 200)
  t.equal(good.text, '{"ok":true}')
  const broken = await request(`${gw.url}/test/broken`)
  t.equal(broken.status, 500)
  t.strictSame(broken.json(), { message: 'Internal server error' })
  t.equal(broken.headers['x-amzn-errortype'], 'InternalServerErrorException')
  // the worker logs the reason with the request id
  const deadline = Date.now() + 5_000
  while (!/Execution failed due to configuration error: mapping template error at line 1/.test(gw.output()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  t.match(gw.output(), /Execution failed due to configuration error: mapping template error at line 1, column \d+: .*\(\/paths\/~1broken\/get/)
})

t.test('serve --strict refuses to start', async (t) => {
  const file = join(t.testdir({ 'api.json': JSON.stringify(api) }), 'api.json')
  const r = run('serve', file, '--strict', '--port', '0')
  t.equal(r.code, 1)
  t.match(r.stderr, `${file}: ${BROKEN_POINTER}: mapping template error at line 1`)
  t.notMatch(r.stdout, /listening/)
})

t.test('--strict makes warnings errors', async (t) => {
  const warned = { openapi: '3.0.1', info: { title: 'w', version: '1' }, paths: { '/a': { any: {}, get: { 'x-amazon-apigateway-integration': mock('{"statusCode": 200}') } } } }
  const file = join(t.testdir({ 'api.json': JSON.stringify(warned) }), 'api.json')
  const plain = run('check', file)
  t.equal(plain.code, 0)
  t.match(plain.stderr, `warning: ${file}: /paths/~1a/any: unknown operation "any" is ignored`)
  const strict = run('check', file, '--strict')
  t.equal(strict.code, 1)
  t.match(strict.stderr, `${file}: /paths/~1a/any: unknown operation "any" is ignored`)
  t.notMatch(strict.stderr, /warning:/)
  const served = run('serve', file, '--strict', '--port', '0')
  t.equal(served.code, 1)
  t.match(served.stderr, `${file}: /paths/~1a/any: unknown operation "any" is ignored`)
})
