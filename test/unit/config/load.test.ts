// Loading API files: OpenAPI 3 and Swagger 2, YAML and JSON, collected problems with
// file, JSON pointer and reason.
import t from 'tap'
import { join } from 'node:path'
import { loadGateway } from '../../../src/config/load.js'
import { compileGateway } from '../../../src/pipeline/compile.js'
import { ConfigError, formatProblem, type ConfigProblem } from '../../../src/errors.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }

function load(files: string[], configFile: string | null = null) {
  return loadGateway({ apiFiles: files, configFile })
}

function problemsOf(fn: () => unknown): readonly ConfigProblem[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('loads OpenAPI 3 YAML and Swagger 2 JSON into one shape', async (t) => {
  const dir = t.testdir({
    'oas3.yaml': `openapi: 3.0.1
info: { title: Pets, version: '1' }
paths:
  /pets/{petId}:
    get:
      parameters: [{ name: petId, in: path, required: true }, { name: q, in: query, required: true }]
      requestBody: { content: { application/json: { schema: { $ref: '#/components/schemas/Pet' } } } }
      x-amazon-apigateway-integration: { type: mock, requestTemplates: { application/json: '{"statusCode": 200}' } }
components: { schemas: { Pet: { type: object } } }
`,
    'swagger.json': JSON.stringify({
      swagger: '2.0',
      info: { title: 'Pets2', version: '1' },
      paths: { '/pets': { 'x-amazon-apigateway-any-method': { parameters: [{ name: 'body', in: 'body', schema: { $ref: '#/definitions/Pet' } }], 'x-amazon-apigateway-integration': { type: 'HTTP_PROXY', httpMethod: 'ANY', uri: 'http://127.0.0.1:1/x' } } } },
      definitions: { Pet: { type: 'object' } },
    }),
  })
  const { gateway } = load([join(dir, 'oas3.yaml'), join(dir, 'swagger.json')])
  t.equal(gateway.apis.length, 2)
  const [a, b] = gateway.apis
  t.equal(a!.id, 'oas3')
  t.equal(a!.title, 'Pets')
  t.match(a!.operations[0], { path: '/pets/{petId}', method: 'GET', requestModels: { 'application/json': 'Pet' } })
  t.strictSame(a!.operations[0]!.parameters, [{ in: 'path', name: 'petId', required: true }, { in: 'query', name: 'q', required: true }])
  t.match(b!.operations[0], { path: '/pets', method: 'ANY', requestModels: { 'application/json': 'Pet' }, integration: { type: 'HTTP_PROXY', httpMethod: 'ANY', timeoutInMillis: 29000 } })
  t.strictSame(a!.stages, [{ name: 'test', variables: {} }])
})

t.test('timeoutInMillis defaults to 29000 ms, API Gateway\'s documented default', async (t) => {
  const dir = t.testdir({ 'a.json': JSON.stringify({ openapi: '3.0.0', info: { title: 'a', version: '1' }, paths: { '/x': { get: { 'x-amazon-apigateway-integration': mock } } } }) })
  t.equal(load([join(dir, 'a.json')]).gateway.apis[0]!.operations[0]!.integration!.timeoutInMillis, 29000)
})

t.test('refuses a malformed file with file, JSON pointer and reason, collecting every problem', async (t) => {
  const dir = t.testdir({
    'bad.json': JSON.stringify({
      openapi: '3.0.0',
      info: { title: 'bad', version: '1' },
      paths: {
        '/pets': {
          get: { 'x-amazon-apigateway-integration': { type: 'lambda_magic' } },
          post: { 'x-amazon-apigateway-integration': { type: 'http_proxy', uri: 'http://127.0.0.1/x' } },
        },
        'nopes': { get: {} },
        '/a/{x+}/b': { get: {} },
        '/t': { get: { 'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'GET', uri: 'http://h/', timeoutInMillis: 10, responses: { '(': { statusCode: '200' } } } } },
      },
    }),
  })
  const file = join(dir, 'bad.json')
  const problems = problemsOf(() => load([file])).filter((p) => p.severity === 'error')
  t.strictSame(problems.map(formatProblem), [
    `${file}: /paths/~1pets/get/x-amazon-apigateway-integration/type: unknown integration type "lambda_magic": expected one of mock, http, http_proxy, aws, aws_proxy`,
    `${file}: /paths/~1pets/post/x-amazon-apigateway-integration/httpMethod: httpMethod is required for http_proxy integrations (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY)`,
    `${file}: /paths/nopes: a resource path must start with "/"`,
    `${file}: /paths/~1a~1{x+}~1b: greedy path variable "{x+}" must be the last segment`,
    `${file}: /paths/~1t/get/x-amazon-apigateway-integration/timeoutInMillis: timeoutInMillis must be an integer from 50 to 300000`,
    `${file}: /paths/~1t/get/x-amazon-apigateway-integration/responses/(: selectionPattern is not a valid regular expression: Invalid regular expression: /^(?:()$/s: Unterminated group`,
  ])
  t.equal(problems[0]!.code, 'BP_ERR_CONFIG_UNKNOWN_INTEGRATION_TYPE')
})

t.test('refuses an unsupported version before anything else', async (t) => {
  const dir = t.testdir({ 'v.yaml': 'openapi: 3.1.0\ninfo: {title: x, version: "1"}\npaths: {}\n' })
  const problems = problemsOf(() => load([join(dir, 'v.yaml')]))
  t.equal(problems.length, 1)
  t.match(problems[0], { code: 'BP_ERR_CONFIG_UNSUPPORTED_VERSION', pointer: '/openapi', message: /expected openapi 3\.0\.x or swagger "2\.0", got "3\.1\.0"/ })
})

t.test('reports YAML syntax errors with line and column', async (t) => {
  const dir = t.testdir({ 'y.yaml': 'openapi: 3.0.0\npaths:\n  /x: [\n' })
  const problems = problemsOf(() => load([join(dir, 'y.yaml')]))
  t.match(problems[0], { code: 'BP_ERR_CONFIG_PARSE', pointer: '', message: /invalid YAML at line \d+, column \d+/ })
})

t.test('a missing file is a problem, not a crash', async (t) => {
  const problems = problemsOf(() => load(['/nonexistent/api.yaml']))
  t.match(problems[0], { code: 'BP_ERR_CONFIG_READ', file: '/nonexistent/api.yaml' })
})

t.test('route conflicts are found at compile time', async (t) => {
  const dir = t.testdir({ 'c.json': JSON.stringify({ openapi: '3.0.0', info: { title: 'c', version: '1' }, paths: { '/a/{id}': { get: { 'x-amazon-apigateway-integration': mock } }, '/a/{name}/b': { get: { 'x-amazon-apigateway-integration': mock } } } }) })
  const problems: ConfigProblem[] = []
  compileGateway(load([join(dir, 'c.json')]).gateway, problems)
  t.equal(problems.length, 1)
  t.match(problems[0], { code: 'BP_ERR_CONFIG_PATH', pointer: '/paths/~1a~1{name}~1b', message: /only one is allowed per level/ })
})

t.test('gateway config: APIs, base paths, stages and stage variables', async (t) => {
  const api = JSON.stringify({ openapi: '3.0.0', info: { title: 'x', version: '1' }, paths: { '/x': { get: { 'x-amazon-apigateway-integration': mock } } } })
  const dir = t.testdir({
    'a.json': api,
    'b.json': api,
    'backplane.yaml': `listen: { host: 127.0.0.1, port: 0 }
workers: 1
apis:
  - id: alpha
    file: a.json
    stages:
      prod: { variables: { backend: 'http://127.0.0.1:1' } }
      dev: {}
  - id: beta
    file: b.json
    basePath: /v2/
`,
  })
  const { gateway } = load([], join(dir, 'backplane.yaml'))
  t.equal(gateway.port, 0)
  t.equal(gateway.workers, 1)
  t.strictSame(gateway.apis.map((a) => [a.id, a.basePath, a.stages]), [
    ['alpha', '', [{ name: 'prod', variables: { backend: 'http://127.0.0.1:1' } }, { name: 'dev', variables: {} }]],
    ['beta', 'v2', [{ name: 'test', variables: {} }]],
  ])
})

t.test('gateway config errors carry the config file and pointer', async (t) => {
  const dir = t.testdir({ 'backplane.yaml': 'listen: { port: 99999 }\nworkers: 0\napis:\n  - { id: x }\n' })
  const file = join(dir, 'backplane.yaml')
  const problems = problemsOf(() => load([], file))
  t.strictSame(problems.map(formatProblem), [
    `${file}: /listen/port: must be an integer from 0 to 65535`,
    `${file}: /workers: must be a positive integer`,
    `${file}: /apis/0: each API needs a \`file\``,
  ])
})
