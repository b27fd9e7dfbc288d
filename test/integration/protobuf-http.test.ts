// Protobuf over HTTP/1.1 (x-backplane-protobuf with grpc: false): the JSON request becomes an
// application/x-protobuf body sent through the HTTP integration's undici path; a 2xx answer
// is decoded to canonical JSON before the integration response; other answers pass as they
// are. Mapping source: protobuf.dev "ProtoJSON Format".
import t from 'tap'
import { startGateway, writeApi, request } from '../helpers/index.js'
import { PETS_PROTO, startPetsHttp } from './protobuf-backends.js'

t.test('protobuf over HTTP/1.1', async (t) => {
  const backend = await startPetsHttp()
  t.teardown(() => backend.close())
  const op = (path: string, extra: object = {}) => ({
    'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'PUT', uri: `\${stageVariables.backend}${path}`, ...extra },
    'x-backplane-protobuf': { proto: PETS_PROTO, request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: false },
  })
  const file = writeApi(t, {
    swagger: '2.0',
    info: { title: 'pets-h1', version: '1' },
    paths: {
      '/pets/{petId}': { post: op('/pets/get') },
      '/garbage': { post: op('/pets/garbage') },
      '/missing-raw': { post: op('/pets/missing') },
      '/missing': {
        post: op('/pets/missing', {
          responses: {
            '404': { statusCode: '404', responseTemplates: { 'application/json': '{"notFound": "$input.body"}' } },
            default: { statusCode: '200', responseParameters: { 'method.response.header.X-Backend': 'integration.response.header.x-backend' } },
          },
        }),
      },
    },
  })
  const gw = await startGateway({ args: [file, '--workers', '1', '--stage-var', `backend=${backend.url}`] })
  t.teardown(() => gw.stop())
  const post = (path: string, body: string) => request(`${gw.url}/test${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

  t.test('sends application/x-protobuf with the integration\'s method; answers canonical JSON', async (t) => {
    const res = await post('/pets/41?species=CAT', '{"view": "v", "fields": ["a"]}')
    t.equal(res.status, 200)
    t.equal(res.headers['content-type'], 'application/json')
    t.strictSame(res.json(), { petId: '41', displayName: 'v', species: 'CAT', tags: ['a'] })
    t.strictSame(backend.last(), { method: 'PUT', url: '/pets/get', contentType: 'application/x-protobuf', accept: 'application/x-protobuf' })
  })

  t.test('a body that does not fit: 400 before any backend call', async (t) => {
    const res = await post('/pets/1', '{"verbose": "yes"}')
    t.equal(res.status, 400)
    t.strictSame(res.json(), { message: 'Invalid request body: verbose: expected true or false, got "yes"' })
  })

  t.test('a 2xx answer that does not decode: 502, the reason logged', async (t) => {
    const res = await post('/garbage', '{}')
    t.equal(res.status, 502)
    t.strictSame(res.json(), { message: 'Internal server error' })
    t.match(gw.output(), /does not decode as pets\.v1\.Pet/)
  })

  t.test('a non-2xx answer is not the response message: it reaches the integration response undecoded', async (t) => {
    const res = await post('/missing', '{}')
    t.equal(res.status, 404)
    t.strictSame(res.json(), { notFound: 'no such pet' })
    const raw = await post('/missing-raw', '{}')
    t.equal(raw.status, 404, 'without responses declared, the answer passes as it is')
    t.equal(raw.headers['content-type'], 'text/plain')
    t.equal(raw.text, 'no such pet')
  })
})
