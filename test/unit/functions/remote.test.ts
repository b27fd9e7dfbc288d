// Remote functions through the Lambda Invoke API, against a loopback server speaking it
// (as the Lambda runtime interface emulator does).
import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createFunctionHost } from '../../../src/functions/host.js'
import type { InvokeOutcome } from '../../../src/functions/protocol.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const opts = { timeoutMs: 29_000, requestId: 'r' }
const json = (o: InvokeOutcome): any => (o.kind === 'ok' || o.kind === 'function-error' ? JSON.parse(dec.decode(o.payload)) : o)

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = []
const server = createServer(async (req, res) => {
  const body = await readBody(req)
  seen.push({ method: req.method!, url: req.url!, headers: req.headers, body })
  const m = /^(?:\/base)?\/2015-03-31\/functions\/([^/]+)\/invocations(?:\?Qualifier=(.*))?$/.exec(req.url!)
  const name = m === null ? '' : decodeURIComponent(m[1]!)
  if (req.method !== 'POST' || m === null || name === 'missing') {
    res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' })
    res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }))
    return
  }
  if (name === 'boom') {
    res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' })
    res.end(JSON.stringify({ errorType: 'Error', errorMessage: '[400] bad pet', trace: [] }))
    return
  }
  if (name === 'throttled') {
    res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' })
    res.end(JSON.stringify({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', message: 'Rate Exceeded.' }))
    return
  }
  if (name === 'sleepy') {
    setTimeout(() => res.end('"late"'), 1_000).unref()
    return
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ statusCode: 200, body: JSON.stringify({ event: JSON.parse(body), qualifier: m[2] ?? null }) }))
})

t.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
})
t.teardown(() => {
  server.closeAllConnections()
  server.close()
})

t.test('invokes through the Invoke API and answers with its payload', { timeout: 10_000 }, async (t) => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const host = createFunctionHost(
    {
      hello: { url },
      based: { url: url + '/base/' },
      boom: { url },
      missing: { url },
      throttled: { url },
      sleepy: { url, timeoutMs: 100 },
      refused: { url: 'http://127.0.0.1:1' },
    },
    { baseDir: '/', name: 'test:remote', output: 'ignore' },
  )
  t.teardown(() => host.close())

  seen.length = 0
  const o = await host.invoke('hello', enc.encode('{"x":1}'), opts)
  t.equal(o.kind, 'ok')
  t.strictSame(JSON.parse(json(o).body), { event: { x: 1 }, qualifier: null })
  t.match(seen[0], { method: 'POST', url: '/2015-03-31/functions/hello/invocations', headers: { 'x-amz-invocation-type': 'RequestResponse' }, body: '{"x":1}' })

  const q = await host.invoke('hello:prod', enc.encode('{}'), opts)
  t.equal(JSON.parse(json(q).body).qualifier, 'prod', 'the qualifier goes as ?Qualifier=')
  t.match(await host.invoke('based', enc.encode('{}'), opts), { kind: 'ok' }, 'a base path in the url is kept')
  t.equal(seen.at(-1)!.url, '/base/2015-03-31/functions/based/invocations')

  const e = await host.invoke('boom', enc.encode('{}'), opts)
  t.match(e, { kind: 'function-error', errorType: 'Error', errorMessage: '[400] bad pet' }, 'X-Amz-Function-Error makes a function error')
  t.match(json(e), { errorMessage: '[400] bad pet' })

  t.strictSame(await host.invoke('missing', enc.encode('{}'), opts), { kind: 'not-found' })
  t.match(await host.invoke('throttled', enc.encode('{}'), opts), { kind: 'crash', reason: /429 TooManyRequestsException/ })
  t.match(await host.invoke('sleepy', enc.encode('{}'), opts), { kind: 'timeout', source: 'function', afterMs: 100 })
  t.match(await host.invoke('sleepy', enc.encode('{}'), { timeoutMs: 50, requestId: 'r' }), { kind: 'timeout', source: 'integration', afterMs: 50 })
  t.match(await host.invoke('refused', enc.encode('{}'), opts), { kind: 'crash', reason: /ECONNREFUSED/ })
})
