// Integration settings API Gateway honours, each honoured here or refused with a reason:
// method response headers for responseParameters, connectionType VPC_LINK, tlsConfig,
// timeoutInMillis bounds, request payload decompression. Sources named per case.
import t from 'tap'
import https from 'node:https'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import type { AddressInfo } from 'node:net'
import { startGateway, startEchoBackend, request } from '../helpers/index.js'
import { loadGateway } from '../../src/config/load.js'
import { compileGateway } from '../../src/pipeline/compile.js'
import { ConfigError, formatProblem, type ConfigProblem } from '../../src/errors.js'

/** Every problem of loading and compiling `doc` (with an optional gateway config). */
function problemsOf(dir: string, doc: object, config: object | null = null): ConfigProblem[] {
  const file = join(dir, 'api.json')
  writeFileSync(file, JSON.stringify(doc))
  let configFile: string | null = null
  if (config !== null) {
    configFile = join(dir, 'backplane.json')
    writeFileSync(configFile, JSON.stringify({ ...config, apis: [{ file: 'api.json' }] }))
  }
  try {
    const loaded = loadGateway({ apiFiles: configFile === null ? [file] : [], configFile })
    const list: ConfigProblem[] = [...loaded.warnings]
    compileGateway(loaded.gateway, list)
    return list
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return [...err.problems]
  }
}
const errors = (p: ConfigProblem[]) => p.filter((x) => x.severity === 'error').map(formatProblem)
const warnings = (p: ConfigProblem[]) => p.filter((x) => x.severity === 'warning').map(formatProblem)
const api = (paths: object) => ({ openapi: '3.0.1', info: { title: 's', version: '1' }, paths })
const httpInteg = (extra: object = {}) => ({ type: 'http_proxy', httpMethod: 'GET', uri: 'http://127.0.0.1:9/', ...extra })

t.test('responseParameters must name headers the method response declares (API Gateway refuses the import otherwise)', async (t) => {
  const dir = t.testdir()
  const integ = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseParameters: { 'method.response.header.X-Declared': "'a'", 'method.response.header.X-Other': "'b'" } } } }
  const declared = problemsOf(dir, api({ '/ok': { get: { responses: { '200': { description: 'ok', headers: { 'x-declared': { schema: { type: 'string' } }, 'X-Other': { schema: { type: 'string' } } } } }, 'x-amazon-apigateway-integration': integ } } }))
  t.strictSame(errors(declared), [], 'declared (any case) is accepted')
  const missing = problemsOf(dir, api({ '/bad': { get: { responses: { '200': { description: 'ok', headers: { 'X-Declared': { schema: { type: 'string' } } } } }, 'x-amazon-apigateway-integration': integ } } }))
  t.match(errors(missing), [/\/paths\/~1bad\/get\/x-amazon-apigateway-integration\/responses\/default\/responseParameters\/method\.response\.header\.X-Other: .*method response 200 does not declare it \(responses\/200\/headers\); API Gateway refuses the import/])
  t.equal(errors(missing).length, 1)
  const noResponse = problemsOf(dir, api({ '/none': { get: { 'x-amazon-apigateway-integration': integ } } }))
  t.match(errors(noResponse), [/no method response 200 is declared/, /no method response 200 is declared/])
})

t.test('timeoutInMillis: 50 ms to 29 s as the guide\'s quotas say; up to 300 s with a warning (quota increase); beyond refused', async (t) => {
  const dir = t.testdir()
  t.match(errors(problemsOf(dir, api({ '/t': { get: { 'x-amazon-apigateway-integration': httpInteg({ timeoutInMillis: 49 }) } } }))), [/timeoutInMillis must be an integer from 50 to 300000/])
  t.match(errors(problemsOf(dir, api({ '/t': { get: { 'x-amazon-apigateway-integration': httpInteg({ timeoutInMillis: 300_001 }) } } }))), [/timeoutInMillis must be an integer from 50 to 300000/])
  const raised = problemsOf(dir, api({ '/t': { get: { 'x-amazon-apigateway-integration': httpInteg({ timeoutInMillis: 60_000 }) } } }))
  t.strictSame(errors(raised), [])
  t.match(warnings(raised), [/timeoutInMillis 60000 is past API Gateway's default maximum of 29000: AWS accepts it only for Regional or private APIs after a quota increase/])
  t.strictSame(warnings(problemsOf(dir, api({ '/t': { get: { 'x-amazon-apigateway-integration': httpInteg({ timeoutInMillis: 29_000 }) } } }))), [])
})

t.test('tlsConfig fields are checked', async (t) => {
  const dir = t.testdir()
  t.match(errors(problemsOf(dir, api({ '/t': { get: { 'x-amazon-apigateway-integration': httpInteg({ tlsConfig: { insecureSkipVerification: 'yes', verifyHostname: true } }) } } }))), [
    /tlsConfig\/verifyHostname: unknown tlsConfig field "verifyHostname"/,
    /tlsConfig\/insecureSkipVerification: must be a boolean/,
  ])
})

t.test('VPC_LINK: a connectionId missing from the config\'s vpcLinks is refused; VPC_LINK is for http integrations', async (t) => {
  const dir = t.testdir()
  const link = { connectionType: 'VPC_LINK', connectionId: 'abc123' }
  t.match(errors(problemsOf(dir, api({ '/v': { get: { 'x-amazon-apigateway-integration': httpInteg(link) } } }), { vpcLinks: { other: 'http://127.0.0.1:9' } })), [/VPC link abc123 is not in the gateway config's vpcLinks/])
  t.match(errors(problemsOf(dir, api({ '/v': { get: { 'x-amazon-apigateway-integration': httpInteg({ connectionType: 'VPC_LINK' }) } } }))), [/a VPC_LINK integration needs the connectionId/])
  t.strictSame(errors(problemsOf(dir, api({ '/v': { get: { 'x-amazon-apigateway-integration': httpInteg({ ...link, connectionId: '${stageVariables.link}' }) } } }))), [], 'a stage-variable link is checked per stage (a warning, 500 at request time)')
  t.match(errors(problemsOf(dir, api({ '/v': { get: { 'x-amazon-apigateway-integration': httpInteg(link) } } }), { vpcLinks: { abc123: 'http://127.0.0.1:9/path' } })), [/the target must be an origin/])
})

t.test('served: VPC link targets, tlsConfig, request decompression', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  const dir = t.testdir()
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=backend.internal'], { stdio: 'ignore', timeout: 20_000 })
  const seenNames: (string | false | null)[] = []
  const tls = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    seenNames.push((req.socket as import('node:tls').TLSSocket).servername)
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"tls":true}')
  })
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { tls.closeAllConnections(); tls.close(() => r()) }))
  const tlsUrl = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/`
  writeFileSync(join(dir, 'api.json'), JSON.stringify(api({
    '/vpc/{id}': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: 'http://nlb.internal.example:8080/inside/{id}', connectionType: 'VPC_LINK', connectionId: 'abc123', requestParameters: { 'integration.request.path.id': 'method.request.path.id' } } } },
    '/vpc-staged': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: 'http://nlb.internal.example/', connectionType: 'VPC_LINK', connectionId: '${stageVariables.link}' } } },
    '/tls-verified': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: tlsUrl } } },
    '/tls-skip': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: tlsUrl, tlsConfig: { insecureSkipVerification: true, serverNameToVerify: 'backend.internal' } } } },
    '/gz': { post: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'POST', uri: `${echo.url}/gz` } } },
  })))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({ workers: 1, vpcLinks: { abc123: echo.url }, apis: [{ file: 'api.json', id: 'settings', stages: { test: {} } }] }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')], timeoutMs: 40_000 })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/test`

  t.test('connectionType VPC_LINK reaches the target its connectionId maps to, with the URI\'s Host and path', async (t) => {
    const res = await request(`${base}/vpc/42`)
    t.equal(res.status, 200)
    const seen = res.json()
    t.equal(seen.path, '/inside/42')
    t.equal(seen.headers.host, 'nlb.internal.example:8080')
  })

  t.test('a VPC link named by an undefined stage variable answers 500', async (t) => {
    const res = await request(`${base}/vpc-staged`)
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  t.test('an https backend with an unverifiable certificate: 500, as API Gateway\'s "General SSLEngine problem"', async (t) => {
    const res = await request(`${base}/tls-verified`)
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  t.test('tlsConfig.insecureSkipVerification accepts it; serverNameToVerify is the SNI name sent', async (t) => {
    const res = await request(`${base}/tls-skip`)
    t.equal(res.status, 200)
    t.strictSame(res.json(), { tls: true })
    t.equal(seenNames[seenNames.length - 1], 'backend.internal')
  })

  t.test('a gzip request body is decompressed though the API sets no minimumCompressionSize ("By default, API Gateway supports decompression of the method request payload")', async (t) => {
    const res = await request(`${base}/gz`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync('{"a":1}') })
    t.equal(res.status, 200)
    const seen = res.json()
    t.equal(seen.body, '{"a":1}')
    t.equal(seen.headers['content-encoding'], undefined)
    const bad = await request(`${base}/gz`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, body: 'xx' })
    t.equal(bad.status, 415, '"Call an API method with a compressed payload": an unsupported coding is 415')
  })
})
