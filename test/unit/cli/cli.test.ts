// The CLI as a user runs it: `check` and `routes` on files, exit codes and messages.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { CLI_PATH, REPO_ROOT } from '../../helpers/gateway.js'

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const good = {
  openapi: '3.0.1',
  info: { title: 'good', version: '1' },
  paths: {
    '/pets': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } } } },
    '/pets/{id}': { 'x-amazon-apigateway-any-method': { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'ANY', uri: 'http://127.0.0.1:8080/pets/{id}' } } },
  },
}

t.test('check passes a valid file and exits 0', async (t) => {
  const dir = t.testdir({ 'good.json': JSON.stringify(good) })
  const r = run('check', join(dir, 'good.json'))
  t.equal(r.code, 0)
  t.equal(r.stdout, `${join(dir, 'good.json')}: ok (2 methods)\n`)
  t.equal(r.stderr, '')
})

t.test('check prints file: JSON pointer: reason for each problem and exits 1', async (t) => {
  const bad = structuredClone(good) as any
  bad.paths['/pets'].get['x-amazon-apigateway-integration'].type = 'nope'
  bad.paths['/pets/{id}']['x-amazon-apigateway-any-method']['x-amazon-apigateway-integration'].uri = 'ftp://x'
  const dir = t.testdir({ 'bad.json': JSON.stringify(bad) })
  const file = join(dir, 'bad.json')
  const r = run('check', file)
  t.equal(r.code, 1)
  t.equal(r.stderr, [
    `${file}: /paths/~1pets/get/x-amazon-apigateway-integration/type: unknown integration type "nope": expected one of mock, http, http_proxy, aws, aws_proxy`,
    `${file}: /paths/~1pets~1{id}/x-amazon-apigateway-any-method/x-amazon-apigateway-integration/uri: uri must be an absolute http:// or https:// URL`,
    '',
  ].join('\n'))
})

t.test('check warns about a method without integration but passes', async (t) => {
  const doc = structuredClone(good) as any
  doc.paths['/bare'] = { get: { responses: {} } }
  const dir = t.testdir({ 'warn.json': JSON.stringify(doc) })
  const r = run('check', join(dir, 'warn.json'))
  t.equal(r.code, 0)
  t.match(r.stderr, /^warning: .*warn\.json: \/paths\/~1bare\/get: no x-amazon-apigateway-integration/)
})

t.test('routes prints the compiled route table', async (t) => {
  const dir = t.testdir({ 'good.json': JSON.stringify(good) })
  const r = run('routes', join(dir, 'good.json'), '--stage', 'prod')
  t.equal(r.code, 0)
  t.equal(r.stdout, [
    'API   STAGE  METHOD  RESOURCE    INTEGRATION',
    'good  prod   GET     /pets       MOCK',
    'good  prod   ANY     /pets/{id}  HTTP_PROXY ANY http://127.0.0.1:8080/pets/{id}',
    '',
  ].join('\n'))
})

t.test('usage errors exit 2 with the help text', async (t) => {
  const r = run('serve', '--port', 'x')
  t.equal(r.code, 2)
  t.match(r.stderr, /^backplane: --port must be an integer from 0 to 65535\n/)
  t.match(r.stderr, /Usage:/)
  t.equal(run('frobnicate').code, 2)
  t.equal(run().code, 2)
})

t.test('--help exits 0', async (t) => {
  const r = run('--help')
  t.equal(r.code, 0)
  t.match(r.stdout, /backplane serve \[API_FILE \.\.\.\]/)
  t.match(r.stdout, /3 the listening port is already in use by another process/, 'the exit codes, port in use among them')
})

t.test('serve refuses an invalid file at load and exits 1', async (t) => {
  const dir = t.testdir({ 'v.yaml': 'swagger: "1.2"\n' })
  const r = run('serve', join(dir, 'v.yaml'), '--port', '0')
  t.equal(r.code, 1)
  t.match(r.stderr, /v\.yaml: \/swagger: unsupported document version/)
})

t.test('check refuses a mapping template that does not compile, with pointer, line and column', async (t) => {
  const doc = structuredClone(good) as any
  doc.paths['/pets'].get['x-amazon-apigateway-integration'].responses.default.responseTemplates = { 'application/json': '{\n  #if($x\n}' }
  const dir = t.testdir({ 'tpl.json': JSON.stringify(doc) })
  const file = join(dir, 'tpl.json')
  const r = run('check', file)
  t.equal(r.code, 1)
  t.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: /paths/~1pets/get/x-amazon-apigateway-integration/responses/default/responseTemplates/application~1json: mapping template error at line \\d+, column \\d+: .+\\n$`))
})
