// Response framings through an HTTP_PROXY integration, from a backend on raw sockets: what
// the gateway's own HTTP/1.1 client (src/integrations/http1/) must read as undici did, and
// what it must refuse. The client sees the exact status, headers and body; a framing no
// parser can trust is API Gateway's 502 for a malformed endpoint response.
import t from 'tap'
import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { startGateway, writeApi, request } from '../helpers/index.js'
import { proxyApi } from '../helpers/fault-backend.js'

const INTERNAL = '{"message": "Internal server error"}'

/** What the backend writes for each path (after reading the request head). */
const ANSWERS: Record<string, string> = {
  '/chunked': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: dropped\r\n\r\n',
  '/continue': 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}',
  '/no-content': 'HTTP/1.1 204 No Content\r\nX-Kind: empty\r\n\r\n',
  '/head': 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n',
  '/both-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/bad-chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nhello\r\n0\r\n\r\n',
  '/two-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
  '/folded': 'HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n',
  '/status-600': 'HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n',
}
/** Paths answered and then closed: the body ends at the close. */
const CLOSE_AFTER = new Set(['/close-delimited', '/short'])
ANSWERS['/close-delimited'] = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close'
ANSWERS['/short'] = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this'

t.test('backend response framing', async (t) => {
  const sockets = new Set<Socket>()
  const connections: number[] = []
  const server = createServer((socket) => {
    sockets.add(socket)
    const conn = connections.length
    connections.push(0)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let buf = ''
    socket.on('data', (d) => {
      buf += d.toString('latin1')
      let end: number
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, end)
        buf = buf.slice(end + 4)
        connections[conn]!++
        const path = head.split(' ')[1]!.replace(/^\/test-backend/, '')
        const answer = ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'
        if (CLOSE_AFTER.has(path)) socket.end(answer)
        else socket.write(answer)
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy()
    server.close(() => r())
  }))
  const backend = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const gw = await startGateway({ args: [writeApi(t, proxyApi(2_000)), '--stage-var', `backend=${backend}`, '--workers', '1'] })
  t.teardown(() => gw.stop())

  t.test('chunked with extensions and trailers: the body joined, the trailers dropped', async (t) => {
    const res = await request(`${gw.url}/test/chunked`)
    t.equal(res.status, 200)
    t.equal(res.text, 'hello world')
    t.equal(res.headers['content-type'], 'text/plain')
    t.equal(res.headers['x-trailer'], undefined)
    t.equal(res.headers['transfer-encoding'], undefined, 'the backend\'s framing is not the client\'s')
  })

  t.test('a 100 Continue before the answer is skipped', async (t) => {
    const res = await request(`${gw.url}/test/continue`)
    t.equal(res.status, 200)
    t.equal(res.text, '{"ok":true}')
  })

  t.test('204 and HEAD carry no body', async (t) => {
    const none = await request(`${gw.url}/test/no-content`)
    t.equal(none.status, 204)
    t.equal(none.text, '')
    t.equal(none.headers['x-kind'], 'empty')
    const head = await request(`${gw.url}/test/head`, { method: 'HEAD' })
    t.equal(head.status, 200)
    t.equal(head.text, '')
    // The connection is still good after a HEAD whose head declared 11 bytes.
    const after = await request(`${gw.url}/test/continue`)
    t.equal(after.text, '{"ok":true}')
  })

  t.test('a body delimited by the close', async (t) => {
    const res = await request(`${gw.url}/test/close-delimited`)
    t.equal(res.status, 200)
    t.equal(res.text, 'until the close')
  })

  for (const path of ['/both-lengths', '/bad-chunk', '/two-lengths', '/folded', '/short', '/status-600']) {
    t.test(`${path}: 502`, async (t) => {
      const res = await request(`${gw.url}/test${path}`)
      t.equal(res.status, 502)
      t.equal(res.text, INTERNAL)
    })
  }

  t.test('keep-alive: requests share connections, and the gateway still serves', async (t) => {
    const before = connections.length
    for (let i = 0; i < 10; i++) t.equal((await request(`${gw.url}/test/continue`)).status, 200)
    t.ok(connections.length - before <= 1, `${connections.length - before} new connections for 10 sequential requests`)
  })
})
