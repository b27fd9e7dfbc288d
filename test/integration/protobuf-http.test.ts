// Protobuf over HTTP/1.1 (x-backplane-protobuf with grpc: false): the JSON request becomes an
// application/x-protobuf body sent through the HTTP integration's undici path; a 2xx answer
// is decoded to canonical JSON before the integration response; other answers pass as they
// are. Mapping source: protobuf.dev "ProtoJSON Format".
import t from 'tap'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { startGateway, writeApi, request } from '../helpers/index.js'
import { PETS_PROTO, Pet, encode, startPetsHttp, startSplitHttp } from './protobuf-backends.js'

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
        post: {
          // The method response that responseParameters names (API Gateway refuses the import otherwise).
          responses: { '200': { description: 'ok', headers: { 'X-Backend': { type: 'string' } } } },
          ...op('/pets/missing', {
          responses: {
            '404': { statusCode: '404', responseTemplates: { 'application/json': '{"notFound": "$input.body"}' } },
            default: { statusCode: '200', responseParameters: { 'method.response.header.X-Backend': 'integration.response.header.x-backend' } },
          },
          }),
        },
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

t.test('a declared-length body that arrives in several reads is decoded whole (2xx) and passed whole (non-2xx)', async (t) => {
  const name = 'n'.repeat(300)
  const pet = encode(Pet, { pet_id: '7', display_name: name, tags: ['one', 'two'] })
  t.ok(pet.length > 300, 'the message is longer than each part')
  const third = Math.ceil(pet.length / 3)
  const text = Buffer.from('no such pet, '.repeat(30))
  const backend = await startSplitHttp((url) => url === '/pets/split'
    ? { status: '200 OK', headers: ['Content-Type: application/x-protobuf'], parts: [pet.subarray(0, third), pet.subarray(third, 2 * third), pet.subarray(2 * third)] }
    : { status: '404 Not Found', headers: ['Content-Type: text/plain'], parts: [text.subarray(0, 100), text.subarray(100, 200), text.subarray(200)] })
  t.teardown(() => backend.close())
  const op = (path: string) => ({
    'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri: `${backend.url}${path}` },
    'x-backplane-protobuf': { proto: PETS_PROTO, request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: false },
  })
  const file = writeApi(t, { swagger: '2.0', info: { title: 'pets-split', version: '1' }, paths: { '/split': { post: op('/pets/split') }, '/split-missing': { post: op('/pets/split-missing') } } })
  const gw = await startGateway({ args: [file, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const post = (path: string) => request(`${gw.url}/test${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000 })

  const res = await post('/split')
  t.equal(res.status, 200)
  t.equal(res.headers['content-type'], 'application/json')
  t.strictSame(res.json(), { petId: '7', displayName: name, tags: ['one', 'two'] })
  t.equal(res.headers['content-length'], String(res.body.length))
  t.notMatch(gw.output(), /does not decode/)

  const missing = await post('/split-missing')
  t.equal(missing.status, 404)
  t.equal(missing.headers['content-type'], 'text/plain')
  t.equal(missing.text, text.toString())
  t.equal(missing.headers['content-length'], String(text.length))
})

t.test('SIGHUP reloads changed .proto files: the workers transcode with the new definitions', async (t) => {
  const backend = await startPetsHttp()
  t.teardown(() => backend.close())
  const op = {
    'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri: `${backend.url}/pets/get` },
    'x-backplane-protobuf': { proto: './protos/pets/v1/pets.proto', request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: false },
  }
  const file = writeApi(t, { openapi: '3.0.1', info: { title: 'reload', version: '1' }, paths: { '/pets': { post: op } } })
  // A copy of the fixture tree beside the API file, to edit.
  const protos = join(dirname(file), 'protos')
  const fixtures = join(dirname(PETS_PROTO), '..', '..')
  for (const rel of ['pets/v1/pets.proto', 'common/v1/money.proto']) {
    mkdirSync(dirname(join(protos, rel)), { recursive: true })
    writeFileSync(join(protos, rel), readFileSync(join(fixtures, rel)))
  }
  const gw = await startGateway({ args: [file, '--workers', '2'] })
  t.teardown(() => gw.stop())
  const post = () => request(`${gw.url}/test/pets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"view": "v", "nickname": "Rexy"}' })
  let res = await post()
  t.equal(res.status, 400)
  t.strictSame(res.json(), { message: 'Invalid request body: nickname: unknown field: pets.v1.GetPetRequest has no field "nickname"' })

  const petsProto = join(protos, 'pets/v1/pets.proto')
  writeFileSync(petsProto, readFileSync(petsProto, 'utf8').replace('Species species = 5;', 'Species species = 5;\n  string nickname = 6;'))
  gw.signal('SIGHUP')
  for (let i = 0; i < 100 && !/reloaded: configuration version 1/.test(gw.output()); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(gw.output(), /reloaded: configuration version 1/)
  // Two workers: each swaps once it has compiled the new configuration (the reload line is
  // printed when it is published), then whichever runs a request knows the new field.
  let answers = await Promise.all(Array.from({ length: 10 }, post))
  for (let i = 0; i < 40 && answers.some((r) => r.status !== 200); i++) {
    await new Promise((r) => setTimeout(r, 50))
    answers = await Promise.all(Array.from({ length: 10 }, post))
  }
  t.strictSame([...new Set(answers.map((r) => r.status))], [200])
  t.strictSame(answers[0]!.json(), { displayName: 'v' }, 'the backend (an older version of the message) ignores the new field')

  writeFileSync(petsProto, 'syntax = "proto3";\nmessage {')
  gw.signal('SIGHUP')
  for (let i = 0; i < 100 && !/reload refused/.test(gw.output()); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(gw.output(), /x-backplane-protobuf\/proto: protos\/pets\/v1\/pets\.proto:2: /, 'a broken file is refused with its line')
  res = await post()
  t.equal(res.status, 200, 'the running configuration stays')
})
