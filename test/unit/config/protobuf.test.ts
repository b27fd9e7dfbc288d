// x-backplane-protobuf at load (src/config/extensions/protobuf.ts): .proto files parsed once,
// imports resolved, every problem refused as `file: /pointer: reason` with the .proto file,
// its line and the reason.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { loadGateway } from '../../../src/config/load.js'
import { ConfigError, formatProblem } from '../../../src/errors.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/protos/', import.meta.url))
const fixture = (p: string) => readFileSync(join(FIXTURES, p), 'utf8')
/** The fixture tree, copied so that messages show paths relative to the API file. */
const PROTOS = {
  pets: { v1: { 'pets.proto': fixture('pets/v1/pets.proto') } },
  common: { v1: { 'money.proto': fixture('common/v1/money.proto') } },
  broken: {
    'syntax.proto': fixture('broken/syntax.proto'),
    'missing-import.proto': fixture('broken/missing-import.proto'),
    'unknown-type.proto': fixture('broken/unknown-type.proto'),
  },
  mapping: { v1: { 'mapping.proto': fixture('mapping/v1/mapping.proto') } },
}

const OP_PTR = '/paths/~1pets/post'

function api(protobuf: unknown, integration: object = { type: 'http', httpMethod: 'POST', uri: 'http://127.0.0.1:9/pets.v1.Pets/Get' }) {
  return JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'pb', version: '1' },
    paths: { '/pets': { post: { 'x-amazon-apigateway-integration': integration, 'x-backplane-protobuf': protobuf } } },
  })
}
const good = { proto: './protos/pets/v1/pets.proto', request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: true }

/** The error lines of a load, as `backplane check` prints them. */
function errors(dir: string): string[] {
  try {
    loadGateway({ apiFiles: [join(dir, 'api.json')], configFile: null })
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.filter((p) => p.severity === 'error').map(formatProblem)
    throw err
  }
  return []
}

t.test('a valid extension loads: imports resolved from a folder above, the messages in the model', async (t) => {
  const dir = t.testdir({ 'api.json': api(good), protos: PROTOS })
  const { gateway, warnings } = loadGateway({ apiFiles: [join(dir, 'api.json')], configFile: null })
  t.strictSame(warnings, [])
  const pb = gateway.apis[0]!.operations[0]!.protobuf!
  t.match(pb, { protoFile: join(dir, 'protos/pets/v1/pets.proto'), request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: true, discardUnknown: false, pointer: `${OP_PTR}/x-backplane-protobuf` })
  const nested = JSON.stringify(pb.descriptor)
  t.match(nested, /"Money"/, 'the imported common/v1/money.proto is in the definitions')
  t.match(nested, /"Timestamp"/, 'and the bundled well-known types')
})

t.test('one .proto file is parsed once and shared; a changed file is parsed again', async (t) => {
  const doc = JSON.parse(api(good))
  doc.paths['/other'] = { post: doc.paths['/pets'].post }
  const dir = t.testdir({ 'api.json': JSON.stringify(doc), protos: PROTOS })
  const load = () => loadGateway({ apiFiles: [join(dir, 'api.json')], configFile: null }).gateway.apis[0]!.operations
  const [a, b] = load()
  t.equal(a!.protobuf!.descriptor, b!.protobuf!.descriptor, 'the same object: structured clone keeps it one for the workers')
  t.equal(load()[0]!.protobuf!.descriptor, a!.protobuf!.descriptor, 'unchanged files: reused on reload')
  const file = join(dir, 'protos/common/v1/money.proto')
  writeFileSync(file, readFileSync(file, 'utf8').replace('int32 nanos = 3;', 'int32 nanos = 3;\n  string note = 4;'))
  const again = load()[0]!.protobuf!.descriptor
  t.not(again, a!.protobuf!.descriptor)
  t.match(JSON.stringify(again), /"note"/, 'the changed import is read again')
})

t.test('a .proto file that does not parse: its file, line and reason', async (t) => {
  const dir = t.testdir({ 'api.json': api({ ...good, proto: 'protos/broken/syntax.proto', request: 'broken.v1.Bad', response: 'broken.v1.Bad' }), protos: PROTOS })
  t.strictSame(errors(dir), [`${join(dir, 'api.json')}: ${OP_PTR}/x-backplane-protobuf/proto: protos/broken/syntax.proto:6: illegal token 'int32', ';' expected`])
})

t.test('an import that is not found: the importing file and line', async (t) => {
  const dir = t.testdir({ 'api.json': api({ ...good, proto: 'protos/broken/missing-import.proto' }), protos: PROTOS })
  t.match(errors(dir), [new RegExp(`^${join(dir, 'api.json')}: ${OP_PTR}/x-backplane-protobuf/proto: protos/broken/missing-import.proto:4: import "nowhere/v1/absent.proto" not found`)])
})

t.test('a type that does not resolve: the file and line naming it', async (t) => {
  const dir = t.testdir({ 'api.json': api({ ...good, proto: 'protos/broken/unknown-type.proto' }), protos: PROTOS })
  t.match(errors(dir), [new RegExp(`: ${OP_PTR}/x-backplane-protobuf/proto: protos/broken/unknown-type.proto:6: unknown type NoSuchThing in broken.v1.M$`)])
})

t.test('a .proto file that cannot be read', async (t) => {
  const dir = t.testdir({ 'api.json': api({ ...good, proto: 'protos/none.proto' }) })
  t.strictSame(errors(dir), [`${join(dir, 'api.json')}: ${OP_PTR}/x-backplane-protobuf/proto: protos/none.proto: cannot read: ENOENT`])
})

t.test('a message name that is not defined, or not a message', async (t) => {
  const dir = t.testdir({ 'api.json': api({ ...good, request: 'pets.v1.Nope', response: 'pets.v1.Species' }), protos: PROTOS })
  t.strictSame(errors(dir), [
    `${join(dir, 'api.json')}: ${OP_PTR}/x-backplane-protobuf/request: protos/pets/v1/pets.proto: unknown message pets.v1.Nope (the files define pets.v1.Pet, pets.v1.GetPetRequest, pets.v1.CreatePetRequest, pets.v1.FailRequest, pets.v1.SlowRequest, common.v1.Money)`,
    `${join(dir, 'api.json')}: ${OP_PTR}/x-backplane-protobuf/response: protos/pets/v1/pets.proto: pets.v1.Species is not a message (it is an enum)`,
  ])
})

t.test('the extension\'s shape: required keys, booleans, unknown keys warned', async (t) => {
  let dir = t.testdir({ 'api.json': api({ proto: 'protos/pets/v1/pets.proto', grpc: 'yes', discardUnknown: 1 }), protos: PROTOS })
  t.strictSame(errors(dir).map((e) => e.slice(e.indexOf(': ') + 2)), [
    `${OP_PTR}/x-backplane-protobuf/request: request is required: a fully qualified message name such as pets.v1.Pet`,
    `${OP_PTR}/x-backplane-protobuf/response: response is required: a fully qualified message name such as pets.v1.Pet`,
    `${OP_PTR}/x-backplane-protobuf/grpc: grpc must be true or false`,
    `${OP_PTR}/x-backplane-protobuf/discardUnknown: discardUnknown must be true or false`,
  ])
  dir = t.testdir({ 'api.json': api({ ...good, requst: 'x' }), protos: PROTOS })
  const { warnings } = loadGateway({ apiFiles: [join(dir, 'api.json')], configFile: null })
  t.strictSame(warnings.map(formatProblem), [`${join(dir, 'api.json')}: ${OP_PTR}/x-backplane-protobuf/requst: unknown key "requst" is ignored; did you mean "request"?`])
})

t.test('only http integrations are transcoded; gRPC needs POST; the message needs a body', async (t) => {
  const cases: [object, object, string][] = [
    [good, { type: 'http_proxy', httpMethod: 'POST', uri: 'http://127.0.0.1:9/x' }, `${OP_PTR}/x-backplane-protobuf: x-backplane-protobuf transcodes http integrations only (the integration response works on the decoded JSON); this one is http_proxy`],
    [good, { type: 'http', httpMethod: 'PUT', uri: 'http://127.0.0.1:9/x' }, `${OP_PTR}/x-amazon-apigateway-integration/httpMethod: gRPC calls are HTTP/2 POSTs: httpMethod must be POST`],
    [{ ...good, grpc: false }, { type: 'http', httpMethod: 'GET', uri: 'http://127.0.0.1:9/x' }, `${OP_PTR}/x-amazon-apigateway-integration/httpMethod: the request message travels in the body: httpMethod must be POST, PUT, PATCH or DELETE, not GET`],
  ]
  for (const [pb, integ, expected] of cases) {
    const dir = t.testdir({ 'api.json': api(pb, integ), protos: PROTOS })
    t.strictSame(errors(dir).map((e) => e.slice(e.indexOf(': ') + 2)), [expected])
  }
  const doc = JSON.parse(api(good))
  delete doc.paths['/pets'].post['x-amazon-apigateway-integration']
  const dir = t.testdir({ 'api.json': JSON.stringify(doc), protos: PROTOS })
  t.strictSame(errors(dir).map((e) => e.slice(e.indexOf(': ') + 2)), [`${OP_PTR}/x-backplane-protobuf: x-backplane-protobuf needs an x-amazon-apigateway-integration of type http beside it`])
})

t.test('a request message with a map<bool, …> field is refused (protobufjs would encode the key "false" as true)', async (t) => {
  const dir = t.testdir({ 'api.json': api({ ...good, proto: 'protos/mapping/v1/mapping.proto', request: 'mapping.v1.BoolKeys', response: 'mapping.v1.BoolKeys' }), protos: PROTOS })
  t.strictSame(errors(dir).map((e) => e.slice(e.indexOf(': ') + 2)), [`${OP_PTR}/x-backplane-protobuf/request: mapping.v1.BoolKeys.flags: map fields with bool keys cannot be encoded faithfully by protobufjs; use string keys`])
})
