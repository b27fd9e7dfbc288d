// HTTP and HTTP_PROXY integration conformance: the headers API Gateway adds, drops and
// remaps, replayed from LocalStack's AWS-validated recording
// tests/aws/services/apigateway/test_apigateway_integrations.snapshot.json,
// TestApiGatewayHeaderRemapping::test_apigateway_header_remapping_http[HTTP] and [HTTP_PROXY]
// (the same client headers, request parameters and response parameters as the recording).
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { startGateway, writeApi, request } from '../helpers/index.js'

/** The recording's HEADERS list: every header the test maps both ways. */
const HEADERS = ['Accept', 'Accept-Charset', 'Accept-Encoding', 'Age', 'Authorization', 'Connection', 'Content-Encoding', 'Content-Length', 'Content-MD5', 'Content-Type', 'Date', 'Expect', 'Host', 'Max-Forwards', 'Pragma', 'Proxy-Authenticate', 'Range', 'Referer', 'Server', 'TE', 'Transfer-Encoding', 'Trailer', 'Upgrade', 'User-Agent', 'Via', 'Warn', 'WWW-Authenticate']

/** The recording's REQUEST_PARAMETERS, less Content-Length and Transfer-Encoding (their own cases). */
const REQUEST_PARAMETERS: Record<string, string> = {
  'integration.request.header.Accept': "'text/html'",
  'integration.request.header.Accept-Charset': "'UTF-16'",
  'integration.request.header.Accept-Encoding': "'zstd'",
  'integration.request.header.Age': "'request_params_age'",
  'integration.request.header.Authorization': "'request_params_authorization'",
  'integration.request.header.Content-Encoding': "'compress'",
  'integration.request.header.Content-MD5': "'request_params_Content-MD5'",
  'integration.request.header.Content-Type': "'application/json'",
  'integration.request.header.Date': "'request_params_Date'",
  'integration.request.header.Expect': "'200-ok'",
  'integration.request.header.Host': 'method.request.header.Host',
  'integration.request.header.Max-Forwards': "'2'",
  'integration.request.header.Pragma': "'no-cache'",
  'integration.request.header.Range': "'bytes=0-499'",
  'integration.request.header.Referer': "'https://example.com/page'",
  'integration.request.header.Server': "'https://example.com/page'",
  'integration.request.header.Trailer': "'user-agent'",
  'integration.request.header.Upgrade': "'HTTP/2.0'",
  'integration.request.header.User-Agent': "'Override-Agent'",
  'integration.request.header.Warn': "'110 anderson/1.3.37 \"Response is stale\"'",
  'integration.request.header.WWW-Authenticate': "'Basic YWxhZGRpbjpvcGVuc2VzYW1l'",
  'integration.request.header.Connection': "'keep-alive'",
  'integration.request.header.Proxy-Authenticate': "'Basic realm=\"Access to the internal site\"'",
  'integration.request.header.TE': "'gzip'",
  'integration.request.header.Via': "'othersite.net'",
}

/** The recording's client request headers (invoke_api). */
const CLIENT_HEADERS: [string, string][] = [
  ['Accept', 'application/json'], ['Accept-Charset', 'UTF-8'], ['Accept-Encoding', 'br'], ['Age', 'request_Age'],
  ['Authorization', 'Unauthorized'], ['Connection', 'close'], ['Content-Encoding', 'deflate'], ['Content-MD5', 'request_Content-MD5'],
  ['Content-Type', 'application/json'], ['Date', 'request_Date'], ['Max-Forwards', '2'], ['Pragma', 'cache'],
  ['Proxy-Authenticate', 'Basic'], ['Range', 'bytes=500-999'], ['Referer', 'https://example.com/'], ['Server', 'https://example.com/'],
  ['TE', 'deflate'], ['Trailer', 'Expires'], ['Upgrade', 'HTTP/2.0'], ['User-Agent', 'localStack/0.0'], ['Via', 'p.example.net'],
  ['Warn', '299 localStack/0.0'], ['WWW-Authenticate', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l'],
]

interface RawResponse { status: number; headers: Map<string, string>; body: string }

/** One request with exactly these header lines (undici refuses several of them), over a fresh socket. */
function rawRequest(port: number, path: string, headers: [string, string][]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw request timed out')) }, 10_000)
    sock.on('data', (c) => chunks.push(c))
    sock.on('error', (e) => { clearTimeout(timer); reject(e) })
    sock.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      const lines = text.slice(0, end).split('\r\n')
      const map = new Map<string, string>()
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':')
        const k = l.slice(0, c).toLowerCase()
        map.set(k, map.has(k) ? map.get(k) + ', ' + l.slice(c + 1).trim() : l.slice(c + 1).trim())
      }
      resolve({ status: Number(lines[0]!.split(' ')[1]), headers: map, body: text.slice(end + 4) })
    })
    sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` + headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n')
  })
}

t.test('HTTP and HTTP_PROXY headers, as recorded', async (t) => {
  // The backend answers with what it received (raw header names) and headers of its own, as httpbin did.
  const received: string[][] = []
  const backend = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      received.push(req.rawHeaders)
      const status = Number(req.headers['x-status'] ?? 200)
      const body = JSON.stringify({ headers: req.rawHeaders })
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Server: 'gunicorn/19.9.0', 'Access-Control-Allow-Origin': '*' })
      res.end(body)
    })
  })
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => { backend.closeAllConnections(); backend.close(() => r()) }))
  const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/echo`
  const responseHeaders = Object.fromEntries(HEADERS.map((h) => [h, { schema: { type: 'string' } }]))
  const op = (integration: object) => ({ responses: { '200': { description: 'ok', headers: responseHeaders } }, 'x-amazon-apigateway-integration': integration })
  const http_ = (extra: object = {}) => ({ type: 'http', httpMethod: 'POST', uri: url, responses: { default: { statusCode: '200' } }, ...extra })
  const proxy = (extra: object = {}) => ({ type: 'http_proxy', httpMethod: 'POST', uri: url, ...extra })
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'remap', version: '1' },
    paths: {
      '/http/no-param': { get: op(http_()) },
      '/http/full': {
        get: op(http_({
          requestParameters: REQUEST_PARAMETERS,
          responses: { default: { statusCode: '200', responseParameters: Object.fromEntries(HEADERS.map((h) => [`method.response.header.${h}`, `'response_param_${h}'`])) } },
        })),
      },
      '/http/content-length': { get: op(http_({ requestParameters: { 'integration.request.header.Content-Length': "'0'" } })) },
      '/http/transfer-encoding': { get: op(http_({ requestParameters: { 'integration.request.header.Transfer-Encoding': "'deflate'" } })) },
      '/http/status': { get: op(http_({ requestParameters: { 'integration.request.header.x-status': 'method.request.header.x-status' } })) },
      '/proxy/no-param': { get: { 'x-amazon-apigateway-integration': proxy() } },
      '/proxy/full': { get: { 'x-amazon-apigateway-integration': proxy({ requestParameters: REQUEST_PARAMETERS }) } },
      '/proxy/content-length': { get: { 'x-amazon-apigateway-integration': proxy({ requestParameters: { 'integration.request.header.Content-Length': "'0'" } }) } },
      '/proxy/transfer-encoding': { get: { 'x-amazon-apigateway-integration': proxy({ requestParameters: { 'integration.request.header.Transfer-Encoding': "'deflate'" } }) } },
    },
  }, 'remap.json')
  const gw = await startGateway({ args: [file, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const last = () => {
    const raw = received[received.length - 1]!
    const m = new Map<string, string>()
    for (let i = 0; i < raw.length; i += 2) m.set(raw[i]!.toLowerCase(), raw[i + 1]!)
    return m
  }

  t.test('"no-param-integration" [HTTP]: only API Gateway\'s own headers reach the backend', async (t) => {
    const res = await rawRequest(gw.port, '/test/http/no-param', CLIENT_HEADERS)
    t.equal(res.status, 200)
    const seen = last()
    t.strictSame([...seen.keys()].filter((k) => k !== 'host' && k !== 'content-length' && k !== 'connection').sort(), ['accept', 'user-agent', 'x-amzn-apigateway-api-id', 'x-amzn-trace-id'])
    t.equal(seen.get('accept'), 'application/json')
    t.equal(seen.get('user-agent'), 'AmazonAPIGateway_remap')
    t.equal(seen.get('x-amzn-apigateway-api-id'), 'remap')
    t.match(seen.get('x-amzn-trace-id'), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/)
    t.equal(res.headers.get('content-type'), 'application/json')
    t.equal(res.headers.get('x-amzn-trace-id'), seen.get('x-amzn-trace-id'), 'the response carries the trace id the backend got')
    t.equal(res.headers.get('x-amzn-remapped-server'), undefined, 'a non-proxy answer passes no backend header')
  })

  t.test('"full-integration" [HTTP]: mapped headers are sent, but Connection, Expect, Proxy-Authenticate, TE, Via and Upgrade are not', async (t) => {
    const res = await rawRequest(gw.port, '/test/http/full', CLIENT_HEADERS)
    t.equal(res.status, 200)
    const seen = last()
    t.equal(seen.get('accept'), 'text/html')
    t.equal(seen.get('accept-charset'), 'UTF-16')
    t.equal(seen.get('authorization'), 'request_params_authorization')
    t.equal(seen.get('content-encoding'), 'compress')
    t.equal(seen.get('content-md5'), 'request_params_Content-MD5')
    t.equal(seen.get('max-forwards'), '2')
    t.equal(seen.get('server'), 'https://example.com/page')
    t.equal(seen.get('trailer'), 'user-agent')
    t.equal(seen.get('user-agent'), 'Override-Agent')
    t.equal(seen.get('www-authenticate'), 'Basic YWxhZGRpbjpvcGVuc2VzYW1l')
    t.equal(seen.get('host'), `127.0.0.1:${gw.port}`, 'Host mapped from method.request.header.Host')
    t.equal(seen.get('x-amzn-apigateway-api-id'), 'remap')
    for (const gone of ['expect', 'proxy-authenticate', 'te', 'via', 'upgrade']) t.equal(seen.get(gone), undefined, `${gone} is dropped`)
    t.not(seen.get('connection'), "keep-alive'", 'Connection is the gateway\'s own')
  })

  t.test('"full-integration" [HTTP]: method response headers API Gateway owns come back as x-amzn-Remapped-*', async (t) => {
    const res = await rawRequest(gw.port, '/test/http/full', CLIENT_HEADERS)
    const h = res.headers
    for (const name of ['Authorization', 'Connection', 'Content-Length', 'Content-MD5', 'Date', 'Expect', 'Host', 'Max-Forwards', 'Proxy-Authenticate', 'Server', 'Trailer', 'Upgrade', 'User-Agent', 'WWW-Authenticate']) {
      t.equal(h.get(`x-amzn-remapped-${name.toLowerCase()}`), `response_param_${name}`, `x-amzn-Remapped-${name}`)
    }
    for (const name of ['Accept', 'Accept-Charset', 'Accept-Encoding', 'Age', 'Content-Encoding', 'Pragma', 'Range', 'Referer', 'TE', 'Warn']) {
      t.equal(h.get(name.toLowerCase()), `response_param_${name}`, `${name} as mapped`)
    }
    t.equal(h.get('content-type'), 'response_param_Content-Type')
    t.not(h.get('transfer-encoding'), 'response_param_Transfer-Encoding', 'Transfer-Encoding is never mapped')
  })

  t.test('"no-param-integration" [HTTP_PROXY]: the client\'s headers pass, less the ones API Gateway drops; the backend\'s Server, Date, Content-Length, Connection are remapped', async (t) => {
    const res = await rawRequest(gw.port, '/test/proxy/no-param', CLIENT_HEADERS)
    t.equal(res.status, 200)
    const seen = last()
    for (const [k, v] of [['accept', 'application/json'], ['accept-charset', 'UTF-8'], ['accept-encoding', 'br'], ['age', 'request_Age'], ['authorization', 'Unauthorized'], ['content-type', 'application/json'], ['date', 'request_Date'], ['pragma', 'cache'], ['range', 'bytes=500-999'], ['referer', 'https://example.com/'], ['user-agent', 'localStack/0.0'], ['warn', '299 localStack/0.0'], ['x-amzn-apigateway-api-id', 'remap']]) {
      t.equal(seen.get(k!), v, k)
    }
    for (const gone of ['content-encoding', 'content-md5', 'expect', 'max-forwards', 'proxy-authenticate', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via', 'www-authenticate']) t.equal(seen.get(gone), undefined, `${gone} is dropped`)
    t.match(seen.get('host'), /^127\.0\.0\.1:\d+$/)
    t.not(seen.get('host'), `127.0.0.1:${gw.port}`, "Host is the backend's")
    const h = res.headers
    t.equal(h.get('x-amzn-remapped-server'), 'gunicorn/19.9.0')
    t.match(h.get('x-amzn-remapped-date'), /GMT$/)
    t.match(h.get('x-amzn-remapped-content-length'), /^\d+$/)
    t.equal(h.get('x-amzn-remapped-connection'), 'keep-alive')
    t.equal(h.get('access-control-allow-origin'), '*')
    t.equal(h.get('content-type'), 'application/json')
    t.equal(h.get('x-amzn-trace-id'), undefined, 'HTTP_PROXY answers carry no trace id (recorded)')
  })

  t.test('"full-integration" [HTTP_PROXY]: mapped hop-by-hop headers are dropped, never a 502', async (t) => {
    const res = await rawRequest(gw.port, '/test/proxy/full', CLIENT_HEADERS)
    t.equal(res.status, 200)
    const seen = last()
    t.equal(seen.get('accept'), 'text/html')
    t.equal(seen.get('content-encoding'), 'compress')
    t.equal(seen.get('user-agent'), 'Override-Agent')
    for (const gone of ['expect', 'proxy-authenticate', 'te', 'via', 'upgrade']) t.equal(seen.get(gone), undefined, `${gone} is dropped`)
  })

  for (const kind of ['http', 'proxy']) {
    for (const mapped of ['content-length', 'transfer-encoding']) {
      t.test(`"${mapped}" [${kind === 'http' ? 'HTTP' : 'HTTP_PROXY'}]: mapping ${mapped} answers 500 Internal server error`, async (t) => {
        const before = received.length
        const res = await request(`${gw.url}/test/${kind}/${mapped}`)
        t.equal(res.status, 500)
        t.equal(res.text, '{"message": "Internal server error"}')
        t.equal(res.headers['x-amzn-errortype'], 'InternalServerErrorException')
        t.equal(received.length, before, 'the backend is not called')
      })
    }
  }

  t.test('a backend status outside 100-599 answers 502', async (t) => {
    const res = await request(`${gw.url}/test/http/status`, { headers: { 'x-status': '700' } })
    t.equal(res.status, 502)
    t.equal(res.text, '{"message": "Internal server error"}')
    t.equal((await request(`${gw.url}/test/http/status`, { headers: { 'x-status': '599' } })).status, 200, '599 is a status: the default response')
  })
})
