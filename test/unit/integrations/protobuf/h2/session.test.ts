// The gateway's HTTP/2 client session (h2/session.ts) against node:http2 servers (nghttp2:
// Huffman-coded, indexed headers, its own flow control) and a raw TCP peer that writes
// frames byte by byte. Sources: RFC 9113 §5.1.2 (MAX_CONCURRENT_STREAMS), §6.4 (RST_STREAM),
// §6.8 (GOAWAY), §6.9 (flow control), §8.1 (trailers), gRPC PROTOCOL-HTTP2.md (trailers-only).
import t from 'tap'
import net from 'node:net'
import { constants as h2, createServer, type ServerHttp2Stream } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { DEFAULT_H2_OPTIONS, H2Call, H2Session, MAX_HEADER_BLOCK_BYTES, MAX_RESETS_PER_SESSION, type H2Error } from '../../../../../src/integrations/protobuf/h2/session.js'
import { closeGrpcSessions, startCall } from '../../../../../src/integrations/protobuf/h2-sessions.js'
import { encodeBlock, huffmanEncode } from '../../../../../src/integrations/protobuf/h2/hpack.js'

interface Outcome { headers: string[] | null; trailers: string[] | null; body: Buffer; error: H2Error | null }

class TestCall extends H2Call {
  headers: string[] | null = null
  trailers: string[] | null = null
  chunks: Buffer[] = []
  done: Promise<Outcome>
  resolve!: (o: Outcome) => void
  constructor(path: string, body: Buffer | null = Buffer.from('hello')) {
    super()
    this.h2block = encodeBlock([':method', 'POST', ':scheme', 'http', ':path', path, ':authority', 'localhost', 'content-type', 'application/grpc', 'te', 'trailers'])
    this.h2body = body
    this.done = new Promise((resolve) => { this.resolve = resolve })
  }
  h2Headers(fields: string[], trailers: boolean): void {
    if (trailers) this.trailers = fields
    else this.headers = fields
  }
  h2Data(chunk: Buffer): void { this.chunks.push(Buffer.from(chunk)) }
  h2Closed(error: H2Error | null): void { this.resolve({ headers: this.headers, trailers: this.trailers, body: Buffer.concat(this.chunks), error }) }
}

const get = (fields: string[] | null, name: string) => {
  if (fields === null) return undefined
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

async function h2Server(onStream: (stream: ServerHttp2Stream, headers: Record<string, unknown>, body: Buffer) => void, settings: Record<string, number> = {}) {
  const server = createServer({ settings })
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('error', () => {})
    stream.on('end', () => onStream(stream, headers, Buffer.concat(chunks)))
  })
  server.on('sessionError', () => {})
  const sessions = new Set<import('node:http2').ServerHttp2Session>()
  server.on('session', (s) => { sessions.add(s); s.on('error', () => {}) })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sessions,
    close: () => new Promise<void>((r) => { for (const s of sessions) s.destroy(); server.close(() => r()); setTimeout(r, 500).unref() }),
  }
}

function echo(stream: ServerHttp2Stream, _h: unknown, body: Buffer): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'fine%20thanks' }))
  stream.end(body)
}

t.test('calls against node:http2: headers, body, trailers; the HPACK context kept over many answers', async (t) => {
  let n = 0
  const server = await h2Server((stream, headers, body) => {
    // A fresh value per answer fills the peer's dynamic table and makes it evict.
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-count': `answer number ${n++} ${'z'.repeat(n % 50)}` }, { waitForTrailers: true })
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-path': String(headers[':path']) }))
    stream.end(body)
  })
  t.teardown(() => server.close())
  const session = new H2Session(server.url)
  t.teardown(() => session.destroy(null))
  for (let round = 0; round < 20; round++) {
    const calls = Array.from({ length: 50 }, (_, i) => new TestCall(`/svc/M${round}-${i}`, Buffer.from(`body ${round} ${i}`)))
    for (const c of calls) session.submit(c)
    const out = await Promise.all(calls.map((c) => c.done))
    for (let i = 0; i < out.length; i++) {
      const o = out[i]!
      if (o.error !== null || get(o.headers, ':status') !== '200' || o.body.toString() !== `body ${round} ${i}` || get(o.trailers, 'x-path') !== `/svc/M${round}-${i}` || !/^answer number \d+ z*$/.test(get(o.headers, 'x-count') ?? '')) {
        t.fail(`round ${round} call ${i}: ${JSON.stringify({ ...o, body: o.body.toString() })}`)
        return
      }
    }
  }
  t.pass('1000 calls, 50 at a time, answered whole')
  t.equal(session.streams.size, 0)
})

t.test('flow control: a 3 MB answer through a 64 KB stream window; a 200 KB request body through the peer\'s 65,535', async (t) => {
  const big = Buffer.alloc(3 * 1024 * 1024, 7)
  const server = await h2Server((stream, _h, body) => {
    stream.respond({ ':status': 200, 'x-got': String(body.length) }, { waitForTrailers: true })
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
    stream.end(big)
  })
  t.teardown(() => server.close())
  const session = new H2Session(server.url, { ...DEFAULT_H2_OPTIONS, streamWindow: 65_535, connectionWindow: 65_535 })
  t.teardown(() => session.destroy(null))
  const reqBody = Buffer.alloc(200_000, 3)
  const call = new TestCall('/big', reqBody)
  session.submit(call)
  const o = await call.done
  t.equal(o.error, null)
  t.equal(get(o.headers, 'x-got'), '200000', 'the whole request body arrived')
  t.equal(o.body.length, big.length)
  t.ok(o.body.equals(big), 'the whole answer arrived')
  t.equal(get(o.trailers, 'grpc-status'), '0')
})

t.test('a trailers-only answer (one HEADERS with END_STREAM) and RST_STREAM from the server', async (t) => {
  const server = await h2Server((stream, headers) => {
    if (headers[':path'] === '/reset') stream.close(h2.NGHTTP2_INTERNAL_ERROR)
    else if (headers[':path'] === '/refuse') stream.close(h2.NGHTTP2_REFUSED_STREAM)
    else stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'gone' }, { endStream: true })
  })
  t.teardown(() => server.close())
  const session = new H2Session(server.url)
  t.teardown(() => session.destroy(null))
  const only = new TestCall('/only')
  const reset = new TestCall('/reset')
  const refuse = new TestCall('/refuse')
  for (const c of [only, reset, refuse]) session.submit(c)
  const o = await only.done
  t.equal(o.error, null)
  t.equal(get(o.headers, 'grpc-status'), '5')
  t.equal(o.trailers, null)
  const r = await reset.done
  t.equal(r.error?.message, 'Stream closed with error code NGHTTP2_INTERNAL_ERROR')
  t.equal(r.error?.unprocessed, false)
  t.equal(r.headers, null)
  const f = await refuse.done
  t.equal(f.error?.h2code, h2.NGHTTP2_REFUSED_STREAM)
  t.equal(f.error?.unprocessed, true, 'REFUSED_STREAM: not processed, may be retried')
  t.ok(session.usable, 'the session serves on')
})

t.test('SETTINGS_MAX_CONCURRENT_STREAMS: calls beyond it wait for a stream', async (t) => {
  let open = 0
  let most = 0
  const server = await h2Server((stream, h, body) => {
    open++
    most = Math.max(most, open)
    setTimeout(() => { open--; echo(stream, h, body) }, 20)
  }, { maxConcurrentStreams: 2 })
  t.teardown(() => server.close())
  const session = new H2Session(server.url)
  t.teardown(() => session.destroy(null))
  // Let the server's SETTINGS arrive first.
  const first = new TestCall('/first')
  session.submit(first)
  await first.done
  t.equal(session.peerMaxConcurrent, 2)
  const calls = Array.from({ length: 7 }, (_, i) => new TestCall(`/c${i}`, Buffer.from(String(i))))
  for (const c of calls) session.submit(c)
  t.equal(session.streams.size, 2, 'two streams open')
  t.equal(session.load, 7, 'five waiting')
  const out = await Promise.all(calls.map((c) => c.done))
  t.strictSame(out.map((o) => o.body.toString()), ['0', '1', '2', '3', '4', '5', '6'])
  t.equal(most, 2, 'the server never saw more than 2 at once')
})

t.test('GOAWAY: streams above last-stream-id fail as unprocessed, the one below finishes, the session drains', async (t) => {
  const held: ServerHttp2Stream[] = []
  const server = await h2Server((stream) => {
    held.push(stream)
    if (held.length < 3) return
    stream.session!.goaway(h2.NGHTTP2_NO_ERROR, held[0]!.id!)
    echo(held[0]!, {}, Buffer.from('first'))
  })
  t.teardown(() => server.close())
  let gone = 0
  const session = new H2Session(server.url, DEFAULT_H2_OPTIONS, { sessionGone: () => { gone++ } })
  t.teardown(() => session.destroy(null))
  const calls = [new TestCall('/a'), new TestCall('/b'), new TestCall('/c')]
  for (const c of calls) session.submit(c)
  const out = await Promise.all(calls.map((c) => c.done))
  t.equal(out[0]!.error, null)
  t.equal(out[0]!.body.toString(), 'first')
  for (const o of out.slice(1)) {
    t.equal(o.error?.unprocessed, true)
    t.match(o.error?.message, /GOAWAY NGHTTP2_NO_ERROR/)
  }
  t.equal(gone, 1, 'the owner was told')
  t.equal(session.usable, false)
})

t.test('stream ids exhausted: the session takes no more calls, finishes its streams and closes', async (t) => {
  const server = await h2Server(echo)
  t.teardown(() => server.close())
  let gone = 0
  const session = new H2Session(server.url, { ...DEFAULT_H2_OPTIONS, firstStreamId: 2 ** 31 - 3 }, { sessionGone: () => { gone++ } })
  t.teardown(() => session.destroy(null))
  const a = new TestCall('/a')
  session.submit(a)
  t.ok(session.usable, 'one id left')
  const b = new TestCall('/b')
  session.submit(b)
  t.equal(b.h2id, 2 ** 31 - 1)
  t.notOk(session.usable, 'the last id is taken')
  t.equal(gone, 1)
  const out = await Promise.all([a.done, b.done])
  t.strictSame(out.map((o) => o.error), [null, null])
  t.ok(session.closed, 'closed once idle')
})

/** A raw peer: reads the client's preface and frames, answers with what `script` writes. */
async function rawPeer(script: (socket: net.Socket) => void) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    let seen = 0
    socket.on('data', (d) => {
      seen += d.length
      // Preface (24) + SETTINGS (27) + WINDOW_UPDATE (13) + HEADERS and DATA: answer once they came.
      if (seen > 64 && !(socket as net.Socket & { answered?: boolean }).answered) {
        (socket as net.Socket & { answered?: boolean }).answered = true
        script(socket)
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()) }) }
}

function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9)
  h.writeUIntBE(payload.length, 0, 3)
  h[3] = type
  h[4] = flags
  h.writeUInt32BE(id, 5)
  return Buffer.concat([h, payload])
}

t.test('frames split across reads, byte by byte: HEADERS + CONTINUATION with Huffman literals, padded DATA, trailers, a PING', async (t) => {
  const huff = (s: string) => { const b = huffmanEncode(s); return Buffer.concat([Buffer.from([0x80 | b.length]), b]) }
  // :status 200 (static 8), content-type (name 31, Huffman value, indexed), x-name literal never indexed.
  const block = Buffer.concat([Buffer.from([0x88, 0x5f]), huff('application/grpc'), Buffer.from([0x10]), huff('x-name'), huff('split value')])
  const answer = Buffer.concat([
    frame(4, 0, 0, Buffer.alloc(0)), // SETTINGS
    frame(6, 0, 0, Buffer.from('pingpong')), // PING: to be acknowledged
    frame(1, 0, 1, block.subarray(0, 3)), // HEADERS without END_HEADERS
    frame(9, 4, 1, block.subarray(3)), // CONTINUATION, END_HEADERS
    frame(0, 8, 1, Buffer.concat([Buffer.from([4]), Buffer.from('abc'), Buffer.alloc(4)])), // PADDED DATA
    frame(0, 0, 1, Buffer.from('def')),
    frame(1, 5, 1, Buffer.concat([Buffer.from([0x00, 0x0b]), Buffer.from('grpc-status'), Buffer.from([0x01]), Buffer.from('0')])), // trailers
  ])
  let acked: Buffer | null = null
  const peer = await rawPeer((socket) => {
    socket.on('data', (d) => { const i = d.indexOf('pingpong'); if (i >= 9 && d[i - 6] === 6 && d[i - 5] === 1) acked = d.subarray(i - 9, i + 8) })
    let i = 0
    const drip = () => { if (i < answer.length && !socket.destroyed) { socket.write(answer.subarray(i, i + 1)); i++; setImmediate(drip) } }
    drip()
  })
  t.teardown(() => peer.close())
  const session = new H2Session(peer.url)
  t.teardown(() => session.destroy(null))
  const call = new TestCall('/split')
  session.submit(call)
  const o = await call.done
  t.equal(o.error, null)
  t.strictSame(o.headers, [':status', '200', 'content-type', 'application/grpc', 'x-name', 'split value'])
  t.equal(o.body.toString(), 'abcdef')
  t.strictSame(o.trailers, ['grpc-status', '0'])
  for (let i = 0; i < 50 && acked === null; i++) await new Promise((r) => setTimeout(r, 10))
  t.ok(acked !== null, 'the PING was acknowledged with its payload')
})

t.test('a connection refused, and a connection lost mid-answer', async (t) => {
  const refused = new H2Session('http://127.0.0.1:1')
  const a = new TestCall('/x')
  refused.submit(a)
  const ra = await a.done
  t.equal(ra.error?.code, 'ECONNREFUSED')
  const peer = await rawPeer((socket) => {
    socket.write(Buffer.concat([frame(4, 0, 0, Buffer.alloc(0)), frame(1, 4, 1, Buffer.from([0x88]))]))
    setTimeout(() => socket.destroy(), 20)
  })
  t.teardown(() => peer.close())
  const lost = new H2Session(peer.url)
  const b = new TestCall('/y')
  lost.submit(b)
  const rb = await b.done
  t.strictSame(rb.headers, [':status', '200'])
  t.equal(rb.error?.code, 'ECONNRESET')
  t.equal(rb.error?.unprocessed, false)
})

// Node's HTTP/2 server (nghttp2, and so @grpc/grpc-js) ends a connection after about 1,000
// stream resets from its peer (the CVE-2023-44487 "rapid reset" guard), failing the calls on
// it; the session stops taking calls after MAX_RESETS_PER_SESSION of its own resets.
t.test('resets: after MAX_RESETS_PER_SESSION cancels the session takes no new calls; its open streams finish', async (t) => {
  const server = await h2Server(echo)
  t.teardown(() => server.close())
  let gone = 0
  const session = new H2Session(server.url, DEFAULT_H2_OPTIONS, { sessionGone: () => { gone++ } })
  t.teardown(() => session.destroy(null))
  const open = new TestCall('/still-open')
  session.submit(open)
  for (let i = 0; i < MAX_RESETS_PER_SESSION - 1; i++) {
    const c = new TestCall(`/cancelled-${i}`)
    session.submit(c)
    session.cancel(c)
  }
  t.ok(session.usable, `${MAX_RESETS_PER_SESSION - 1} resets: still usable`)
  const last = new TestCall('/cancelled-last')
  session.submit(last)
  session.cancel(last)
  t.equal(session.resetsSent, MAX_RESETS_PER_SESSION)
  t.notOk(session.usable, 'the budget is spent')
  t.equal(gone, 1, 'the owner was told once')
  const out = await open.done
  t.equal(out.error, null, 'the open stream finished')
  t.equal(out.body.toString(), 'hello')
  t.equal(get(out.trailers, 'grpc-status'), '0')
  t.ok(session.closed, 'closed once idle')
})

t.test('resets: 3,000 cancelled calls through the pool against node:http2, every call between them answered', async (t) => {
  const server = await h2Server(echo)
  t.teardown(() => server.close())
  t.teardown(() => closeGrpcSessions())
  const answered: Promise<Outcome>[] = []
  for (let i = 0; i < 3_000; i++) {
    const c = new TestCall(`/cancelled-${i}`)
    startCall(server.url, c)
    // Let the HEADERS leave before the reset, as when a client leaves mid-call.
    if (i % 50 === 0) await new Promise((r) => setImmediate(r))
    c.h2session!.cancel(c)
    if (i % 10 === 0) {
      const ok = new TestCall(`/ok-${i}`)
      startCall(server.url, ok)
      answered.push(ok.done)
    }
  }
  const out = await Promise.all(answered)
  const failed = out.filter((o) => o.error !== null)
  t.equal(failed.length, 0, `failed: ${failed.slice(0, 3).map((o) => o.error!.message).join('; ')}`)
  t.ok(out.every((o) => get(o.trailers, 'grpc-status') === '0'), 'every answer OK')
  t.ok(server.sessions.size >= 3_000 / MAX_RESETS_PER_SESSION, `${server.sessions.size} sessions for 3,000 resets`)
})

t.test('a header block past MAX_HEADER_BLOCK_BYTES (a CONTINUATION flood) ends the session; the call fails', async (t) => {
  const peer = await rawPeer((socket) => {
    // SETTINGS, then HEADERS without END_HEADERS and CONTINUATIONs of 16 KB that never end the block.
    socket.write(Buffer.concat([frame(4, 0, 0, Buffer.alloc(0)), frame(1, 0, 1, Buffer.from([0x88]))]))
    const piece = frame(9, 0, 1, Buffer.alloc(16_384, 0x88))
    let sent = 0
    const flood = () => { if (!socket.destroyed && sent++ < 64) { socket.write(piece); setImmediate(flood) } }
    flood()
  })
  t.teardown(() => peer.close())
  const session = new H2Session(peer.url)
  t.teardown(() => session.destroy(null))
  const call = new TestCall('/flood')
  session.submit(call)
  const o = await call.done
  t.ok(o.error !== null, 'the call failed')
  t.match(o.error!.message, /header block over 65536 octets/)
  t.equal(o.headers, null, 'no headers were handed on')
  t.ok(session.closed)
  t.equal(MAX_HEADER_BLOCK_BYTES, 65_536)
})
