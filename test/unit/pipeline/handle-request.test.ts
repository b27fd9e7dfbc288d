// The worker pipeline without threads or sockets: routing by stage and resource, the
// gateway responses it answers with, and the invariant that requests never change the
// compiled model (STYLE §F).
import t from 'tap'
import { isDeepStrictEqual } from 'node:util'
import { normalizeApi } from '../../../src/config/normalize.js'
import { DEFAULT_ACCESS } from '../../../src/config/model.js'
import { compileGateway } from '../../../src/pipeline/compile.js'
import { handleRequest } from '../../../src/pipeline/handle-request.js'
import type { ReplyRecord, RequestRecord } from '../../../src/pool/protocol.js'
import type { ConfigProblem } from '../../../src/errors.js'
import { installMappingEngine } from '../../../src/mapping/install-engine.js'
import { DEFAULT_STAGE_SETTINGS } from '../../../src/config/stage-settings.js'
import { gatewaySource } from '../../helpers/sources.js'

const problems: ConfigProblem[] = []
const api = normalizeApi({
  openapi: '3.0.1',
  info: { title: 'unit', version: '1' },
  'x-amazon-apigateway-gateway-responses': {
    MISSING_AUTHENTICATION_TOKEN: { statusCode: 404, responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'", 'gatewayresponse.header.X-Path': 'method.request.header.x-trace' }, responseTemplates: { 'application/json': '{"error":"$context.error.message","type":"$context.error.responseType","id":"$context.requestId"}' } },
    DEFAULT_5XX: { responseParameters: { 'gatewayresponse.header.X-Five': "'5xx'" } },
  },
  paths: {
    '/pets/{id}': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': '{"stage":"$context.stage","var":"$stageVariables.color"}' } } } } } },
    '/broken': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: '${stageVariables.missing}/x' } } },
    '/override': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '#set($context.responseOverride.status = 201)#set($context.responseOverride.header.Content-Type = "text/plain")#set($context.responseOverride.header.X-Over = "o"){"statusCode": 200}' }, responses: { default: { statusCode: '200' } } } } },
  },
}, { file: 'unit.json', id: 'unitapi', basePath: '', stages: [{ name: 'prod', variables: { color: 'blue' }, settings: DEFAULT_STAGE_SETTINGS }] }, problems)!
const gateway = compileGateway(gatewaySource({ apis: [api], access: DEFAULT_ACCESS }), problems)
installMappingEngine(gateway)

let nextId = 1
function run(method: string, url: string, headers: string[] = []): ReplyRecord {
  const replies: ReplyRecord[] = []
  const req: RequestRecord = { id: nextId++, method, url, query: '', headers, remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.UTC(2026, 10, 25, 13, 53, 6) }
  handleRequest(gateway, req, { reply: (r) => replies.push(r) })
  if (replies.length !== 1) throw new Error(`expected one synchronous reply, got ${replies.length}`)
  return replies[0]!
}
const text = (r: ReplyRecord) => new TextDecoder().decode(r.body ?? new Uint8Array())
const header = (r: ReplyRecord, name: string) => {
  for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i]!.toLowerCase() === name.toLowerCase()) return r.headers[i + 1]
  return undefined
}

t.strictSame(problems.map((p) => [p.severity, p.pointer]), [['warning', '/paths/~1broken/get/x-amazon-apigateway-integration/uri']], 'the API compiles, warning only of the missing stage variable')

t.test('a mock route renders $context.stage and $stageVariables', async (t) => {
  const r = run('GET', '/prod/pets/7')
  t.equal(r.status, 200)
  t.equal(text(r), '{"stage":"prod","var":"blue"}')
  t.equal(header(r, 'content-type'), 'application/json')
})

t.test('a customized MISSING_AUTHENTICATION_TOKEN keeps x-amzn-ErrorType and applies status, parameters and template', async (t) => {
  const r = run('GET', '/prod/nope', ['x-trace', 'abc'])
  t.equal(r.status, 404)
  t.equal(header(r, 'x-amzn-ErrorType'), 'MissingAuthenticationTokenException')
  t.equal(header(r, 'Access-Control-Allow-Origin'), '*')
  t.equal(header(r, 'X-Path'), 'abc')
  const id = header(r, 'x-amzn-RequestId')
  t.equal(text(r), `{"error":"Missing Authentication Token","type":"MISSING_AUTHENTICATION_TOKEN","id":"${id}"}`)
})

// Developer guide, "Override your API's request and response parameters and status codes";
// AWS-validated in a MOCK request template: LocalStack test_integration_mock_with_response_override_in_request_template.
t.test('responseOverride status and headers set in a MOCK request template apply without a response template', async (t) => {
  const r = run('GET', '/prod/override')
  t.equal(r.status, 201)
  t.equal(header(r, 'content-type'), 'text/plain')
  t.equal(header(r, 'X-Over'), 'o')
  t.equal(r.headers.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-type').length, 1, 'one Content-Type')
})

t.test('DEFAULT_5XX parameters apply to a 5XX type not customized one by one', async (t) => {
  const r = run('GET', '/prod/broken')
  t.equal(r.status, 500)
  t.equal(header(r, 'X-Five'), '5xx')
  t.equal(text(r), '{"message": "Internal server error"}')
})

t.test('a burst of requests leaves the compiled model equal to a clone taken before, and frozen', async (t) => {
  const snapshot = structuredClone(api)
  for (let i = 0; i < 2000; i++) {
    run('GET', `/prod/pets/${i}`)
    run('POST', `/prod/pets/${i}`)
    run('GET', '/prod/broken')
  }
  t.ok(isDeepStrictEqual(api, snapshot), 'the normalized API is unchanged')
  const compiled = gateway.apis[0]!
  t.ok(Object.isFrozen(compiled))
  t.ok(Object.isFrozen(compiled.stages.get('prod')))
  t.ok(Object.isFrozen(compiled.stages.get('prod')!.methods[0]))
  t.ok(Object.isFrozen(compiled.stages.get('prod')!.methods[0]!.integration))
  t.ok(Object.isFrozen(compiled.router))
  t.ok(Object.isFrozen(compiled.gatewayResponses.MISSING_AUTHENTICATION_TOKEN))
})
