// gRPC backends behind x-backplane-protobuf: JSON in, a gRPC unary call over h2c to a real
// @grpc/grpc-js server, canonical JSON out. Sources: protobuf.dev "ProtoJSON Format" (the
// mapping), grpc-gateway runtime/errors.go HTTPStatusFromCode (the status table) and
// runtime/query.go (parameters), the gRPC spec doc/PROTOCOL-HTTP2.md (framing, grpc-timeout,
// trailers-only) and doc/http-grpc-status-mapping.md (HTTP answers without grpc-status).
import t from 'tap'
import { constants as h2 } from 'node:http2'
import { startGateway, writeApi, request } from '../helpers/index.js'
import { PETS_PROTO, Pet, encode, grpcFrame, startPetsGrpc, startRawH2 } from './protobuf-backends.js'

const JSON_HEADERS = { 'content-type': 'application/json' }

/** OAS 3 method response headers. */
const HEADER = (name: string) => ({ [name]: { schema: { type: 'string' } } })

function grpcOp(rpc: string, request: string, extra: { integration?: object; protobuf?: object; backend?: string; responses?: object } = {}) {
  return {
    // The method responses that responseParameters name (API Gateway refuses the import otherwise).
    ...(extra.responses === undefined ? {} : { responses: extra.responses }),
    'x-amazon-apigateway-integration': {
      type: 'http',
      httpMethod: 'POST',
      uri: `\${stageVariables.${extra.backend ?? 'grpc'}}/pets.v1.Pets/${rpc}`,
      ...(extra.integration ?? {}),
    },
    'x-backplane-protobuf': { proto: PETS_PROTO, request, response: 'pets.v1.Pet', grpc: true, ...(extra.protobuf ?? {}) },
  }
}

t.test('gRPC transcoding', async (t) => {
  const grpc = await startPetsGrpc()
  t.teardown(() => grpc.close())
  // Scripted answers a gRPC library would not give: by :path.
  let hangSeen: { timeout: string; rstCode: number | null } | null = null
  const raw = await startRawH2((stream, headers) => {
    const path = String(headers[':path'])
    if (path.endsWith('/Hang')) {
      // Never answers, whatever grpc-timeout says: only the gateway's own deadline ends the call.
      hangSeen = { timeout: String(headers['grpc-timeout']), rstCode: null }
      stream.on('close', () => { hangSeen!.rstCode = stream.rstCode })
    } else if (path.endsWith('/TrailersOnly')) {
      // One HEADERS frame with END_STREAM: status and message, no body, no trailers.
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'pet%207%20is%20gone' }, { endStream: true })
    } else if (path.endsWith('/Http503')) {
      stream.respond({ ':status': 503, 'content-type': 'text/plain' })
      stream.end('overloaded')
    } else if (path.endsWith('/NoStatus')) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' })
      stream.end(grpcFrame(encode(Pet, { pet_id: '1' })))
    } else if (path.endsWith('/Compressed')) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' }, { waitForTrailers: true })
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
      stream.end(grpcFrame(Buffer.from([1, 2, 3]), true))
    } else if (path.endsWith('/TwoMessages')) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
      stream.end(Buffer.concat([grpcFrame(encode(Pet, { pet_id: '1' })), grpcFrame(encode(Pet, { pet_id: '2' }))]))
    } else if (path.endsWith('/Reset')) {
      stream.close(h2.NGHTTP2_INTERNAL_ERROR)
    } else {
      stream.respond({ ':status': 404 })
      stream.end()
    }
  })
  t.teardown(() => raw.close())

  const fail = grpcOp('Fail', 'pets.v1.FailRequest')
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'pets-grpc', version: '1' },
    paths: {
      '/pets/{pet_id}': { post: grpcOp('Get', 'pets.v1.GetPetRequest') },
      '/pets': { post: grpcOp('Create', 'pets.v1.CreatePetRequest') },
      '/lenient': { post: grpcOp('Create', 'pets.v1.CreatePetRequest', { protobuf: { discardUnknown: true } }) },
      '/fail': { post: fail },
      '/fail-mapped': {
        post: grpcOp('Fail', 'pets.v1.FailRequest', {
          responses: { '404': { description: 'not found', headers: HEADER('X-Grpc-Status') } },
          integration: {
            responses: {
              '404': { statusCode: '404', responseTemplates: { 'application/json': '{"problem": $input.json(\'$.message\'), "grpc": "$input.path(\'$.code\')"}' }, responseParameters: { 'method.response.header.X-Grpc-Status': 'integration.response.header.grpc-status' } },
              '4\\d{2}': { statusCode: '400' },
              default: { statusCode: '200' },
            },
          },
        }),
      },
      '/templated/{petId}': {
        post: grpcOp('Get', 'pets.v1.GetPetRequest', {
          integration: {
            requestTemplates: { 'application/json': '{"view": "$input.params(\'v\')", "fields": ["x", "y"], "species": "CAT"}' },
            responses: { default: { statusCode: '201', responseTemplates: { 'application/json': '{"name": $input.json(\'$.displayName\'), "id": $input.json(\'$.petId\'), "price": $input.json(\'$.price.units\')}' } } },
          },
        }),
      },
      '/meta/{pet_id}': {
        post: grpcOp('Get', 'pets.v1.GetPetRequest', {
          responses: { '200': { description: 'ok', headers: HEADER('X-Status') } },
          integration: {
            timeoutInMillis: 5000,
            requestParameters: { 'integration.request.header.x-tenant': 'method.request.header.x-tenant', 'integration.request.header.x-static': "'fixed'" },
            responses: { default: { statusCode: '200', responseParameters: { 'method.response.header.X-Status': 'integration.response.header.grpc-status' } } },
          },
        }),
      },
      '/slow': { post: grpcOp('Slow', 'pets.v1.SlowRequest', { integration: { timeoutInMillis: 300 } }) },
      '/garbage': { post: grpcOp('Garbage', 'pets.v1.GetPetRequest') },
      '/refused': { post: grpcOp('Get', 'pets.v1.GetPetRequest', { backend: 'closed' }) },
      '/hang': {
        post: {
          'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri: '${stageVariables.raw}/pets.v1.Pets/Hang', timeoutInMillis: 300 },
          'x-backplane-protobuf': { proto: PETS_PROTO, request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: true },
        },
      },
      '/raw/{rpc}': {
        post: {
          'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri: '${stageVariables.raw}/pets.v1.Pets/{rpc}' },
          'x-backplane-protobuf': { proto: PETS_PROTO, request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: true },
        },
      },
    },
  })
  const gw = await startGateway({ args: [file, '--workers', '1', '--stage-var', `grpc=${grpc.url}`, '--stage-var', `raw=${raw.url}`, '--stage-var', 'closed=http://127.0.0.1:1'] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/test`
  const post = (path: string, body: unknown, headers: Record<string, string> = JSON_HEADERS) => request(`${base}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })

  t.test('a JSON body, path and query parameters become the request; the answer comes back as canonical JSON', async (t) => {
    const res = await post('/pets/9007199254740993?view=full&fields=a&fields=b&verbose=true&species=DOG&utm=ignored', {})
    t.equal(res.status, 200)
    t.equal(res.headers['content-type'], 'application/json')
    t.strictSame(res.json(), {
      petId: '9007199254740993', // int64: a string, full precision (the path parameter pet_id filled field pet_id)
      displayName: 'full',
      species: 'DOG', // enums by name
      price: { currencyCode: 'EUR', units: '9007199254740993', nanos: 500000000 }, // lowerCamelCase names
      bornAt: '2020-01-01T00:00:00Z', // Timestamp: RFC 3339
      tags: ['a', 'b'], // a repeated field from repeated query parameters
      labels: { verbose: 'true' },
      nap: '90.500s', // Duration
      seenDeadlineMs: res.json().seenDeadlineMs,
    })
  })

  t.test('a nested body: JSON names and proto names accepted, well-known types parsed', async (t) => {
    const pet = { petId: '12', display_name: 'Rex', species: 'CAT', price: { currencyCode: 'USD', units: 5 }, bornAt: '2019-06-01T12:30:00.250+02:00', tags: ['good'], labels: { a: 'b' }, nap: '-1.5s' }
    const res = await post('/pets', { shelter: 'north', pet })
    t.equal(res.status, 200)
    t.strictSame(res.json(), { petId: '12', displayName: 'Rex', species: 'CAT', price: { currencyCode: 'USD', units: '5' }, bornAt: '2019-06-01T10:30:00.250Z', tags: ['good'], labels: { a: 'b', shelter: 'north' }, nap: '-1.500s' })
  })

  t.test('a body that does not fit the message: 400 naming the field at fault', async (t) => {
    let res = await post('/pets', { pet: { price: { units: 'many' } } })
    t.equal(res.status, 400)
    t.equal(res.headers['x-amzn-errortype'], 'BadRequestException')
    t.strictSame(res.json(), { message: 'Invalid request body: pet.price.units: expected an int64 (a decimal string or a number), got "many"' })
    res = await post('/pets', { pet: { color: 'red' } })
    t.equal(res.status, 400)
    t.strictSame(res.json(), { message: 'Invalid request body: pet.color: unknown field: pets.v1.Pet has no field "color"' })
    res = await post('/pets', { pet: { species: 'HAMSTER' } })
    t.equal(res.status, 400)
    t.match(res.json().message, /^Invalid request body: pet\.species: unknown value "HAMSTER" of enum pets\.v1\.Species/)
    res = await post('/pets', '{"shelter": ')
    t.equal(res.status, 400)
    t.match(res.json().message, /^Invalid request body: not JSON/)
    res = await post('/pets/abc', {})
    t.equal(res.status, 400)
    t.match(res.json().message, /^Invalid request parameter pet_id: expected an int64/)
  })

  t.test('unknown fields are dropped where discardUnknown says so (grpc-gateway\'s DiscardUnknown)', async (t) => {
    const res = await post('/lenient', { shelter: 's', extra: 1, pet: { displayName: 'Kit', color: 'red' } })
    t.equal(res.status, 200)
    t.strictSame(res.json(), { displayName: 'Kit', labels: { shelter: 's' } })
  })

  t.test('gRPC status codes map to HTTP statuses as grpc-gateway\'s table does, grpc-message in the body', async (t) => {
    const table: [string, number][] = [
      ['CANCELLED', 499], ['UNKNOWN', 500], ['INVALID_ARGUMENT', 400], ['DEADLINE_EXCEEDED', 504], ['NOT_FOUND', 404],
      ['ALREADY_EXISTS', 409], ['PERMISSION_DENIED', 403], ['RESOURCE_EXHAUSTED', 429], ['FAILED_PRECONDITION', 400],
      ['ABORTED', 409], ['OUT_OF_RANGE', 400], ['UNIMPLEMENTED', 501], ['INTERNAL', 500], ['UNAVAILABLE', 503],
      ['DATA_LOSS', 500], ['UNAUTHENTICATED', 401],
    ]
    for (let code = 1; code <= 16; code++) {
      const [name, status] = table[code - 1]!
      const res = await post('/fail', { code, message: `failed with ${name} – ünïcode`, headersFirst: code % 2 === 0 })
      t.equal(res.status, status, `${name} (${code}) → ${status}`)
      t.strictSame(res.json(), { code, message: `failed with ${name} – ünïcode`, details: [] }, `${name}: the status in the body`)
    }
  })

  t.test('the integration response works on the JSON: selectionPattern on the mapped status, templates, grpc-status as a header', async (t) => {
    let res = await post('/fail-mapped', { code: 5, message: 'no pet 7' })
    t.equal(res.status, 404)
    t.equal(res.headers['x-grpc-status'], '5')
    t.strictSame(res.json(), { problem: 'no pet 7', grpc: '5' })
    res = await post('/fail-mapped', { code: 3, message: 'bad' })
    t.equal(res.status, 400, 'INVALID_ARGUMENT → 400 matches 4\\d{2}')
    const tpl = await post('/templated/33?v=compact', {})
    t.equal(tpl.status, 201)
    t.strictSame(tpl.json(), { name: 'compact', id: '33', price: '9007199254740993' }, 'the request template made the body; the path parameter petId (JSON name) filled pet_id')
  })

  t.test('mapped headers travel as metadata; the integration timeout is the deadline (grpc-timeout)', async (t) => {
    const res = await post('/meta/5', {}, { ...JSON_HEADERS, 'x-tenant': 'acme', 'x-unmapped': 'no' })
    t.equal(res.status, 200)
    t.equal(res.headers['x-status'], '0')
    const body = res.json()
    t.strictSame(body.seenMetadata, ['x-static=fixed', 'x-tenant=acme'])
    const deadline = Number(body.seenDeadlineMs)
    t.ok(deadline > 3000 && deadline <= 5000, `the server saw a deadline of about 5000 ms (${deadline})`)
    // The route's headers are built once: each call's metadata is its own, none left from the last call.
    const next = await post('/meta/6', {}, { ...JSON_HEADERS, 'x-tenant': 'globex' })
    t.equal(next.status, 200)
    t.strictSame(next.json().seenMetadata, ['x-static=fixed', 'x-tenant=globex'])
  })

  t.test('past the integration timeout: 504 Endpoint request timed out, the call cancelled', async (t) => {
    const started = Date.now()
    const res = await post('/hang', {})
    t.equal(res.status, 504)
    t.strictSame(res.json(), { message: 'Endpoint request timed out' })
    t.ok(Date.now() - started < 2000, 'answered at the deadline')
    for (let i = 0; i < 40 && hangSeen?.rstCode == null; i++) await new Promise((r) => setTimeout(r, 25))
    t.strictSame(hangSeen, { timeout: '300m', rstCode: h2.NGHTTP2_CANCEL }, 'the deadline was sent as grpc-timeout; the stream was reset with CANCEL')
  })

  t.test('a backend that enforces the deadline itself: 504 either way, at the deadline', async (t) => {
    // grpc-js ends the call with DEADLINE_EXCEEDED at grpc-timeout, as the gateway's timer fires: whichever comes first answers.
    const started = Date.now()
    const res = await post('/slow', { delayMs: 3000 })
    t.equal(res.status, 504)
    const body = res.text
    t.ok(body === '{"message": "Endpoint request timed out"}' || body === '{"code":4,"message":"Deadline exceeded","details":[]}', `one of the two 504 bodies: ${body}`)
    t.ok(Date.now() - started < 2500, 'answered at the deadline, not when the backend finished')
    const ok = await post('/slow', { delayMs: 10 })
    t.equal(ok.status, 200, 'the session still serves the next call')
  })

  t.test('malformed answers: 502, the reason logged', async (t) => {
    const cases: [string, RegExp][] = [
      ['/garbage', /does not decode as pets\.v1\.Pet/],
      ['/raw/NoStatus', /the answer has no grpc-status/],
      ['/raw/Compressed', /the gzip message does not decompress/],
      ['/raw/TwoMessages', /more than one message/],
      ['/raw/Reset', /Stream closed with error code NGHTTP2_INTERNAL_ERROR/],
    ]
    for (const [path, reason] of cases) {
      const res = await post(path, {})
      t.equal(res.status, 502, path)
      t.strictSame(res.json(), { message: 'Internal server error' }, path)
      t.match(gw.output(), reason, `${path}: the log says why`)
    }
  })

  t.test('a trailers-only answer carries the status in its headers', async (t) => {
    const res = await post('/raw/TrailersOnly', {})
    t.equal(res.status, 404)
    t.strictSame(res.json(), { code: 5, message: 'pet 7 is gone', details: [] })
  })

  t.test('an HTTP answer without grpc-status maps through the gRPC spec\'s table (503 → UNAVAILABLE → 503)', async (t) => {
    let res = await post('/raw/Http503', {})
    t.equal(res.status, 503)
    t.strictSame(res.json(), { code: 14, message: 'the backend answered HTTP 503 without grpc-status', details: [] })
    res = await post('/raw/NoSuchRpc', {})
    t.equal(res.status, 501, '404 → UNIMPLEMENTED → 501')
  })

  t.test('a refused connection: 500, as for HTTP backends', async (t) => {
    const res = await post('/refused', {})
    t.equal(res.status, 500)
    t.strictSame(res.json(), { message: 'Internal server error' })
  })

  t.test('a backend restart (GOAWAY, close) is followed by a new session', async (t) => {
    const first = await startPetsGrpc()
    const gw2file = writeApi(t, { openapi: '3.0.1', info: { title: 'restart', version: '1' }, paths: { '/pets/{pet_id}': { post: grpcOp('Get', 'pets.v1.GetPetRequest') } } }, 'restart.json')
    const gw2 = await startGateway({ args: [gw2file, '--workers', '1', '--stage-var', `grpc=${first.url}`] })
    t.teardown(() => gw2.stop())
    let res = await request(`${gw2.url}/test/pets/1`, { method: 'POST', headers: JSON_HEADERS, body: '{}' })
    t.equal(res.status, 200)
    await first.close()
    const second = await startPetsGrpc(first.port)
    t.teardown(() => second.close())
    res = await request(`${gw2.url}/test/pets/2`, { method: 'POST', headers: JSON_HEADERS, body: '{}' })
    t.equal(res.status, 200)
    t.equal(res.json().petId, '2')
  })
})
