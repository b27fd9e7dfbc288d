// Clients that do not read, stop half-way, pipeline, or leave: the gateway holds bounded
// memory for them, closes their connections in bounded time, forwards nothing whose client
// has gone before it was sent, and cancels the backend exchange of a client that left.
import t from 'tap'
import net from 'node:net'
import { request } from '../helpers/index.js'
import { startFaultProxy } from '../helpers/fault-backend.js'
import { rawExchange, watchRss, MB } from '../helpers/raw-http.js'

/** uWebSockets.js closes a connection that sent nothing for 10 s (its HTTP idle timeout). */
const IDLE_CLOSE_BOUND_MS = 25_000
/** The front's own bound for a reply the client does not read (src/front/server.ts). */
const WRITE_STALL_TIMEOUT_MS = 10_000

t.test('slow and vanishing clients', async (t) => {
  const { backend, gw } = await startFaultProxy(t, { timeoutMs: 10_000 })
  t.equal((await request(`${gw.url}/test/ok`)).status, 200)
  const get = (path: string, tag: string) => `GET /test${path} HTTP/1.1\r\nHost: gw\r\nx-request-tag: ${tag}\r\n\r\n`
  const tagged = (tag: string) => backend.requests.filter((r) => r.tag === tag)

  t.test('ten clients that never read a 9 MB reply: bounded memory, cut off by the gateway', async (t) => {
    const rss = watchRss(gw.pid)
    t.teardown(() => rss.stop())
    const baseline = rss.peak()
    const n = 9 * MB
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => new Promise<{ s: net.Socket, received: () => number, closed: Promise<void> }>((resolve) => {
      let received = 0
      const s = net.connect(gw.port, '127.0.0.1', () => {
        s.pause() // never read: the gateway's writes back up
        s.write(get(`/bytes?n=${n}`, `stalled-${i}`))
        resolve({ s, received: () => received, closed })
      })
      const closed = new Promise<void>((resolveClosed) => s.on('close', () => resolveClosed()))
      s.on('data', (d: Buffer) => { received += d.length })
      s.on('error', () => { /* reset by the gateway: expected */ })
    })))
    t.teardown(() => { for (const c of clients) c.s.destroy() })
    // Meanwhile a reading client is served at once.
    const ok = await request(`${gw.url}/test/ok`)
    t.equal(ok.text, '{"ok":true}')
    // A paused socket sees no FIN: wait past the stall timeout, then read what is left.
    // The ten replies start over a few seconds (one worker copies each 9 MB body).
    await new Promise((resolve) => setTimeout(resolve, WRITE_STALL_TIMEOUT_MS + 8_000))
    const grew = rss.peak() - baseline
    for (const c of clients) c.s.resume()
    const closedInTime = await Promise.race([
      Promise.all(clients.map((c) => c.closed)).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))
    ])
    t.ok(closedInTime, 'every stalled connection was closed by the gateway')
    for (const c of clients) t.ok(c.received() < n, `a stalled client got ${c.received()} bytes of ${n}, then the connection closed`)
    t.ok(grew < 400 * MB, `RSS grew by ${(grew / MB).toFixed(0)} MB for 10 × 9 MB stalled replies`)
    t.equal(tagged('stalled-0').length, 1, 'each was forwarded once')
  })

  t.test('a client that sends half a request and stops is closed, nothing forwarded', async (t) => {
    const r = await rawExchange(gw.port, 'GET /test/ok HTTP/1.1\r\nHost: gw\r\nx-request-tag: half', { ms: IDLE_CLOSE_BOUND_MS })
    t.ok(r.closed, 'the gateway closed the connection')
    t.same(r.responses, [])
    t.equal(tagged('half').length, 0)
  })

  t.test('pipelined requests: uWS closes the connection and neither reaches the backend', async (t) => {
    const r = await rawExchange(gw.port, get('/ok', 'pipe-1') + get('/ok', 'pipe-2'), { ms: 5_000 })
    t.ok(r.closed, 'the connection is closed')
    t.same(r.responses, [], 'no answer')
    await new Promise((resolve) => setTimeout(resolve, 300))
    t.equal(tagged('pipe-1').length + tagged('pipe-2').length, 0, 'nothing forwarded')
  })

  t.test('a request pipelined behind one in flight: the earlier exchange is cancelled upstream', async (t) => {
    const s = net.connect(gw.port, '127.0.0.1')
    t.teardown(() => s.destroy())
    s.on('error', () => {})
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()))
    s.write(get('/delay?ms=3000', 'behind-1'))
    await until(() => tagged('behind-1').length === 1, 3_000)
    s.write(get('/ok', 'behind-2'))
    await closed
    await until(() => tagged('behind-1')[0]?.abandoned === true, 2_000)
    t.equal(tagged('behind-1')[0]?.abandoned, true, 'the backend saw its connection closed before it answered')
    t.equal(tagged('behind-2').length, 0, 'the second never reached the backend')
  })

  t.test('a client that leaves mid-exchange: the backend exchange is cancelled', async (t) => {
    const s = net.connect(gw.port, '127.0.0.1')
    s.on('error', () => {})
    s.write(get('/delay?ms=3000', 'gone'))
    await until(() => tagged('gone').length === 1, 3_000)
    const left = Date.now()
    s.destroy()
    await until(() => tagged('gone')[0]?.abandoned === true, 2_000)
    t.equal(tagged('gone')[0]?.abandoned, true)
    t.ok(Date.now() - left < 2_000, 'cancelled well before the backend would have answered')
  })

  t.test('after all of it the gateway serves as before', async (t) => {
    t.equal((await request(`${gw.url}/test/ok`)).text, '{"ok":true}')
  })
})

async function until (cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}
