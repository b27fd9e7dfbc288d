// HTTP (non-proxy) integrations: requestParameters, request templates chosen by
// Content-Type with passthroughBehavior, integration responses chosen by selectionPattern
// on the backend status, responseParameters and response templates.
// Developer guide: "Set up an API integration request", "Integration passthrough
// behaviors", "Set up an integration response".
import t from 'tap'
import { startGateway, startEchoBackend, writeApi, request } from '../helpers/index.js'

t.test('http integration', async (t) => {
  const backend = await startEchoBackend()
  t.teardown(() => backend.close())
  const responses = {
    '4\\d{2}': { statusCode: '400', responseTemplates: { 'application/json': '{"failed":true}' } },
    '5\\d{2}': { statusCode: '502', responseParameters: { 'method.response.header.X-Backend-Status': 'integration.response.header.x-status-text' } },
    default: {
      statusCode: '200',
      responseParameters: {
        'method.response.header.X-Static': "'static-value'",
        'method.response.header.X-Echoed-Method': 'integration.response.body.method',
        'method.response.header.X-From-Backend': 'integration.response.header.x-from-backend',
      },
    },
  }
  const http = (passthroughBehavior: string, requestTemplates: Record<string, string>, extra: object = {}) => ({
    type: 'http',
    httpMethod: 'POST',
    uri: `${backend.url}/items/{id}`,
    passthroughBehavior,
    requestTemplates,
    requestParameters: {
      'integration.request.path.id': 'method.request.path.id',
      'integration.request.querystring.q': 'method.request.querystring.search',
      'integration.request.header.x-api-version': "'2'",
      'integration.request.header.x-user': 'method.request.header.x-user',
      // The echo backend's steering headers reach it only when mapped, like any other.
      'integration.request.header.x-echo-status': 'method.request.header.x-echo-status',
      'integration.request.header.x-echo-header-x-status-text': 'method.request.header.x-echo-header-x-status-text',
    },
    responses,
    ...extra,
  })
  // API Gateway requires the mapped headers to be declared by the method responses.
  const header = { schema: { type: 'string' } }
  const methodResponses = {
    '200': { description: 'ok', headers: { 'X-Static': header, 'X-Echoed-Method': header, 'X-From-Backend': header } },
    '502': { description: 'backend failed', headers: { 'X-Backend-Status': header } },
  }
  const op = (integration: object) => ({ responses: methodResponses, 'x-amazon-apigateway-integration': integration })
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'http', version: '1' },
    paths: {
      '/match/{id}': { put: op(http('WHEN_NO_MATCH', { 'application/json': '{"templated":true}' })) },
      '/templates/{id}': { put: op(http('WHEN_NO_TEMPLATES', { 'application/json': '{"templated":true}' })) },
      '/notemplates/{id}': { put: op(http('WHEN_NO_TEMPLATES', {})) },
      '/never/{id}': { put: op(http('NEVER', { 'application/json': '{"templated":true}' })) },
      '/xml/{id}': {
        put: {
          responses: methodResponses,
          'x-amazon-apigateway-integration': http('WHEN_NO_MATCH', {}, {
            responses: { default: { statusCode: '201', responseTemplates: { 'application/xml': '<ok/>', 'application/json': '{"ok":1}' } } },
          }),
        },
      },
      '/nodefault/{id}': {
        put: op(http('WHEN_NO_MATCH', {}, { responses: { '2\\d{2}': { statusCode: '200' } } })),
      },
    },
  })
  const gw = await startGateway({ args: [file, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/test`

  t.test('sends only the mapped parameters and the rendered template', async (t) => {
    const res = await request(`${base}/match/42?search=cats&other=1`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-user': 'ann', 'x-unmapped': 'no' }, body: '{"in":1}' })
    t.equal(res.status, 200)
    const seen = res.json()
    t.equal(seen.method, 'POST', 'httpMethod of the integration, not the method request')
    t.equal(seen.path, '/items/42')
    t.equal(seen.query, 'q=cats')
    t.equal(seen.body, '{"templated":true}')
    t.equal(seen.headers['x-api-version'], '2')
    t.equal(seen.headers['x-user'], 'ann')
    t.equal(seen.headers['x-unmapped'], undefined, 'unmapped method request headers are not sent')
    t.equal(seen.headers['content-type'], 'application/json')
    t.equal(res.headers['x-static'], 'static-value')
    t.equal(res.headers['x-echoed-method'], 'POST')
    t.equal(res.headers['content-type'], 'application/json')
  })

  t.test('a request without Content-Type is taken as application/json', async (t) => {
    const res = await request(`${base}/never/1`, { method: 'PUT', body: 'x' })
    t.equal(res.status, 200)
    t.equal(res.json().body, '{"templated":true}')
  })

  t.test('WHEN_NO_MATCH passes an unmatched body through unmapped', async (t) => {
    const res = await request(`${base}/match/1`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'raw text' })
    t.equal(res.status, 200)
    t.equal(res.json().body, 'raw text')
    t.equal(res.json().headers['content-type'], 'text/plain')
  })

  t.test('WHEN_NO_TEMPLATES with templates refuses an unmatched Content-Type with 415', async (t) => {
    const res = await request(`${base}/templates/1`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'raw' })
    t.equal(res.status, 415)
    t.equal(res.text, '{"message":"Unsupported Media Type"}')
    t.equal(res.headers['x-amzn-errortype'], 'UnsupportedMediaTypeException')
  })

  t.test('WHEN_NO_TEMPLATES without templates passes through', async (t) => {
    const res = await request(`${base}/notemplates/1`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'raw' })
    t.equal(res.status, 200)
    t.equal(res.json().body, 'raw')
  })

  t.test('NEVER refuses an unmatched Content-Type with 415', async (t) => {
    const res = await request(`${base}/never/1`, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'raw' })
    t.equal(res.status, 415)
  })

  t.test('selectionPattern on the backend status picks the integration response', async (t) => {
    const r4 = await request(`${base}/match/1`, { method: 'PUT', headers: { 'x-echo-status': '404' } })
    t.equal(r4.status, 400)
    t.equal(r4.text, '{"failed":true}')
    const r5 = await request(`${base}/match/1`, { method: 'PUT', headers: { 'x-echo-status': '503', 'x-echo-header-x-status-text': 'down' } })
    t.equal(r5.status, 502)
    t.equal(r5.headers['x-backend-status'], 'down')
    const r2 = await request(`${base}/match/1`, { method: 'PUT', headers: { 'x-echo-status': '202' } })
    t.equal(r2.status, 200, 'default takes what no pattern matches')
  })

  t.test('the response template is chosen by Accept', async (t) => {
    const xml = await request(`${base}/xml/1`, { method: 'PUT', headers: { accept: 'application/xml' } })
    t.equal(xml.status, 201)
    t.equal(xml.text, '<ok/>')
    t.equal(xml.headers['content-type'], 'application/xml')
    const other = await request(`${base}/xml/1`, { method: 'PUT', headers: { accept: 'text/csv' } })
    t.equal(other.text, '{"ok":1}', 'no match: application/json')
  })

  t.test('no matching integration response and no default: 500', async (t) => {
    const res = await request(`${base}/nodefault/1`, { method: 'PUT', headers: { 'x-echo-status': '404' } })
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
  })
})
