// Import as API Gateway imports: what it accepts, what it ignores with a warning, and the one
// clear problem it reports for what it cannot serve. Each test names its source.
import t from 'tap'
import { normalizeApi } from '../../../src/config/normalize.js'
import { jsonErrorPlace, readDocument } from '../../../src/config/load.js'
import type { ConfigProblem } from '../../../src/errors.js'
import { join } from 'node:path'
import { stageSource } from '../../helpers/sources.js'

const place = { file: 'api.json', id: 'api', basePath: '', stages: [stageSource('test')] }
const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }

function load(doc: object): { problems: ConfigProblem[]; api: ReturnType<typeof normalizeApi> } {
  const problems: ConfigProblem[] = []
  const api = normalizeApi(doc, place, problems)
  return { problems, api }
}
const brief = (ps: ConfigProblem[]) => ps.map((p) => `${p.severity} ${p.pointer}: ${p.message}`)

// Developer guide, x-amazon-apigateway-gateway-responses.gatewayResponse.responseParameters:
// keys are gatewayresponse.header.{name}, the name an HTTP header token (which may hold dots).
t.test('gateway-response header names with dots are accepted', async (t) => {
  const { problems, api } = load({
    openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: {},
    'x-amazon-apigateway-gateway-responses': { DEFAULT_4XX: { responseParameters: { 'gatewayresponse.header.X.Request.Id': "'x'", 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" } } },
  })
  t.strictSame(brief(problems), [])
  t.strictSame(Object.keys(api!.gatewayResponses.DEFAULT_4XX!.responseParameters), ['gatewayresponse.header.X.Request.Id', 'gatewayresponse.header.Access-Control-Allow-Origin'])
  const bad = load({ openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: {}, 'x-amazon-apigateway-gateway-responses': { DEFAULT_4XX: { responseParameters: { 'gatewayresponse.header.a b': "'x'" } } } })
  t.strictSame(brief(bad.problems), ['error /x-amazon-apigateway-gateway-responses/DEFAULT_4XX/responseParameters/gatewayresponse.header.a b: invalid mapping expression specified: gatewayresponse.header.a b'])
})

t.test('an unknown operation key (any:) is ignored with a warning naming the ANY key', async (t) => {
  const { problems, api } = load({ openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: { '/x': { any: { 'x-amazon-apigateway-integration': mock }, get: { 'x-amazon-apigateway-integration': mock }, gett: {} } } })
  t.strictSame(brief(problems), [
    'warning /paths/~1x/any: unknown operation "any" is ignored; did you mean "x-amazon-apigateway-any-method"?',
    'warning /paths/~1x/gett: unknown operation "gett" is ignored; did you mean "get"?',
  ])
  t.strictSame(api!.operations.map((o) => o.method), ['GET'])
})

t.test('misspelled extension fields get a did-you-mean warning', async (t) => {
  const { problems } = load({
    openapi: '3.0.1', info: { title: 'a', version: '1' },
    paths: {
      '/a': { get: { 'x-amazon-apigateway-integration': { ...mock, passthroughBehaviour: 'NEVER', requestTemplate: {}, responses: { default: { statusCode: '200', responseTemplate: {} } } } } },
      '/b': { get: { 'x-amazon-apigateway-integrations': mock } },
    },
  })
  t.strictSame(brief(problems), [
    'warning /paths/~1a/get/x-amazon-apigateway-integration/passthroughBehaviour: unknown key "passthroughBehaviour" is ignored; did you mean "passthroughBehavior"?',
    'warning /paths/~1a/get/x-amazon-apigateway-integration/requestTemplate: unknown key "requestTemplate" is ignored; did you mean "requestTemplates"?',
    'warning /paths/~1a/get/x-amazon-apigateway-integration/responses/default/responseTemplate: unknown key "responseTemplate" is ignored; did you mean "responseTemplates"?',
    'warning /paths/~1b/get/x-amazon-apigateway-integrations: unknown key "x-amazon-apigateway-integrations" is ignored; did you mean "x-amazon-apigateway-integration"?',
    'warning /paths/~1b/get: no x-amazon-apigateway-integration: requests to this method get 500 Internal server error',
  ])
})

// Developer guide, "x-amazon-apigateway-cors" and payloadFormatVersion are HTTP API (v2) extensions.
t.test('an HTTP API (v2) definition is named in one problem', async (t) => {
  const v2 = load({
    openapi: '3.0.1', info: { title: 'v2', version: '1' },
    'x-amazon-apigateway-cors': { allowOrigins: ['*'] },
    paths: { '/a': { get: { 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: 'arn:x', payloadFormatVersion: '2.0' } } } },
  })
  t.strictSame(brief(v2.problems), ['error /x-amazon-apigateway-cors: this is an HTTP API (API Gateway v2) definition: Backplane serves REST APIs (API Gateway v1) only'])
  t.equal(v2.api, null)
  const byIntegration = load({ openapi: '3.0.1', info: { title: 'v2', version: '1' }, paths: { '/a': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: 'http://127.0.0.1:1', payloadFormatVersion: '2.0' } } } } })
  t.strictSame(brief(byIntegration.problems), ['error /paths/~1a/get/x-amazon-apigateway-integration/payloadFormatVersion: this is an HTTP API (API Gateway v2) definition: Backplane serves REST APIs (API Gateway v1) only'])
  // AWS-validated: a REST import with failOnWarnings accepts payloadFormatVersion "1.0"
  // (LocalStack test_apigateway_import.py::test_import_with_stage_variables).
  const rest = load({ openapi: '3.0.1', info: { title: 'rest', version: '1' }, paths: { '/a': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: 'http://127.0.0.1:1', payloadFormatVersion: '1.0' } } } } })
  t.strictSame(brief(rest.problems), [])
})

t.test('a $ref\'d integration is resolved, or its reference named', async (t) => {
  const ok = load({
    openapi: '3.0.1', info: { title: 'a', version: '1' },
    components: { 'x-amazon-apigateway-integrations': { shared: mock } },
    paths: { '/a': { get: { 'x-amazon-apigateway-integration': { $ref: '#/components/x-amazon-apigateway-integrations/shared' } } } },
  })
  t.strictSame(brief(ok.problems), [])
  t.equal(ok.api!.operations[0]!.integration!.type, 'MOCK')
  const missing = load({ openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: { '/a': { get: { 'x-amazon-apigateway-integration': { $ref: '#/components/x-amazon-apigateway-integrations/nope' } } } } })
  t.strictSame(brief(missing.problems), ['error /paths/~1a/get/x-amazon-apigateway-integration/$ref: $ref "#/components/x-amazon-apigateway-integrations/nope" names nothing in this file: only local references (#/...) are resolved'])
})

t.test('a JSON syntax error gives line and column', async (t) => {
  const dir = t.testdir({ 'broken.json': '{\n  "openapi": "3.0.1",\n  "paths": { "a": 1, }\n}\n' })
  const problems: ConfigProblem[] = []
  t.equal(readDocument(join(dir, 'broken.json'), problems), undefined)
  t.equal(problems.length, 1)
  t.match(problems[0]!.message, /^invalid JSON at line 3, column 22: /)
  t.equal(jsonErrorPlace('{"a":', 'Unexpected end of JSON input'), ' at line 1, column 6')
})

t.test('misspelled or misplaced API-level and path-level extensions are warned of', async (t) => {
  const { problems } = load({
    openapi: '3.0.1', info: { title: 'a', version: '1' },
    'x-amazon-apigateway-binary-media-type': ['image/png'],
    'x-amazon-apigateway-request-validators': { all: { validateRequestBody: true, validateRequestParameter: true } },
    'x-amazon-apigateway-gateway-responses': { DEFAULT_4XX: { statusCode: 400, responseTemplate: {} } },
    paths: { '/a': { 'x-amazon-apigateway-integration': mock, get: { 'x-amazon-apigateway-integration': mock } } },
  })
  t.strictSame(brief(problems), [
    'warning /x-amazon-apigateway-binary-media-type: unknown key "x-amazon-apigateway-binary-media-type" is ignored; did you mean "x-amazon-apigateway-binary-media-types"?',
    'warning /x-amazon-apigateway-request-validators/all/validateRequestParameter: unknown key "validateRequestParameter" is ignored; did you mean "validateRequestParameters"?',
    'warning /paths/~1a/x-amazon-apigateway-integration: unknown key "x-amazon-apigateway-integration" is ignored: it belongs in an operation',
    'warning /x-amazon-apigateway-gateway-responses/DEFAULT_4XX/responseTemplate: unknown key "responseTemplate" is ignored; did you mean "responseTemplates"?',
  ])
})
