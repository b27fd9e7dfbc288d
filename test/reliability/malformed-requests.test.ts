// Malformed and oversized requests over raw sockets: each gets its answer (or its
// connection closed) in bounded time, none reaches the backend, and the gateway goes on.
//
// Facts pinned:
// - API Gateway developer guide, "Quotas for configuring and running a REST API": the URL
//   of a regional API is at most 10240 characters; the request line and header values
//   together at most 10240 bytes. Past the first the guide's answer is "414 Request URI
//   too long" (Amazon API Gateway quotas); past the second, 431 (RFC 6585).
// - RFC 9112 §6.1: a server that gets a transfer coding it does not understand answers
//   501 (Not Implemented); chunked must be the last coding, applied once; a request with
//   both Transfer-Encoding and Content-Length may be refused (400), as a request
//   smuggling guard. Only `chunked` is served.
import t from 'tap'
import net from 'node:net'
import { request } from '../helpers/index.js'
import { startFaultProxy } from '../helpers/fault-backend.js'
import { rawExchange, watchRss, MB } from '../helpers/raw-http.js'
import type { Test } from 'tap'

const CHUNKED_BODY = '5\r\nhello\r\n0\r\n\r\n'

t.test('malformed requests', async (t) => {
  const { backend, gw } = await startFaultProxy(t)
  t.equal((await request(`${gw.url}/test/ok`)).status, 200)
  const rss = watchRss(gw.pid)
  t.teardown(() => rss.stop())
  const baseline = rss.peak()
  const forwarded = (tag: string) => backend.requests.filter((r) => r.tag === tag).length

  /** Sends `head` (+ body) tagged `tag`; expects one answer `status` with `message`, then a close. */
  const refused = async (t: Test, tag: string, head: string, status: number, message: string) => {
    const r = await rawExchange(gw.port, head.replace('\r\n', `\r\nx-request-tag: ${tag}\r\n`))
    t.equal(r.responses.length, 1, 'one answer')
    t.equal(r.responses[0]?.status, status)
    t.equal(r.responses[0]?.body.toString(), `{"message":"${message}"}`)
    t.equal(r.responses[0]?.headers.connection, 'close')
    t.ok(r.closed, 'then the connection closes')
    t.equal(forwarded(tag), 0, 'nothing reached the backend')
  }

  t.test('a URL of 10240 characters passes, one more gets 414', async (t) => {
    const path = '/test/ok?'
    const fits = path + 'q='.padEnd(10_240 - path.length, 'x')
    t.equal(fits.length, 10_240)
    const ok = await rawExchange(gw.port, `GET ${fits} HTTP/1.1\r\nHost: gw\r\n\r\n`, { expect: 1 })
    t.equal(ok.responses[0]?.status, 431, 'the URL fits, but with the request line and Host it passes 10240 bytes')
    await refused(t, 'long-url', `GET ${fits}x HTTP/1.1\r\nHost: gw\r\n\r\n`, 414, 'Request URI too long')
    // Far past the limit uWebSockets.js itself may drop the connection while the client is still
    // sending (a reset, before the gateway sees the request): either way nothing is forwarded.
    const huge = await rawExchange(gw.port, `GET /test/ok?${'x'.repeat(100_000)} HTTP/1.1\r\nHost: gw\r\nx-request-tag: huge-url\r\n\r\n`)
    t.ok(huge.closed, 'the connection closes')
    if (huge.responses.length > 0) t.equal(huge.responses[0]!.status, 414)
    t.equal(forwarded('huge-url'), 0, 'nothing reached the backend')
  })

  t.test('request line and header values: 10240 bytes pass, one more gets 431', async (t) => {
    const line = 'GET /test/ok HTTP/1.1' // 3 + 8 + 10 bytes
    const tagValue = 'fits'
    const room = 10_240 - line.length - 'gw'.length - tagValue.length
    const fits = await rawExchange(gw.port, `${line}\r\nHost: gw\r\nx-request-tag: ${tagValue}\r\nx-big: ${'y'.repeat(room)}\r\n\r\n`, { expect: 1 })
    t.equal(fits.responses[0]?.status, 200, 'exactly 10240 bytes')
    t.equal(forwarded('fits'), 1)
    await refused(t, 'over', `${line}\r\nHost: gw\r\nx-big: ${'y'.repeat(room - 'over'.length + tagValue.length + 1)}\r\n\r\n`, 431, 'Request Header Fields Too Large')
  })

  t.test('a ~60 KB header: 431 when the head arrives in one read, else (and when split past uWS 4 KB buffer) closed unanswered; never forwarded', async (t) => {
    // The quota's answer (API Gateway quotas: request line and header values ≤ 10240 bytes;
    // 431 per RFC 6585) for a head far past it, sent in one write as clients do.
    // Whether the kernel hands uWS the whole head in its first read is not the client's to
    // choose (on a fresh CI machine it was not): then the connection closes unanswered, as below.
    const r = await rawExchange(gw.port, `GET /test/ok HTTP/1.1\r\nHost: gw\r\nx-request-tag: huge-head\r\nx-big: ${'y'.repeat(60_000)}\r\n\r\n`)
    t.ok(r.closed, 'the connection closes')
    if (r.responses.length > 0) {
      t.equal(r.responses.length, 1, 'one answer at most')
      t.equal(r.responses[0]?.status, 431)
      t.equal(r.responses[0]?.body.toString(), '{"message":"Request Header Fields Too Large"}')
      t.equal(r.responses[0]?.headers.connection, 'close')
    }
    t.equal(forwarded('huge-head'), 0, 'nothing reached the backend either way')
    // uWebSockets.js 20.30 keeps at most 4 KB of a head that is not complete after one read,
    // and closes the connection past that before the gateway sees the request (its build
    // has no 431 of its own and no setting for the size). Nothing is forwarded either way.
    const head = `GET /test/ok HTTP/1.1\r\nHost: gw\r\nx-request-tag: split-head\r\nx-big: ${'y'.repeat(60_000)}\r\n\r\n`
    const split = await new Promise<{ data: string, closed: boolean }>((resolve) => {
      const s = net.connect(gw.port, '127.0.0.1')
      let data = ''
      const timer = setTimeout(() => { s.destroy(); resolve({ data, closed: false }) }, 5_000)
      s.on('data', (d: Buffer) => { data += d.toString('latin1') })
      s.on('error', () => {})
      s.on('close', () => { clearTimeout(timer); resolve({ data, closed: true }) })
      s.write(head.slice(0, 5_000))
      setTimeout(() => s.write(head.slice(5_000), () => {}), 100)
    })
    t.ok(split.closed, 'the connection closes')
    t.equal(split.data, '', 'without an answer (the limit of the front\'s build, README security notes)')
    t.equal(forwarded('split-head'), 0, 'nothing reached the backend')
  })

  t.test('Transfer-Encoding other than chunked: 501 for an unknown coding, 400 when malformed', async (t) => {
    const post = (te: string) => `POST /test/ok HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: ${te}\r\n\r\n${CHUNKED_BODY}`
    await refused(t, 'xchunked', post('xchunked'), 501, 'Not Implemented')
    await refused(t, 'identity', post('identity, chunked'), 501, 'Not Implemented')
    await refused(t, 'gzip', post('gzip, chunked'), 501, 'Not Implemented')
    await refused(t, 'twice', post('chunked, chunked'), 400, 'Bad Request')
    await refused(t, 'notlast', post('chunked, gzip'), 400, 'Bad Request')
    await refused(t, 'empty', post(', chunked'), 400, 'Bad Request')
    const ok = await rawExchange(gw.port, post('Chunked').replace('\r\n', '\r\nx-request-tag: chunked\r\n'), { expect: 1 })
    t.equal(ok.responses[0]?.status, 200, 'chunked (any case) is served')
    t.equal(forwarded('chunked'), 1)
  })

  t.test('framing uWS refuses itself: the connection closes without an answer', async (t) => {
    for (const [tag, head] of [
      ['cl-te', `POST /test/ok HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${CHUNKED_BODY}`],
      ['cl-nan', 'POST /test/ok HTTP/1.1\r\nHost: gw\r\nContent-Length: 5x\r\n\r\nhello'],
      ['garbage', '\u0000\u0001\u0002 nonsense\r\n\r\n'],
      ['no-version', 'GET /test/ok\r\nHost: gw\r\n\r\n']
    ] as const) {
      const r = await rawExchange(gw.port, head.replace('\r\n', `\r\nx-request-tag: ${tag}\r\n`), { ms: 15_000 })
      t.ok(r.closed, `${tag}: closed`)
      t.ok(r.responses.every((x) => x.status >= 400), `${tag}: no success`)
      t.equal(forwarded(tag), 0, `${tag}: nothing forwarded`)
    }
  })

  t.test('the gateway still serves, with bounded memory', async (t) => {
    t.equal((await request(`${gw.url}/test/ok`)).text, '{"ok":true}')
    const grew = rss.peak() - baseline
    t.ok(grew < 100 * MB, `RSS grew by ${(grew / MB).toFixed(0)} MB`)
  })
})
