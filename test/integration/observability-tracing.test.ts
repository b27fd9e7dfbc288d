// Tracing, driven as a client: X-Amzn-Trace-Id as API Gateway passes it with tracingEnabled,
// W3C traceparent passed on, and OpenTelemetry spans exported over OTLP/HTTP to a loopback
// receiver that decodes what it gets.
// AWS facts (LocalStack's AWS-validated snapshot test_apigateway_common::test_invocation_trace_id):
// a MOCK method's reply carries no X-Amzn-Trace-Id even when the request had one; a
// proxied Lambda's reply does, keeping the caller's Root and Parent.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { startGateway, startEchoBackend, writeApi, request, until, waitForReady, mockIntegration } from '../helpers/index.js'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string | number
  endTimeUnixNano: string | number
  attributes?: { key: string; value: Record<string, unknown> }[]
}

/** A loopback OTLP/HTTP collector: decodes the JSON export requests on /v1/traces. */
async function startCollector(t: { teardown(fn: () => unknown): void }) {
  const spans: OtlpSpan[] = []
  const contentTypes: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']))
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans)
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => {
    server.closeAllConnections()
    server.close(() => r())
  }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, contentTypes }
}

const mock = mockIntegration()

t.test('tracingEnabled: X-Amzn-Trace-Id and traceparent to the backend; spans exported over OTLP/HTTP', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  const collector = await startCollector(t)
  writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'traced', version: '1' },
    paths: {
      '/proxy': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: `${echo.url}/p` } } },
      '/http': { get: { 'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'GET', uri: `${echo.url}/h`, responses: { default: { statusCode: '200' } } } } },
      '/mock': { get: { 'x-amazon-apigateway-integration': mock } },
    },
  }, 'api.json')
  const config = writeApi(t, {
    admin: { host: '127.0.0.1', port: 0 },
    tracing: { otlp: collector.url },
    apis: [{ id: 'traced', file: 'api.json', stages: { prod: { tracingEnabled: true } } }],
  }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config, '--workers', '1'] })
  t.teardown(() => gw.stop())
  // Ready means the worker has compiled the configuration, span exporter included.
  await waitForReady(gw, '/ready')

  // 1. A W3C caller: its trace id becomes the X-Ray root, and the backend's parent is the gateway's integration span.
  const traceId = '0af7651916cd43dd8448eb211c80319c'
  const callerSpan = 'b7ad6b7169203331'
  const viaProxy = await request(`${gw.url}/prod/proxy`, { headers: { traceparent: `00-${traceId}-${callerSpan}-01` } })
  t.equal(viaProxy.status, 200)
  const seen = viaProxy.json<{ headers: Record<string, string> }>().headers
  t.match(seen['x-amzn-trace-id'], /^Root=1-0af76519-16cd43dd8448eb211c80319c;Parent=[0-9a-f]{16};Sampled=1$/)
  const m = /^00-0af7651916cd43dd8448eb211c80319c-([0-9a-f]{16})-01$/.exec(seen.traceparent ?? '')
  t.ok(m, `traceparent to the backend: ${seen.traceparent}`)
  t.not(m?.[1], callerSpan, 'the backend is a child of the gateway, not of the caller')
  t.equal(viaProxy.headers['x-amzn-trace-id'], undefined, 'an HTTP_PROXY reply passes the backend\'s headers only')

  // 2. An X-Ray caller: Root and Parent kept, sent on, and returned (non-proxy integration).
  const xray = 'Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=1'
  const viaHttp = await request(`${gw.url}/prod/http`, { headers: { 'x-amzn-trace-id': xray } })
  t.equal(viaHttp.status, 200)
  t.equal(viaHttp.json<{ headers: Record<string, string> }>().headers['x-amzn-trace-id'], xray)
  t.equal(viaHttp.headers['x-amzn-trace-id'], xray)

  // 3. No header at all: a root is made, Root=1-{8 hex epoch seconds}-{24 hex}.
  const fresh = await request(`${gw.url}/prod/http`)
  const made = fresh.headers['x-amzn-trace-id'] as string
  t.match(made, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/)
  const epoch = parseInt(made.slice(7, 15), 16)
  t.ok(Math.abs(epoch - Date.now() / 1000) < 120, 'the root starts with the request time in epoch seconds')

  // 4. MOCK: no X-Amzn-Trace-Id in the reply, even when the request had one.
  const mocked = await request(`${gw.url}/prod/mock`, { headers: { 'x-amzn-trace-id': xray } })
  t.equal(mocked.status, 200)
  t.equal(mocked.headers['x-amzn-trace-id'], undefined)

  // The spans of request 1, as the collector decoded them.
  const mine = await until(() => {
    const s = collector.spans.filter((x) => x.traceId === traceId)
    return s.length >= 4 ? s : null
  }, 'the spans of the traced request')
  t.ok(collector.contentTypes.every((c) => c.startsWith('application/json')), 'OTLP/HTTP with JSON bodies')
  const root = mine.find((s) => s.name === 'GET /proxy')!
  t.ok(root, 'a server span for the request')
  t.equal(root.parentSpanId, callerSpan, 'its parent is the caller\'s span')
  t.equal(root.kind, 2, 'SPAN_KIND_SERVER')
  const names = mine.filter((s) => s.parentSpanId === root.spanId).map((s) => s.name).sort()
  t.strictSame(names, ['Integration', 'Integration response', 'Method request'])
  const integration = mine.find((s) => s.name === 'Integration')!
  t.equal(integration.spanId, m?.[1], 'the backend\'s traceparent names the integration span')
  t.equal(integration.kind, 3, 'SPAN_KIND_CLIENT')
  t.ok(BigInt(integration.startTimeUnixNano) >= BigInt(root.startTimeUnixNano) && BigInt(integration.endTimeUnixNano) <= BigInt(root.endTimeUnixNano), 'the integration lies within the request')
  t.match(root.attributes, [{ key: 'http.request.method', value: { stringValue: 'GET' } }])
  t.ok(collector.spans.some((s) => s.traceId === '3152b7998954dae64eda91bc9a23a7e8' && s.name === 'GET /http'), 'an X-Ray root is the W3C trace id of its spans')
})

t.test('a tracing stage without a collector passes traceparent on unchanged; a stage without tracingEnabled adds none', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  const paths = { '/http': { get: { 'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'GET', uri: `${echo.url}/h`, responses: { default: { statusCode: '200' } } } } } }
  writeApi(t, { openapi: '3.0.1', info: { title: 't', version: '1' }, paths }, 'api.json')
  const config = writeApi(t, { apis: [{ id: 't', file: 'api.json', stages: { on: { tracingEnabled: true }, off: {} } }] }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
  const on = (await request(`${gw.url}/on/http`, { headers: { traceparent: tp } })).json<{ headers: Record<string, string> }>().headers
  t.equal(on.traceparent, tp, 'passed on as it came')
  t.match(on['x-amzn-trace-id'], /^Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=[0-9a-f]{16};Sampled=1$/)
  const off = await request(`${gw.url}/off/http`, { headers: { traceparent: tp } })
  const offSeen = off.json<{ headers: Record<string, string> }>().headers
  // Without tracingEnabled the gateway's plain trace id still passes (as API Gateway's recorded replies show), but no traceparent is added.
  t.equal(offSeen.traceparent, undefined)
  t.equal(offSeen['x-amzn-trace-id'], off.headers['x-amzn-trace-id'])
})
