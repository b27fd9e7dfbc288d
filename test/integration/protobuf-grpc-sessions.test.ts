// The gateway's HTTP/2 sessions to gRPC backends: GOAWAY, keepalive PINGs, compressed answers.
// Sources: RFC 9113 §6.8 and §8.7 (GOAWAY's last-stream-id: streams above it were not
// processed and "can be retried"; REFUSED_STREAM likewise), §6.7 (PING); the gRPC spec
// doc/PROTOCOL-HTTP2.md (Length-Prefixed-Message: compressed-flag 1 means the message is in
// the grpc-encoding; grpc-accept-encoding offers the encodings the client takes) and
// doc/compression.md. @grpc/grpc-js 1.14's server never compresses its answers (its
// serializeMessage: "response compression is currently not supported"), so the compressed
// answers come from a bare node:http2 server.
import t from 'tap'
import net from 'node:net'
import { gzipSync, deflateSync } from 'node:zlib'
import { constants as h2, createServer as createH2Server, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { startGateway, writeApi, request } from '../helpers/index.js'
import { GetPetRequest, PETS_PROTO, Pet, decode, encode, grpcFrame, startPetsGrpc } from './protobuf-backends.js'

const JSON_HEADERS = { 'content-type': 'application/json' }

const grpcApi = (title: string) => ({
  openapi: '3.0.1',
  info: { title, version: '1' },
  paths: {
    '/pets/{pet_id}': {
      post: {
        'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri: '${stageVariables.grpc}/pets.v1.Pets/Get', timeoutInMillis: 5000 },
        'x-backplane-protobuf': { proto: PETS_PROTO, request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: true },
      },
    },
    '/raw/{rpc}': {
      post: {
        'x-amazon-apigateway-integration': { type: 'http', httpMethod: 'POST', uri: '${stageVariables.grpc}/pets.v1.Pets/{rpc}', timeoutInMillis: 5000 },
        'x-backplane-protobuf': { proto: PETS_PROTO, request: 'pets.v1.GetPetRequest', response: 'pets.v1.Pet', grpc: true },
      },
    },
  },
})

interface Call {
  session: number
  id: number
  petId: string
  stream: ServerHttp2Stream
  headers: Record<string, unknown>
}

/** A bare HTTP/2 server: each call (with its body) goes to `onCall`; sessions are numbered from 1. */
async function startScripted(onCall: (call: Call, calls: Call[], session: ServerHttp2Session) => void) {
  const server = createH2Server()
  const calls: Call[] = []
  let sessions = 0
  const open = new Set<ServerHttp2Session>()
  server.on('session', (s) => {
    const n = ++sessions
    ;(s as ServerHttp2Session & { n: number }).n = n
    open.add(s)
    s.on('close', () => open.delete(s))
    s.on('error', () => {})
  })
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('error', () => {})
    stream.on('end', () => {
      const body = Buffer.concat(chunks)
      const call: Call = { session: (stream.session as ServerHttp2Session & { n: number }).n, id: stream.id!, petId: body.length >= 5 ? String(decode(GetPetRequest, body.subarray(5)).pet_id ?? '') : '', stream, headers: { ...headers } }
      calls.push(call)
      onCall(call, calls, stream.session as ServerHttp2Session)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => {
      for (const s of open) s.destroy()
      server.close(() => resolve())
      setTimeout(resolve, 1000).unref()
    }),
  }
}

/** Answers a call with a Pet named after the session that answered it. */
function answerPet(call: Call): void {
  if (call.stream.destroyed) return
  call.stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
  call.stream.on('wantTrailers', () => call.stream.sendTrailers({ 'grpc-status': '0' }))
  call.stream.end(grpcFrame(encode(Pet, { pet_id: call.petId, display_name: `session ${call.session}` })))
}

const post = (url: string) => request(url, { method: 'POST', headers: JSON_HEADERS, body: '{}' })

t.test('GOAWAY: calls above its last-stream-id are sent once more on a new session; the processed ones are answered', async (t) => {
  const backend = await startScripted((call, calls, session) => {
    if (call.session !== 1) return answerPet(call)
    const first = calls.filter((c) => c.session === 1)
    if (first.length < 3) return
    // Three calls in flight on the first session: only the lowest stream was processed.
    session.goaway(h2.NGHTTP2_NO_ERROR, first[0]!.id)
    answerPet(first[0]!)
  })
  t.teardown(() => backend.close())
  const gw = await startGateway({ args: [writeApi(t, grpcApi('goaway')), '--workers', '1', '--stage-var', `grpc=${backend.url}`] })
  t.teardown(() => gw.stop())

  const answers = await Promise.all(['1', '2', '3'].map((id) => post(`${gw.url}/test/pets/${id}`)))
  t.strictSame(answers.map((r) => r.status), [200, 200, 200], 'every call answered')
  const first = backend.calls.filter((c) => c.session === 1)
  const second = backend.calls.filter((c) => c.session === 2)
  t.equal(first.length, 3, 'three calls on the first session')
  t.strictSame(second.map((c) => c.petId).sort(), first.slice(1).map((c) => c.petId).sort(), 'the two above the last-stream-id, and only they, went again on a second session')
  for (const r of answers) {
    const body = r.json()
    const sentFirst = first[0]!.petId === body.petId
    t.equal(body.displayName, sentFirst ? 'session 1' : 'session 2', `pet ${body.petId}: answered by the session that processed it`)
  }
  t.equal(backend.calls.length, 5, 'nothing sent a third time')
})

t.test('GOAWAY naming a call as processed, then the connection lost: that call gets the mapped error, not a retry', async (t) => {
  const backend = await startScripted((call, calls, session) => {
    if (call.session !== 1) return answerPet(call)
    const first = calls.filter((c) => c.session === 1)
    if (first.length < 2) return
    // Both were taken (last-stream-id = the higher one): the first is answered, the second lost with the connection.
    session.goaway(h2.NGHTTP2_NO_ERROR, first[1]!.id)
    answerPet(first[0]!)
    setTimeout(() => session.destroy(), 100)
  })
  t.teardown(() => backend.close())
  const gw = await startGateway({ args: [writeApi(t, grpcApi('goaway-lost')), '--workers', '1', '--stage-var', `grpc=${backend.url}`] })
  t.teardown(() => gw.stop())
  const answers = await Promise.all(['1', '2'].map((id) => post(`${gw.url}/test/pets/${id}`)))
  const first = backend.calls.filter((c) => c.session === 1)
  const byPet = new Map(answers.map((r, i) => [String(i + 1), r]))
  t.equal(byPet.get(first[0]!.petId)!.status, 200, 'the answered call')
  const lost = byPet.get(first[1]!.petId)!
  t.equal(lost.status, 502, 'the processed but unanswered call: 502, as a backend that broke the exchange')
  t.strictSame(lost.json(), { message: 'Internal server error' })
  t.equal(backend.calls.filter((c) => c.session === 2).length, 0, 'not sent again')
  // The next call connects anew.
  const next = await post(`${gw.url}/test/pets/9`)
  t.equal(next.status, 200)
  t.equal(next.json().displayName, 'session 2')
})

t.test('REFUSED_STREAM: a call the backend refused is sent again once', async (t) => {
  let refused = 0
  const backend = await startScripted((call) => {
    if (refused === 0) {
      refused++
      call.stream.close(h2.NGHTTP2_REFUSED_STREAM)
      return
    }
    answerPet(call)
  })
  t.teardown(() => backend.close())
  const gw = await startGateway({ args: [writeApi(t, grpcApi('refused')), '--workers', '1', '--stage-var', `grpc=${backend.url}`] })
  t.teardown(() => gw.stop())
  const res = await post(`${gw.url}/test/pets/4`)
  t.equal(res.status, 200)
  t.equal(res.json().petId, '4')
  t.equal(backend.calls.length, 2, 'sent twice')
})

/** A TCP relay that can stop passing bytes on its open connections while keeping them open. */
async function startRelay(target: number) {
  const open = new Set<{ client: net.Socket; upstream: net.Socket; frozen: boolean }>()
  let accepted = 0
  let closedByGateway = 0
  const server = net.createServer((client) => {
    accepted++
    const upstream = net.connect(target, '127.0.0.1')
    const pair = { client, upstream, frozen: false }
    open.add(pair)
    client.on('data', (d) => { if (!pair.frozen) upstream.write(d) })
    upstream.on('data', (d) => { if (!pair.frozen) client.write(d) })
    client.on('close', () => { closedByGateway++; open.delete(pair); upstream.destroy() })
    upstream.on('close', () => client.destroy())
    client.on('error', () => {})
    upstream.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    closed: () => closedByGateway,
    /** The open connections go silent both ways (a dead peer, or a NAT that forgot them). */
    freeze() { for (const p of open) p.frozen = true },
    close: () => new Promise<void>((resolve) => {
      for (const p of open) { p.client.destroy(); p.upstream.destroy() }
      server.close(() => resolve())
    }),
  }
}

t.test('keepalive: idle sessions are pinged; one that stops answering is dropped and the next call connects anew', async (t) => {
  const grpc = await startPetsGrpc()
  t.teardown(() => grpc.close())
  const relay = await startRelay(grpc.port)
  t.teardown(() => relay.close())
  const gw = await startGateway({
    args: [writeApi(t, grpcApi('keepalive')), '--workers', '1', '--stage-var', `grpc=${relay.url}`],
    env: { BACKPLANE_GRPC_KEEPALIVE_INTERVAL_MS: '200', BACKPLANE_GRPC_KEEPALIVE_TIMEOUT_MS: '400' },
  })
  t.teardown(() => gw.stop())

  t.equal((await post(`${gw.url}/test/pets/1`)).status, 200)
  // Idle for several intervals: the PINGs are answered, the session stays.
  await new Promise((r) => setTimeout(r, 1200))
  t.equal((await post(`${gw.url}/test/pets/2`)).status, 200)
  t.equal(relay.accepted(), 1, 'one connection served both calls')
  t.equal(relay.closed(), 0)

  relay.freeze()
  const frozenAt = Date.now()
  for (let i = 0; i < 100 && relay.closed() === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(relay.closed(), 1, 'the gateway closed the silent connection')
  t.ok(Date.now() - frozenAt < 3000, `soon: within an interval and a timeout (${Date.now() - frozenAt} ms)`)
  t.match(gw.output(), /gRPC http:\/\/127\.0\.0\.1:\d+: no answer to a keepalive PING in 400 ms: the session is dropped/)
  const res = await post(`${gw.url}/test/pets/3`)
  t.equal(res.status, 200, 'the next call is served at once, on a new connection')
  t.equal(res.json().petId, '3')
  t.equal(relay.accepted(), 2)
})

t.test('compressed answers (grpc-encoding gzip, deflate) are decoded; grpc-accept-encoding offers them', async (t) => {
  const backend = await startScripted((call) => {
    const rpc = String(call.headers[':path']).split('/').pop()
    const message = encode(Pet, { pet_id: call.petId, display_name: `zipped ${rpc}` })
    const encoding = rpc === 'Gzip' ? 'gzip' : rpc === 'Deflate' ? 'deflate' : rpc === 'Snappy' ? 'snappy' : 'identity'
    const body = rpc === 'Gzip' ? gzipSync(message) : rpc === 'Deflate' ? deflateSync(message) : message
    call.stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': encoding }, { waitForTrailers: true })
    call.stream.on('wantTrailers', () => call.stream.sendTrailers({ 'grpc-status': '0' }))
    call.stream.end(grpcFrame(body, rpc !== 'Plain'))
  })
  t.teardown(() => backend.close())
  const gw = await startGateway({ args: [writeApi(t, grpcApi('compressed')), '--workers', '1', '--stage-var', `grpc=${backend.url}`] })
  t.teardown(() => gw.stop())
  for (const rpc of ['Gzip', 'Deflate']) {
    const res = await request(`${gw.url}/test/raw/${rpc}?pet_id=5`, { method: 'POST', headers: JSON_HEADERS, body: '{}' })
    t.equal(res.status, 200, rpc)
    t.strictSame(res.json(), { petId: '5', displayName: `zipped ${rpc}` }, `${rpc}: decompressed and decoded`)
  }
  t.equal(backend.calls[0]!.headers['grpc-accept-encoding'], 'identity,deflate,gzip')
  const plain = await request(`${gw.url}/test/raw/Plain?pet_id=6`, { method: 'POST', headers: JSON_HEADERS, body: '{}' })
  t.strictSame(plain.json(), { petId: '6', displayName: 'zipped Plain' }, 'compressed-flag 0 under grpc-encoding identity')
  const snappy = await request(`${gw.url}/test/raw/Snappy?pet_id=7`, { method: 'POST', headers: JSON_HEADERS, body: '{}' })
  t.equal(snappy.status, 502, 'an encoding that was not offered')
  t.strictSame(snappy.json(), { message: 'Internal server error' })
  t.match(gw.output(), /a message compressed with grpc-encoding "snappy", which was not offered \(identity,deflate,gzip\)/)
})
