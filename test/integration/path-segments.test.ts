// Dot segments never take the backend path outside the integration URI's prefix. API Gateway
// documents no resolution of '.'/'..' inside a path parameter, and a backend that resolves
// them (RFC 3986 §5.2.4) would serve what the URI's prefix does not cover: the gateway sends
// such a segment percent-encoded (%2E%2E), so it stays one opaque segment under the prefix.
// Empty segments: see test/conformance/recorded/routing.json (AWS-validated recordings).
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startGateway, writeApi } from '../helpers/index.js'

/** node:http sends the request target as written (undici and fetch resolve dot segments first). */
function get (port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, timeout: 10_000 }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString('utf8') })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')))
    req.on('error', reject)
    req.end()
  })
}

t.test('dot segments in {proxy+} stay under the integration URI prefix', async (t) => {
  const seen: string[] = []
  const backend = http.createServer((req, res) => { seen.push(req.url ?? ''); res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url })) })
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { backend.closeAllConnections(); backend.close(() => resolve()) }))
  const origin = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`
  const proxy = (uri: string) => ({
    'x-amazon-apigateway-any-method': {
      parameters: [{ name: 'proxy', in: 'path', required: true, schema: { type: 'string' } }],
      'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'ANY', uri, requestParameters: { 'integration.request.path.proxy': 'method.request.path.proxy' } },
    },
  })
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'dots', version: '1' },
    paths: { '/prefixed/{proxy+}': proxy(`${origin}/sandbox/{proxy}`) },
  })
  const gw = await startGateway({ args: [file] })
  t.teardown(gw.stop)

  for (const [sent, reached] of [
    ['/test/prefixed/%2e%2e/%2e%2e/admin', '/sandbox/%2E%2E/%2E%2E/admin'],
    ['/test/prefixed/%2E%2E/admin', '/sandbox/%2E%2E/admin'],
    ['/test/prefixed/../admin', '/sandbox/%2E%2E/admin'],
    ['/test/prefixed/./a/./b', '/sandbox/%2E/a/%2E/b'],
    ['/test/prefixed/a..b/.hidden/c.', '/sandbox/a..b/.hidden/c.'],
  ] as const) {
    const res = await get(gw.port, sent)
    t.equal(res.status, 200, `${sent}: 200`)
    t.strictSame(JSON.parse(res.body), { path: reached }, `${sent} reaches the backend as ${reached}`)
  }
  t.notOk(seen.some((p) => !p.startsWith('/sandbox/')), 'every backend request stays under /sandbox/')
})
