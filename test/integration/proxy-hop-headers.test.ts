// HTTP_PROXY and what belongs to the client's hop, and raw bytes in the query string.
//
// Facts pinned:
// - RFC 9110 §7.6.1: a proxy removes the header fields that the Connection header names
//   before it forwards a message (they describe the client's connection, not the request).
// - RFC 9112 §3.2: a request target is visible ASCII; a query string that arrives with raw
//   UTF-8 bytes reaches the backend percent-encoded (UTF-8), the way API Gateway's own
//   requests to integrations carry parameters, instead of failing with 502.
import t from 'tap'
import { startGateway, startEchoBackend, writeApi, request } from '../helpers/index.js'
import { rawExchange } from '../helpers/raw-http.js'
import { proxyApi } from '../helpers/fault-backend.js'

t.test('hop-by-hop headers and raw query bytes through http_proxy', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  const gw = await startGateway({ args: [writeApi(t, proxyApi()), '--stage-var', `backend=${echo.url}`, '--workers', '1'] })
  t.teardown(() => gw.stop())
  // The first request warms the worker (a loaded CI machine may take seconds).
  t.equal((await request(`${gw.url}/test/warm`)).status, 200)

  t.test('headers named in Connection are not forwarded', async (t) => {
    // Raw: undici will not send a Connection header that lists other fields.
    const r = await rawExchange(gw.port, 'GET /test/echo HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive, X-Hop-Secret,x-other\r\nX-Hop-Secret: for the first hop\r\nx-other: also\r\nx-kept: kept\r\n\r\n', { expect: 1, ms: 10_000 })
    t.equal(r.responses[0]?.status, 200)
    const seen = (JSON.parse(r.responses[0]!.body.toString()) as { headers: Record<string, string> }).headers
    t.equal(seen['x-hop-secret'], undefined)
    t.equal(seen['x-other'], undefined)
    t.equal(seen['x-kept'], 'kept', 'a header Connection does not name passes')
  })

  t.test('raw UTF-8 in the query string reaches the backend percent-encoded, not a 502', async (t) => {
    const head = Buffer.concat([Buffer.from('GET /test/echo?q='), Buffer.from('é☃ x', 'utf8'), Buffer.from('&plain=1 HTTP/1.1\r\nHost: gw\r\n\r\n')])
    // A space cannot be sent raw (it ends the target): only the UTF-8 bytes are raw here.
    const r = await rawExchange(gw.port, Buffer.from(head.toString('latin1').replace(' x&', '&'), 'latin1'), { expect: 1, ms: 10_000 })
    t.equal(r.responses[0]?.status, 200)
    const seen = JSON.parse(r.responses[0]!.body.toString()) as { query: string }
    t.equal(seen.query, 'q=%C3%A9%E2%98%83&plain=1')
  })

  t.test('percent-encoded queries pass unchanged', async (t) => {
    const res = await request(`${gw.url}/test/echo?q=%C3%A9&x=a%20b`)
    t.equal(res.json().query, 'q=%C3%A9&x=a%20b')
  })
})
