// Direct invocations (src/functions/direct.ts): a client hands calls to an idle runner itself,
// while the host keeps spawning, concurrency, timeouts, crashes and reload.
import t from 'tap'
import type { Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createFunctionHost } from '../../../src/functions/host.js'
import { connectFunctionHost, type FunctionClient } from '../../../src/functions/client.js'
import type { InvokeOutcome } from '../../../src/functions/protocol.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const payload = (v: unknown) => enc.encode(JSON.stringify(v))
const json = (o: InvokeOutcome): any => (o.kind === 'ok' || o.kind === 'function-error' ? JSON.parse(dec.decode(o.payload)) : o)
const opts = { timeoutMs: 29_000, requestId: 'r' }

const HANDLER = `
let n = 0
export const handler = async (e, context) => {
  if (e.exit) process.exit(3)
  if (e.uncaught) setTimeout(() => { throw new RangeError('escaped') }, 1)
  if (e.ms) await new Promise((r) => setTimeout(r, e.ms))
  if (e.throws) throw new TypeError('boom')
  return { v: 'v1', n: ++n, arn: context.invokedFunctionArn, stream: context.logStreamName, id: context.awsRequestId }
}
`

function setup(t: Test, name: string, concurrency = 2) {
  const dir = t.testdir({ 'fn.mjs': HANDLER })
  const host = createFunctionHost({ fn: { handler: './fn.mjs#handler', timeoutMs: 1_000, concurrency } }, { baseDir: dir, name, output: 'ignore' })
  const a = connectFunctionHost(name)
  const b = connectFunctionHost(name)
  t.teardown(async () => { a.close(); b.close(); await host.close() })
  return { host, a, b, dir }
}

/** Calls until one goes to a runner directly (the first ones, and those after an instance died, go through the host). */
async function warm(t: Test, c: FunctionClient): Promise<void> {
  const before = c.directInvocations
  for (let i = 0; i < 100 && c.directInvocations === before; i++) {
    t.match(await c.invoke('fn', payload({}), opts), { kind: 'ok' })
  }
  t.ok(c.directInvocations > before, 'calls went to the runner directly')
}

t.test('a warm function answers direct calls as the host would: the result, the qualifier in the ARN, a request id each', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:basic')
  await warm(t, a)
  const before = a.directInvocations
  const x = json(await a.invoke('fn', payload({}), opts))
  const y = json(await a.invoke('fn:live', payload({}), opts))
  t.equal(a.directInvocations, before + 2, 'both direct')
  t.equal(x.v, 'v1')
  t.equal(x.arn, 'arn:aws:lambda:us-east-1:123456789012:function:fn')
  t.equal(y.arn, 'arn:aws:lambda:us-east-1:123456789012:function:fn:live')
  t.not(x.id, y.id)
  const e = await a.invoke('fn', payload({ throws: true }), opts)
  t.match(e, { kind: 'function-error', errorType: 'TypeError', errorMessage: 'boom' }, 'a function error, straight from the runner')
  t.match(json(await a.invoke('fn', payload({}), opts)), { v: 'v1' }, 'and it serves after')
})

t.test("the host's watchdog ends a direct call past the function's timeout or the integration's, and the function serves after", { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:timeout')
  await warm(t, a)
  let before = a.directInvocations
  const started = Date.now()
  t.strictSame(await a.invoke('fn', payload({ ms: 5_000 }), opts), { kind: 'timeout', source: 'function', afterMs: 1_000, errorMessage: 'Task timed out after 1.00 seconds' })
  t.equal(a.directInvocations, before + 1, 'it was a direct call')
  t.ok(Date.now() - started < 3_000, 'ended near its deadline, not at the client\'s grace')
  await warm(t, a)
  before = a.directInvocations
  t.match(await a.invoke('fn', payload({ ms: 5_000 }), { timeoutMs: 100, requestId: 'r' }), { kind: 'timeout', source: 'integration', afterMs: 100 })
  t.equal(a.directInvocations, before + 1)
  t.match(await a.invoke('fn', payload({}), opts), { kind: 'ok' })
})

t.test('a runner dying in a direct call is a crash; an uncaught error a function error; new instances replace them', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:crash')
  await warm(t, a)
  let before = a.directInvocations
  t.match(await a.invoke('fn', payload({ exit: true }), opts), { kind: 'crash', reason: /exit status 3/ })
  t.equal(a.directInvocations, before + 1)
  await warm(t, a)
  before = a.directInvocations
  t.match(await a.invoke('fn', payload({ uncaught: true, ms: 50 }), opts), { kind: 'function-error', errorType: 'RangeError', errorMessage: 'escaped' })
  t.equal(a.directInvocations, before + 1)
  t.match(await a.invoke('fn', payload({}), opts), { kind: 'ok' })
})

t.test('two clients at once never run more instances than the concurrency, and calls beyond it wait', { timeout: 20_000 }, async (t) => {
  const { a, b } = setup(t, 'test:direct:concurrency', 2)
  await warm(t, a)
  await warm(t, b)
  const calls: Promise<InvokeOutcome>[] = []
  for (let i = 0; i < 20; i++) calls.push((i % 2 === 0 ? a : b).invoke('fn', payload({ ms: 20 }), opts))
  const results = await Promise.all(calls)
  const streams = new Set<string>()
  for (const r of results) {
    t.equal(r.kind, 'ok')
    streams.add(json(r).stream)
  }
  t.ok(streams.size <= 2, `at most 2 instances served (saw ${streams.size})`)
})

t.test('a reload: direct calls reach the new handler, none the old one', { timeout: 20_000 }, async (t) => {
  const { host, a, dir } = setup(t, 'test:direct:reload')
  await warm(t, a)
  writeFileSync(join(dir, 'fn.mjs'), HANDLER.replace("v: 'v1'", "v: 'v2'"))
  host.reload()
  for (let i = 0; i < 10; i++) {
    const o = await a.invoke('fn', payload({}), opts)
    t.equal(json(o).v, 'v2', JSON.stringify(o))
  }
  await warm(t, a)
  t.equal(json(await a.invoke('fn', payload({}), opts)).v, 'v2')
})
