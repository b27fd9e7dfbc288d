// The test helpers themselves: the echo backend's behaviours, writeApi, and startGateway's
// process handling (against a fake CLI, so this file needs no gateway build).

import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEchoBackend, writeApi, request, startGateway } from './index.js'
import type { EchoedRequest } from './index.js'

t.test('echo backend', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(echo.close)

  t.test('echoes method, path, raw query, headers and body as JSON', async (t) => {
    const res = await request(`${echo.url}/pets/7?b=2&a=%20x`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-custom': 'yes' },
      body: 'héllo'
    })
    t.equal(res.status, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.match(res.json<EchoedRequest>(), {
      method: 'POST',
      path: '/pets/7',
      query: 'b=2&a=%20x',
      headers: { 'content-type': 'text/plain', 'x-custom': 'yes' },
      body: 'héllo',
      bodyBase64: Buffer.from('héllo').toString('base64')
    })
    t.match(echo.requests.at(-1), { method: 'POST', path: '/pets/7', body: 'héllo' })
  })

  t.test('echoes binary bodies byte for byte in bodyBase64', async (t) => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80])
    const res = await request(`${echo.url}/bin`, { method: 'PUT', body: bytes })
    t.equal(Buffer.from(res.json<EchoedRequest>().bodyBase64, 'base64').compare(bytes), 0)
  })

  t.test('answers an empty query and body with empty strings', async (t) => {
    const res = await request(`${echo.url}/`)
    t.match(res.json(), { method: 'GET', path: '/', query: '', body: '', bodyBase64: '' })
  })

  t.test('x-echo-status sets the response status', async (t) => {
    const res = await request(`${echo.url}/x`, { headers: { 'x-echo-status': '503' } })
    t.equal(res.status, 503)
    t.equal(res.json<EchoedRequest>().path, '/x')
  })

  t.test('x-echo-status 204 answers without a body', async (t) => {
    const res = await request(`${echo.url}/x`, { headers: { 'x-echo-status': '204' } })
    t.equal(res.status, 204)
    t.equal(res.text, '')
  })

  t.test('x-echo-header-<name> adds that response header', async (t) => {
    const res = await request(`${echo.url}/h`, {
      headers: { 'x-echo-header-x-amzn-requestid': 'abc', 'x-echo-header-cache-control': 'no-store' }
    })
    t.equal(res.headers['x-amzn-requestid'], 'abc')
    t.equal(res.headers['cache-control'], 'no-store')
  })

  t.test('x-echo-delay-ms delays the answer', async (t) => {
    const start = performance.now()
    const res = await request(`${echo.url}/slow`, { headers: { 'x-echo-delay-ms': '150' } })
    t.equal(res.status, 200)
    // A lower bound only: the delay is behaviour, not a timing claim.
    t.ok(performance.now() - start >= 140, 'answered after the delay')
  })

  t.test('/hang never answers: the client times out', async (t) => {
    await t.rejects(request(`${echo.url}/hang`, { timeoutMs: 200 }), { code: 'UND_ERR_HEADERS_TIMEOUT' })
    t.match(echo.requests.at(-1), { path: '/hang' }, 'the request did arrive')
  })

  t.test('/reset destroys the socket', async (t) => {
    await t.rejects(request(`${echo.url}/reset`), { code: /^(UND_ERR_SOCKET|ECONNRESET)$/ })
  })

  t.test('still serves other requests after a hang and a reset', async (t) => {
    const res = await request(`${echo.url}/after`)
    t.equal(res.status, 200)
  })
})

t.test('close() returns while a request hangs and a delay is pending', async (t) => {
  const echo = await startEchoBackend()
  // Settle into values at once: the rejections may come before anything awaits them.
  const failure = (p: Promise<unknown>): Promise<unknown> => p.then(() => null, (err: unknown) => err)
  const hung = failure(request(`${echo.url}/hang`, { timeoutMs: 30_000 }))
  const delayed = failure(request(`${echo.url}/d`, { headers: { 'x-echo-delay-ms': '30000' }, timeoutMs: 30_000 }))
  // Give both requests time to arrive before closing.
  while (echo.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10))
  await echo.close()
  t.match(await hung, { code: /^(UND_ERR_SOCKET|ECONNRESET)$/ })
  t.match(await delayed, { code: /^(UND_ERR_SOCKET|ECONNRESET)$/ })
})

t.test('startEchoBackend({ record: false }) keeps no requests', async (t) => {
  const echo = await startEchoBackend({ record: false })
  t.teardown(echo.close)
  await request(`${echo.url}/a`)
  t.strictSame(echo.requests, [])
})

t.test('writeApi writes JSON files into the test dir and keeps earlier ones', async (t) => {
  const a = writeApi(t, { openapi: '3.0.1', paths: {} })
  const b = writeApi(t, { swagger: '2.0' }, 'other.yaml')
  t.strictSame(JSON.parse(readFileSync(a, 'utf8')), { openapi: '3.0.1', paths: {} })
  t.strictSame(JSON.parse(readFileSync(b, 'utf8')), { swagger: '2.0' })
  t.equal(join(a, '..'), join(b, '..'))
})

t.test('request().json() names the body when it is not JSON', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(echo.close)
  const res = await request(`${echo.url}/x`, { headers: { 'x-echo-status': '204' } })
  t.throws(() => res.json(), /not JSON/)
})

// A stand-in for dist/src/cli.js that honours the contract: prints the listening line for
// the port it bound, echoes its argv, and exits 0 on SIGTERM.
const FAKE_CLI = `
import http from 'node:http'
const argv = process.argv.slice(2)
if (argv.includes('--crash')) { console.error('boom: bad API file'); process.exit(3) }
if (argv.includes('--silent')) { setInterval(() => {}, 1000) } else {
  const server = http.createServer((req, res) => res.end(JSON.stringify({ argv, env: process.env.FAKE_ENV ?? null })))
  server.listen(0, '127.0.0.1', () => {
    console.log('backplane listening on http://127.0.0.1:' + server.address().port)
    console.log('a later log line')
  })
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}
`

t.test('startGateway', async (t) => {
  const dir = t.testdir({ 'cli.mjs': FAKE_CLI })
  const cli = join(dir, 'cli.mjs')

  t.test('waits for the listening line and passes serve, args, port 0 and host', async (t) => {
    const gw = await startGateway({ cli, args: ['api.json', '--stage', 'prod'], env: { FAKE_ENV: 'on' } })
    t.teardown(gw.stop)
    t.match(gw.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    t.equal(gw.url, `http://127.0.0.1:${gw.port}`)
    const res = await request(`${gw.url}/`)
    t.strictSame(res.json(), {
      argv: ['serve', 'api.json', '--stage', 'prod', '--port', '0', '--host', '127.0.0.1'],
      env: 'on'
    })
    t.match(gw.output(), /backplane listening on/)
  })

  t.test('stop() ends the process with SIGTERM and can be called twice', async (t) => {
    const gw = await startGateway({ cli, args: [] })
    await gw.stop()
    await gw.stop()
    t.strictSame(await gw.exited, { code: 0, signal: null })
  })

  t.test('rejects with the output when the CLI exits before listening', async (t) => {
    await t.rejects(startGateway({ cli, args: ['--crash'] }), /exited before it was ready[\s\S]*boom: bad API file/)
  })

  t.test('rejects after timeoutMs when no listening line comes', async (t) => {
    await t.rejects(startGateway({ cli, args: ['--silent'], timeoutMs: 300 }), /no ready line within 300 ms/)
  })

  t.test('rejects at once when the CLI file does not exist', async (t) => {
    await t.rejects(startGateway({ cli: join(dir, 'missing.js'), args: [] }), /npm run build/)
  })
})
