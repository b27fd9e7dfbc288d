// `backplane routes` shows the messages and the transport of each transcoded route (x-backplane-protobuf).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CLI_PATH, REPO_ROOT } from '../../helpers/gateway.js'

const PETS = fileURLToPath(new URL('../../fixtures/protos/pets/v1/pets.proto', import.meta.url))

t.test('routes prints request → response messages and gRPC or HTTP/1.1 for transcoded routes', async (t) => {
  const op = (grpc: boolean, uri: string) => ({
    'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri },
    'x-backplane-protobuf': { proto: PETS, request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc },
  })
  const doc = {
    openapi: '3.0.1',
    info: { title: 'routes', version: '1' },
    paths: {
      '/grpc': { post: op(true, 'http://127.0.0.1:9000/pets.v1.Pets/Get') },
      '/h1': { post: op(false, 'http://127.0.0.1:9001/pets/get') },
      '/plain': { post: { 'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri: 'http://127.0.0.1:9002/x' } } },
    },
  }
  const dir = t.testdir({ 'api.json': JSON.stringify(doc) })
  const r = spawnSync(process.execPath, [CLI_PATH, 'routes', join(dir, 'api.json')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout, [
    'API  STAGE  METHOD  RESOURCE  INTEGRATION',
    'api  test   POST    /grpc     HTTP POST http://127.0.0.1:9000/pets.v1.Pets/Get [gRPC pets.v1.GetPetRequest → pets.v1.Pet]',
    'api  test   POST    /h1       HTTP POST http://127.0.0.1:9001/pets/get [protobuf/HTTP 1.1 pets.v1.GetPetRequest → pets.v1.Pet]',
    'api  test   POST    /plain    HTTP POST http://127.0.0.1:9002/x',
    '',
  ].join('\n'))
})
