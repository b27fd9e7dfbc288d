// Method request validation, customized gateway responses, binary payloads and
// compression over HTTP. Developer guide pages: "Request validation for REST APIs in API
// Gateway", "Gateway responses for REST APIs", "Content type conversions in API Gateway",
// "Payload compression for REST APIs".
import t from 'tap'
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib'
import { startGateway, startEchoBackend, writeApi, request } from '../helpers/index.js'

t.test('method request', async (t) => {
  const backend = await startEchoBackend()
  t.teardown(() => backend.close())
  const echo = (path: string, extra: object = {}) => ({
    type: 'http', httpMethod: 'POST', uri: `${backend.url}${path}`, passthroughBehavior: 'WHEN_NO_MATCH',
    responses: { default: { statusCode: '200' } }, ...extra,
  })
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'mr', version: '1' },
    'x-amazon-apigateway-request-validators': {
      all: { validateRequestBody: true, validateRequestParameters: true },
      params: { validateRequestBody: false, validateRequestParameters: true },
    },
    'x-amazon-apigateway-request-validator': 'all',
    'x-amazon-apigateway-binary-media-types': ['image/png', 'application/octet-stream'],
    'x-amazon-apigateway-minimum-compression-size': 100,
    'x-amazon-apigateway-gateway-responses': {
      BAD_REQUEST_BODY: {
        statusCode: 422,
        responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" },
        responseTemplates: { 'application/json': '{"error":"$context.error.message","details":"$context.error.validationErrorString","type":"$context.error.responseType"}' },
      },
      DEFAULT_4XX: { responseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'*'" } },
    },
    paths: {
      '/pets': {
        post: {
          parameters: [{ name: 'q1', in: 'query', required: true }, { name: 'h1', in: 'header', required: true }],
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
          'x-amazon-apigateway-integration': echo('/pets'),
        },
      },
      '/params': {
        get: {
          'x-amazon-apigateway-request-validator': 'params',
          parameters: [{ name: 'b', in: 'query', required: true }, { name: 'a', in: 'query', required: true }],
          'x-amazon-apigateway-integration': echo('/params'),
        },
      },
      '/files': {
        post: { 'x-amazon-apigateway-request-validator': 'params', 'x-amazon-apigateway-integration': echo('/files', { contentHandling: 'CONVERT_TO_TEXT' }) },
      },
      '/big': {
        get: {
          'x-amazon-apigateway-request-validator': 'params',
          'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': `{"data":"${'x'.repeat(500)}"}` } } } },
        },
      },
    },
    components: {
      schemas: {
        Pet: { type: 'object', required: ['type', 'price'], properties: { type: { type: 'string', enum: ['dog', 'cat', 'fish'] }, price: { type: 'number', minimum: 25, maximum: 500 } } },
      },
    },
  })
  const gw = await startGateway({ args: [file, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/test`
  const good = '{"type":"dog","price":100}'

  t.test('a valid request reaches the backend', async (t) => {
    const res = await request(`${base}/pets?q1=x`, { method: 'POST', headers: { 'content-type': 'application/json', h1: 'y' }, body: good })
    t.equal(res.status, 200)
    t.equal(res.json().body, good)
  })

  t.test('a missing required query string or header: 400 BAD_REQUEST_PARAMETERS', async (t) => {
    const res = await request(`${base}/pets`, { method: 'POST', headers: { 'content-type': 'application/json', h1: 'y' }, body: good })
    t.equal(res.status, 400)
    t.equal(res.text, '{"message":"Missing required request parameters: [q1]"}')
    t.equal(res.headers['x-amzn-errortype'], 'BadRequestException')
    t.equal(res.headers['access-control-allow-origin'], '*', 'DEFAULT_4XX parameters apply')
    t.equal(backend.requests.filter((r) => r.path === '/pets').length, 1, 'the backend saw only the valid request')
  })

  t.test('several missing parameters are listed together', async (t) => {
    const res = await request(`${base}/params`)
    t.equal(res.status, 400)
    t.equal(res.text, '{"message":"Missing required request parameters: [a, b]"}')
  })

  t.test('an invalid body: the customized BAD_REQUEST_BODY with validationErrorString', async (t) => {
    const res = await request(`${base}/pets?q1=x`, { method: 'POST', headers: { 'content-type': 'application/json', h1: 'y' }, body: '{"type":"bird","price":100}' })
    t.equal(res.status, 422)
    t.equal(res.headers['x-amzn-errortype'], 'BadRequestException')
    t.equal(res.headers['access-control-allow-origin'], '*')
    // The template puts the string in unescaped, as API Gateway would: not JSON any more.
    t.equal(res.text, '{"error":"Invalid request body","details":"[instance value ("bird") not found in enum (possible values: ["dog","cat","fish"])]","type":"BAD_REQUEST_BODY"}')
  })

  t.test('a body that is not JSON is an invalid body', async (t) => {
    const res = await request(`${base}/pets?q1=x`, { method: 'POST', headers: { 'content-type': 'application/json', h1: 'y' }, body: '{nope' })
    t.equal(res.status, 422)
  })

  t.test('a gzip request body is decompressed before validation and integration', async (t) => {
    const res = await request(`${base}/pets?q1=x`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', h1: 'y' }, body: gzipSync(good) })
    t.equal(res.status, 200)
    t.equal(res.json().body, good)
  })

  t.test('an unsupported Content-Encoding gets 415', async (t) => {
    const res = await request(`${base}/pets?q1=x`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'br', h1: 'y' }, body: 'xx' })
    t.equal(res.status, 415)
    t.equal(res.text, '{"message":"Unsupported Media Type"}')
  })

  t.test('a response at or over minimumCompressionSize is gzip-compressed when the client accepts it', async (t) => {
    const res = await request(`${base}/big`, { headers: { 'accept-encoding': 'gzip' } })
    t.equal(res.status, 200)
    t.equal(res.headers['content-encoding'], 'gzip')
    t.equal(gunzipSync(res.body).toString(), `{"data":"${'x'.repeat(500)}"}`)
    const deflated = await request(`${base}/big`, { headers: { 'accept-encoding': 'deflate' } })
    t.equal(deflated.headers['content-encoding'], 'deflate')
    t.equal(inflateSync(deflated.body).toString().length, 511)
  })

  t.test('no Accept-Encoding, or a response under the threshold: not compressed', async (t) => {
    const plain = await request(`${base}/big`)
    t.equal(plain.headers['content-encoding'], undefined)
    t.equal(plain.text.length, 511)
    const small = await request(`${base}/params`, { headers: { 'accept-encoding': 'gzip' } })
    t.equal(small.headers['content-encoding'], undefined, 'the 400 body is under 100 bytes')
  })

  t.test('a body over 10 MB gets the API\'s REQUEST_TOO_LARGE, with the DEFAULT_4XX headers', async (t) => {
    const res = await request(`${base}/files`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: Buffer.alloc(10 * 1024 * 1024 + 1) })
    t.equal(res.status, 413)
    t.equal(res.text, '{"message":"Request Too Long"}')
    t.equal(res.headers['x-amzn-errortype'], 'RequestTooLargeException')
    t.equal(res.headers['access-control-allow-origin'], '*')
  })

  t.test('a binary payload with CONVERT_TO_TEXT reaches the backend base64-encoded', async (t) => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 255])
    const res = await request(`${base}/files`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png })
    t.equal(res.status, 200)
    t.equal(res.json().body, png.toString('base64'))
  })
})
