// Parameter mapping conformance: every source `check` accepts reaches the integration
// request, and a source the gateway cannot fill is refused at load. The guide: "Parameter
// mapping source reference for REST APIs" (method.request.body, method.request.body.
// {JSONPath_EXPRESSION}, context.{variable}, method.request.multivaluequerystring.{name})
// and "$context variables for data models, authorizers, mapping templates, and access
// logging" (the variables, including $context.deploymentId, and in responseParameters).
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { startGateway, startEchoBackend, request } from '../helpers/index.js'
import { loadGateway } from '../../src/config/load.js'
import { compileGateway } from '../../src/pipeline/compile.js'
import { ConfigError, formatProblem, type ConfigProblem } from '../../src/errors.js'

const CONTEXT = ['accountId', 'apiId', 'deploymentId', 'domainName', 'domainPrefix', 'extendedRequestId', 'httpMethod', 'identity.sourceIp', 'identity.userAgent', 'identity.caller', 'path', 'protocol', 'requestId', 'requestTime', 'requestTimeEpoch', 'resourceId', 'resourcePath', 'stage']

t.test('every accepted mapping source reaches the request', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  const dir = t.testdir()
  const requestParameters: Record<string, string> = {
    'integration.request.header.x-body': 'method.request.body',
    'integration.request.header.x-name': 'method.request.body.name',
    'integration.request.header.x-first': 'method.request.body.items[0].id',
    'integration.request.header.x-address': "method.request.body.$.address",
    'integration.request.header.x-missing': 'method.request.body.nothing.here',
    'integration.request.querystring.m': 'method.request.multivaluequerystring.m',
    'integration.request.querystring.single': 'method.request.querystring.m',
  }
  for (const c of CONTEXT) requestParameters[`integration.request.header.x-ctx-${c.replace('.', '-').toLowerCase()}`] = `context.${c}`
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'mapping', version: '1' },
    paths: {
      '/map': {
        post: {
          responses: { '200': { description: 'ok', headers: { 'X-Request-Id': { schema: { type: 'string' } }, 'X-Stage': { schema: { type: 'string' } } } } },
          'x-amazon-apigateway-integration': {
            type: 'http', httpMethod: 'POST', uri: `${echo.url}/echo`, requestParameters,
            responses: { default: { statusCode: '200', responseParameters: { 'method.response.header.X-Request-Id': 'context.requestId', 'method.response.header.X-Stage': 'context.stage' } } },
          },
        },
      },
    },
  }))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({ workers: 1, accountId: '444455556666', apis: [{ id: 'mapapi', file: 'api.json', stages: { beta: {} } }] }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')], timeoutMs: 40_000 })
  t.teardown(() => gw.stop())

  const body = { name: 'Ann', items: [{ id: 7 }], address: { city: 'Oslo' } }
  const res = await request(`${gw.url}/beta/map?m=a&m=b%20c`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'mapper/1' }, body: JSON.stringify(body) })
  t.equal(res.status, 200)
  const seen = res.json()
  const h = seen.headers

  t.test('method.request.body and method.request.body.{JSONPath}', async (t) => {
    t.equal(h['x-body'], JSON.stringify(body))
    t.equal(h['x-name'], 'Ann')
    t.equal(h['x-first'], '7')
    t.equal(h['x-address'], '{"city":"Oslo"}', 'an object is sent as its JSON')
    t.equal(h['x-missing'], undefined, 'a path to nothing maps nothing')
  })

  t.test('method.request.multivaluequerystring.* goes out repeated, each value encoded on its own', async (t) => {
    t.equal(seen.query, 'm=a&m=b%20c&single=b%20c')
  })

  t.test('context.* variables, accountId from the gateway config', async (t) => {
    t.equal(h['x-ctx-accountid'], '444455556666')
    t.equal(h['x-ctx-apiid'], 'mapapi')
    t.match(h['x-ctx-deploymentid'], /^[0-9a-z]{6}$/)
    t.equal(h['x-ctx-domainname'], `127.0.0.1:${gw.port}`)
    t.equal(h['x-ctx-httpmethod'], 'POST')
    t.equal(h['x-ctx-identity-sourceip'], '127.0.0.1')
    t.equal(h['x-ctx-identity-useragent'], 'mapper/1')
    t.equal(h['x-ctx-identity-caller'], undefined, 'a null variable maps nothing')
    t.equal(h['x-ctx-path'], '/beta/map')
    t.equal(h['x-ctx-protocol'], 'HTTP/1.1')
    t.equal(h['x-ctx-requestid'], res.headers['x-amzn-requestid'])
    t.equal(h['x-ctx-extendedrequestid'], res.headers['x-amz-apigw-id'])
    t.match(h['x-ctx-requesttime'], /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/)
    t.match(h['x-ctx-requesttimeepoch'], /^\d{13}$/)
    t.equal(h['x-ctx-resourcepath'], '/map')
    t.match(h['x-ctx-resourceid'], /^[0-9a-z]{6}$/)
    t.equal(h['x-ctx-stage'], 'beta')
  })

  t.test('context.* in responseParameters', async (t) => {
    t.equal(res.headers['x-request-id'], res.headers['x-amzn-requestid'])
    t.equal(res.headers['x-stage'], 'beta')
  })
})

t.test('a mapping source the gateway cannot fill is refused by check', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'api.json')
  const integration = (source: string) => ({ type: 'http', httpMethod: 'GET', uri: 'http://127.0.0.1:9/', requestParameters: { 'integration.request.header.x': source } })
  writeFileSync(file, JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'refused', version: '1' },
    paths: {
      '/waf': { get: { 'x-amazon-apigateway-integration': integration('context.wafResponseCode') } },
      '/cert': { get: { 'x-amazon-apigateway-integration': integration('context.identity.clientCert.clientCertPem') } },
      '/unknown': { get: { 'x-amazon-apigateway-integration': integration('context.nope') } },
      '/filter': { get: { 'x-amazon-apigateway-integration': integration('method.request.body.$..name') } },
    },
  }))
  let problems: readonly ConfigProblem[] = []
  try {
    const loaded = loadGateway({ apiFiles: [file], configFile: null })
    const list: ConfigProblem[] = []
    compileGateway(loaded.gateway, list)
    problems = list
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    problems = err.problems
  }
  const lines = problems.filter((p) => p.severity === 'error').map(formatProblem)
  t.match(lines, [
    /\/paths\/~1waf\/get\/x-amazon-apigateway-integration\/requestParameters\/integration\.request\.header\.x: \$context\.wafResponseCode has no value when the integration request is mapped here/,
    /\/paths\/~1cert\/get\/.*\$context\.identity\.clientCert\.clientCertPem has no value/,
    /\/paths\/~1unknown\/get\/.*\$context\.nope is not a context variable API Gateway documents for REST APIs/,
    /\/paths\/~1filter\/get\/.*only names and indices are supported in a body JSONPath/,
  ])
  t.equal(lines.length, 4)
})
