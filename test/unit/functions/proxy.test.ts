// AWS_PROXY end to end inside the module: event in, handler, result out (as the pipeline will).
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { createFunctionHost } from '../../../src/functions/host.js'
import { encodeProxyEvent, parseProxyResult, type ProxyEventInput } from '../../../src/functions/event.js'

const host = createFunctionHost(
  { binary: { handler: './behaviors.mjs#binary' }, returns: { handler: './behaviors.mjs#returns' } },
  { baseDir: fileURLToPath(new URL('../../fixtures/functions/', import.meta.url)), name: 'test:proxy', output: 'ignore' },
)
t.teardown(() => host.close())
const opts = { timeoutMs: 5_000, requestId: 'r' }

const input: ProxyEventInput = {
  method: 'POST', path: '/img', requestPath: '/prod/img', query: '', headers: ['content-type', 'image/png'],
  body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]), isBinary: true,
  resourcePath: '/img', resourceId: 'abc123', pathParameters: null, stage: 'prod', stageVariables: null,
  requestId: 'r', extendedRequestId: 'e', accountId: '123456789012', apiId: 'api1', deploymentId: 'd1', domainName: 'api1.execute-api.us-east-1.amazonaws.com',
  sourceIp: '127.0.0.1', requestTimeEpoch: 0, protocol: 'HTTP/1.1', authorizer: null, identity: null,
}

t.test('a binary body goes to the function base64 and comes back as the same bytes', { timeout: 10_000 }, async (t) => {
  const o = await host.invoke('binary', encodeProxyEvent(input), opts)
  t.equal(o.kind, 'ok')
  if (o.kind !== 'ok') return
  const r = parseProxyResult(o.payload)
  t.match(r, { kind: 'response', statusCode: 200, headers: ['content-type', 'image/png'] })
  if (r.kind === 'response') t.strictSame([...r.body], [...input.body!])
})

t.test('what a function returns decides between a response and a malformed result', { timeout: 10_000 }, async (t) => {
  const call = async (value: unknown) => {
    const o = await host.invoke('returns', new TextEncoder().encode(JSON.stringify({ value })), opts)
    return o.kind === 'ok' ? parseProxyResult(o.payload) : o
  }
  t.match(await call({ statusCode: 404, body: 'nope' }), { kind: 'response', statusCode: 404 })
  t.match(await call(undefined), { kind: 'malformed', reason: /got null/ }, 'a handler returning nothing')
  t.match(await call({ statusCode: 200, body: { a: 1 } }), { kind: 'malformed', reason: /body must be a string/ })
  t.match(await call('text'), { kind: 'malformed', reason: /got string/ })
})
