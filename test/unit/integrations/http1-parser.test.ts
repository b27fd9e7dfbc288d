// The gateway's own HTTP/1.1 response parser (src/integrations/http1/response-parser.ts):
// every response framing RFC 9112 allows, fed whole and split at every byte, and the bad
// framings it must refuse (the exchange turns a refusal into a 502).
import t, { type Test } from 'tap'
import { ResponseParser, MAX_HEAD_BYTES, type ResponseSink } from '../../../src/integrations/http1/response-parser.js'

class Recorder implements ResponseSink {
  status = 0
  headers: string[] = []
  body: Buffer[] = []
  ends = 0
  onResponseHead(status: number, headers: string[]): void {
    this.status = status
    this.headers = headers
  }
  onResponseBody(chunk: Buffer): void {
    this.body.push(Buffer.from(chunk))
  }
  onResponseEnd(): void {
    this.ends++
  }
  text(): string {
    return Buffer.concat(this.body).toString('latin1')
  }
}

interface Parsed {
  rec: Recorder
  parser: ResponseParser
  /** Offset (into the last piece) where the response ended early, or -1. */
  rest: number
}

/** Feeds `wire` in pieces cut at `cuts`; `head` says the request was HEAD. */
function parse(wire: string, cuts: number[] = [], head = false): Parsed {
  const rec = new Recorder()
  const parser = new ResponseParser(rec)
  parser.begin(head)
  const bytes = Buffer.from(wire, 'latin1')
  let from = 0
  let rest = -1
  for (const cut of [...cuts, bytes.length]) {
    if (cut <= from) continue
    rest = parser.execute(bytes.subarray(from, cut))
    from = cut
  }
  return { rec, parser, rest }
}

/** Parses `wire` whole and split at every offset; every way must give the same result. */
function everySplit(t: Test, wire: string, want: { status: number, headers?: string[], body: string }, head = false): void {
  for (let cut = 0; cut < wire.length; cut++) {
    for (const cuts of [[cut], [cut, cut + 1, cut + 2]]) {
      const { rec, parser } = parse(wire, cuts, head)
      if (rec.ends !== 1 || rec.status !== want.status || rec.text() !== want.body || !parser.done) {
        t.fail(`split at ${cuts.join(',')}: status ${rec.status}, ends ${rec.ends}, body ${JSON.stringify(rec.text())}`)
        return
      }
      if (want.headers !== undefined) t.same(rec.headers, want.headers)
    }
  }
  t.pass(`${want.status} ${JSON.stringify(want.body)} at every split`)
}

function refuses(t: Test, wire: string, what: string, head = false): void {
  t.throws(() => parse(wire, [], head), { code: 'HPE_INVALID_RESPONSE' }, what)
}

t.test('Content-Length bodies, whole and split anywhere', async (t) => {
  everySplit(t, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}', { status: 200, headers: ['Content-Type', 'application/json', 'Content-Length', '11'], body: '{"ok":true}' })
  everySplit(t, 'HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n', { status: 201, body: '' })
  // Names keep their case; values lose the optional whitespace around them.
  const { rec } = parse('HTTP/1.1 200 OK\r\nX-Mixed-Case:   padded \t\r\nx-empty:\r\nContent-Length: 2\r\n\r\nhi')
  t.same(rec.headers, ['X-Mixed-Case', 'padded', 'x-empty', '', 'Content-Length', '2'])
  t.equal(rec.text(), 'hi')
})

t.test('a status line without a reason phrase, and HTTP/1.0', async (t) => {
  everySplit(t, 'HTTP/1.1 204\r\n\r\n', { status: 204, body: '' })
  const { rec, parser } = parse('HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc')
  t.equal(rec.text(), 'abc')
  t.equal(parser.keepAlive, false, 'HTTP/1.0 without keep-alive is not reused')
  t.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').parser.keepAlive, true)
  t.equal(parse('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').parser.keepAlive, false)
})

t.test('chunked bodies with extensions and trailers', async (t) => {
  everySplit(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1;q="x"\r\n world\r\n0\r\n\r\n', { status: 200, headers: ['Transfer-Encoding', 'chunked'], body: 'hello world' })
  everySplit(t, 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\nA\r\n0123456789\r\n0\r\nX-Trailer: one\r\nX-Other: two\r\n\r\n', { status: 200, body: '0123456789' })
  everySplit(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', { status: 200, body: '' })
  everySplit(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 ;a\r\nabc\r\n0\r\n\r\n', { status: 200, body: 'abc' })
})

t.test('no body: HEAD, 204, 304, whatever the head declares', async (t) => {
  everySplit(t, 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', { status: 200, body: '' }, true)
  everySplit(t, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n', { status: 304, body: '' })
  everySplit(t, 'HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n', { status: 204, body: '' })
})

t.test('1xx heads are skipped', async (t) => {
  everySplit(t, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { status: 200, headers: ['Content-Length', '2'], body: 'ok' })
  refuses(t, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n', 'a 101 nobody asked for')
})

t.test('close-delimited bodies end at EOF and are never reused', async (t) => {
  const { rec, parser } = parse('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes', [20, 40])
  t.equal(rec.ends, 0, 'not ended before the close')
  t.equal(parser.eof(), true)
  t.equal(rec.ends, 1)
  t.equal(rec.text(), 'some bytes')
  t.equal(parser.keepAlive, false)
  // A transfer coding other than chunked last: delimited by the close too (RFC 9112 §6.3).
  const gz = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz')
  t.equal(gz.parser.eof(), true)
  t.equal(gz.rec.text(), 'zz')
})

t.test('an EOF inside a framed body is not an end', async (t) => {
  t.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc').parser.eof(), false)
  t.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab').parser.eof(), false)
  t.equal(parse('HTTP/1.1 200 OK\r\nContent-Le').parser.eof(), false)
})

t.test('bytes after the response are reported, not swallowed', async (t) => {
  const { rec, rest } = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA')
  t.equal(rec.text(), 'ok')
  t.equal(rec.ends, 1)
  t.equal(rest, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'.length)
})

t.test('the parser is reused for the next response on the connection', async (t) => {
  const rec = new Recorder()
  const parser = new ResponseParser(rec)
  parser.begin(false)
  t.equal(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na')), -1)
  parser.begin(false)
  t.equal(parser.received, false)
  t.equal(parser.execute(Buffer.from('HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n')), -1)
  t.equal(rec.status, 404)
  t.equal(rec.ends, 2)
  t.equal(rec.text(), 'ab')
})

t.test('the Keep-Alive timeout hint is read', async (t) => {
  t.equal(parse('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n').parser.keepAliveHintMs, 5000)
  t.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').parser.keepAliveHintMs, -1)
})

t.test('bad framing is refused', async (t) => {
  refuses(t, 'NOT HTTP AT ALL\r\n\u0000\u0001\r\n\r\n', 'not HTTP')
  refuses(t, 'HTTP/2.0 200 OK\r\n\r\n', 'another version')
  refuses(t, 'HTTP/1.1 2000 OK\r\n\r\n', 'a four-digit status')
  refuses(t, 'HTTP/1.1 20x OK\r\n\r\n', 'a status that is not digits')
  refuses(t, 'HTTP/1.1 200OK\r\n\r\n', 'no space before the reason')
  refuses(t, 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'a header line without a colon')
  refuses(t, 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n', 'an obs-fold')
  refuses(t, 'HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n', 'a space in a field name')
  refuses(t, 'HTTP/1.1 200 OK\r\n: empty name\r\n\r\n', 'an empty field name')
  refuses(t, 'HTTP/1.1 200 OK\r\nX-A: a\nb\r\n\r\n', 'a bare LF in a value')
  refuses(t, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello', 'a repeated Content-Length')
  refuses(t, 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'a negative Content-Length')
  refuses(t, 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n', 'a Content-Length that is not digits')
  refuses(t, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 'both framings (request smuggling\'s shape)')
  refuses(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'a chunk size that is not hex')
  refuses(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', 'an empty chunk size')
  refuses(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n', 'no CRLF after the chunk data')
  refuses(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffff\r\n', 'a chunk size past 2^48')
  refuses(t, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc', 'a bare LF after the chunk size')
})

t.test('a head past 16 KB is refused, whole or arriving in pieces', async (t) => {
  const big = 'HTTP/1.1 200 OK\r\nX-Big: ' + 'a'.repeat(MAX_HEAD_BYTES) + '\r\n\r\n'
  refuses(t, big, 'whole')
  const cuts: number[] = []
  for (let i = 1000; i < big.length; i += 1000) cuts.push(i)
  t.throws(() => parse(big.slice(0, -4), cuts), { code: 'HPE_INVALID_RESPONSE' }, 'in pieces, before its end arrives')
})
