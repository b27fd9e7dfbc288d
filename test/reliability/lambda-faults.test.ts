// Lambda and AWS service integrations under oversized answers and clients that leave: each
// gets its answer in bounded time, the gateway's memory stays bounded, and nothing is read
// past the cap.
//
// Facts pinned:
// - Lambda's synchronous response quota (Lambda quotas: "Invocation payload (request and
//   response): 6 MB each for synchronous"): Invoke answers the function error
//   {"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
//   "errorType": "Function.ResponseSizeTooLarge"} (moto's test_invoke_function_large_response,
//   recorded from AWS); behind a Lambda proxy integration a function error is 502
//   {"message": "Internal server error"} (developer guide, "Handle Lambda errors in API Gateway").
// - API Gateway's integration response cap, as for HTTP integrations (backend-faults.test.ts):
//   past 10485760 bytes "Execution failed due to configuration error: Integration response of
//   reported length N is larger than allowed maximum of 10485760 bytes", a 500.
import t from 'tap'
import http from 'node:http'
import net from 'node:net'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import type { AddressInfo, Socket } from 'node:net'
import { startGateway, request } from '../helpers/index.js'
import { startFaultBackend, streamBytes } from '../helpers/fault-backend.js'
import { watchRss, MB } from '../helpers/raw-http.js'

const INTERNAL = '{"message": "Internal server error"}'
const MAX = 10 * 1024 * 1024
const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`
const proxy = (fn: string) => ({ 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: arn(fn), timeoutInMillis: 10_000 } })
const ROLE = 'arn:aws:iam::123456789012:role/s3-reader'
const s3 = (path: string) => ({
  parameters: [{ name: 'n', in: 'query', schema: { type: 'string' } }],
  'x-amazon-apigateway-integration': { type: 'aws', httpMethod: 'GET', uri: `arn:aws:apigateway:us-east-1:s3:path/${path}`, credentials: ROLE, timeoutInMillis: 10_000, requestParameters: { 'integration.request.querystring.n': 'method.request.querystring.n' }, responses: { default: { statusCode: '200' } } }
})

interface InvokeCall { name: string, abandoned: boolean, written: number }

/** A Lambda Invoke endpoint whose functions answer too much, forever, or never. */
async function startInvokeEndpoint (): Promise<{ url: string, calls: InvokeCall[], close(): Promise<void> }> {
  const calls: InvokeCall[] = []
  const sockets = new Set<Socket>()
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').split('/')[3] ?? '')
    const call: InvokeCall = { name, abandoned: false, written: 0 }
    calls.push(call)
    res.on('close', () => { if (!res.writableFinished) call.abandoned = true })
    req.resume()
    const stream = (left: number): void => streamBytes(res, left, call)
    if (name === 'endless') { res.writeHead(200, { 'content-type': 'application/json' }); stream(Infinity) }
    else if (name === 'declared') { res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(1024 * MB) }); stream(1024 * MB) }
    else if (name === 'over') { res.writeHead(200, { 'content-type': 'application/json' }); stream(MAX + 1) }
    else if (name === 'hang') { /* never answers */ }
    else res.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException' }).end('{}')
  })
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) })
  }
}

async function until (cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}

/** Sends a GET and hangs up after `ms` without reading an answer. */
function leaveAfter (port: number, path: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`))
    s.on('error', () => {})
    setTimeout(() => { s.destroy(); resolve() }, ms)
  })
}

t.test('lambda and aws service integration faults', async (t) => {
  const invoke = await startInvokeEndpoint()
  t.teardown(() => invoke.close())
  const backend = await startFaultBackend()
  t.teardown(() => backend.close())
  const dir = t.testdir({
    'big.mjs': `
export const over = async () => ({ statusCode: 200, body: 'a'.repeat(6_291_556) })
export const fits = async () => ({ statusCode: 200, body: 'a'.repeat(6_000_000) })
let calls = 0
export const counted = async (event) => { calls++; await new Promise((r) => setTimeout(r, Number(event.queryStringParameters?.ms ?? 0))); return { statusCode: 200, body: String(calls) } }
`
  })
  const api = {
    openapi: '3.0.1',
    info: { title: 'faults', version: '1' },
    paths: {
      '/over': { get: proxy('over') },
      '/fits': { get: proxy('fits') },
      '/counted': { get: proxy('counted') },
      '/remote/endless': { get: proxy('endless') },
      '/remote/declared': { get: proxy('declared') },
      '/remote/over': { get: proxy('over-remote') },
      '/remote/hang': { get: proxy('hang') },
      '/s3/endless': { get: s3('endless') },
      '/s3/over': { get: s3('bytes') }
    }
  }
  writeFileSync(join(dir, 'api.json'), JSON.stringify(api))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    endpoints: { s3: backend.url },
    roles: { [ROLE]: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' } },
    apis: [{ id: 'faults', file: 'api.json', stages: { prod: {} } }],
    functions: {
      over: { handler: './big.mjs#over', memoryMb: 256 },
      fits: { handler: './big.mjs#fits', memoryMb: 256 },
      counted: { handler: './big.mjs#counted', concurrency: 1 },
      endless: { url: invoke.url, timeoutMs: 10_000 },
      declared: { url: invoke.url, timeoutMs: 10_000 },
      'over-remote': { url: invoke.url, timeoutMs: 10_000 },
      hang: { url: invoke.url, timeoutMs: 10_000 }
    }
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/prod`
  const port = Number(new URL(gw.url).port)
  t.equal((await request(`${base}/counted`)).status, 200, 'warm')
  const rss = watchRss(gw.pid)
  t.teardown(() => rss.stop())
  const baseline = rss.peak()

  t.test("a local function's result past Lambda's 6 MB is Lambda's function error: 502", async (t) => {
    const res = await request(`${base}/over`, { timeoutMs: 20_000 })
    t.equal(res.status, 502)
    t.equal(res.text, INTERNAL)
    t.match(gw.output(), /Response payload size exceeded maximum allowed payload size \(6291556 bytes\)/)
    const ok = await request(`${base}/fits`, { timeoutMs: 20_000 })
    t.equal(ok.status, 200, 'just under the quota passes')
    t.equal(ok.body.length, 6_000_000)
  })

  t.test('a remote function answering without end stops at 10 MB: 500, and the endpoint is hung up on', async (t) => {
    const before = invoke.calls.length
    const res = await request(`${base}/remote/endless`, { timeoutMs: 20_000 })
    t.equal(res.status, 500)
    t.equal(res.text, INTERNAL)
    const call = invoke.calls[before]!
    t.equal(call.name, 'endless')
    await until(() => call.abandoned, 5_000)
    t.ok(call.abandoned, 'the gateway closed the Invoke connection')
    t.ok(call.written < 64 * MB, `the endpoint wrote ${call.written} bytes`)
  })

  t.test('a declared length past 10 MB fails before the body is read; 10 MB and a byte fails too', async (t) => {
    let before = invoke.calls.length
    const res = await request(`${base}/remote/declared`, { timeoutMs: 20_000 })
    t.equal(res.status, 500)
    t.equal(res.text, INTERNAL)
    const call = invoke.calls[before]!
    await until(() => call.abandoned, 5_000)
    t.ok(call.abandoned)
    t.ok(call.written < 64 * MB, `${call.written} bytes written of 1 GB`)
    before = invoke.calls.length
    const over = await request(`${base}/remote/over`, { timeoutMs: 20_000 })
    t.equal(over.status, 500)
    t.equal(over.text, INTERNAL)
    t.match(gw.output(), /Integration response of reported length \d+ is larger than allowed maximum of 10485760 bytes/)
  })

  t.test('an AWS service answering without end, or 10 MB and a byte, fails as an HTTP integration does: 500', async (t) => {
    const before = backend.requests.length
    const res = await request(`${base}/s3/endless`, { timeoutMs: 20_000 })
    t.equal(res.status, 500)
    t.equal(res.text, INTERNAL)
    const rec = backend.requests[before]!
    t.equal(rec.path, '/endless')
    await until(() => rec.abandoned, 5_000)
    t.ok(rec.abandoned, 'the gateway closed the service connection')
    t.ok(rec.written < 64 * MB)
    const fits = await request(`${base}/s3/over?n=${MAX}`, { timeoutMs: 20_000 })
    t.equal(fits.status, 200, 'exactly 10485760 bytes pass')
    t.equal(fits.body.length, MAX)
    const over = await request(`${base}/s3/over?n=${MAX + 1}`, { timeoutMs: 20_000 })
    t.equal(over.status, 500)
    t.equal(over.text, INTERNAL)
  })

  t.test('a client leaving cancels a remote Invoke call in flight', async (t) => {
    const before = invoke.calls.length
    await leaveAfter(port, '/prod/remote/hang', 500)
    await until(() => invoke.calls.length > before && invoke.calls[before]!.abandoned, 5_000)
    t.equal(invoke.calls[before]?.name, 'hang')
    t.ok(invoke.calls[before]?.abandoned, 'the Invoke connection was closed well before the 10 s timeout')
  })

  t.test('a client leaving while its invocation waits for a free instance: it never runs', async (t) => {
    // One instance (concurrency 1), busy for 1.5 s; the second request waits, its client leaves.
    const busy = request(`${base}/counted?ms=1500`, { timeoutMs: 20_000 })
    await new Promise((r) => setTimeout(r, 200))
    await leaveAfter(port, '/prod/counted?ms=0', 300)
    const first = Number((await busy).text)
    const next = Number((await request(`${base}/counted`)).text)
    t.equal(next, first + 1, 'the abandoned invocation never ran')
  })

  t.test('the gateway still serves, and its memory stayed bounded', async (t) => {
    t.equal((await request(`${base}/counted`)).status, 200)
    const grew = rss.peak() - baseline
    t.ok(grew < 200 * MB, `RSS grew by ${(grew / MB).toFixed(0)} MB`)
  })
})
