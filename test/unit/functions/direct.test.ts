// Direct invocations (src/functions/direct.ts): a client hands calls to an idle runner itself,
// while the host keeps spawning, concurrency, timeouts, crashes and reload.
import t from 'tap'
import type { Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createFunctionHost } from '../../../src/functions/host.js'
import { HANDED_BACK_MS, connectFunctionHost, type FunctionClient } from '../../../src/functions/client.js'
import type { InvokeOutcome } from '../../../src/functions/protocol.js'
import { proxyEventJson, type ProxyEventInput } from '../../../src/functions/event.js'
import { PackedProxyEvent, packProxyEvent } from '../../../src/functions/packed-event.js'

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
  if (e.spin) { const end = Date.now() + e.spin; while (Date.now() < end) {} }
  if (e.ms) await new Promise((r) => setTimeout(r, e.ms))
  if (e.throws) throw new TypeError('boom')
  if (e.requestContext) return e
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

/**
 * Calls `n` slow ones at a time until a round of them ran on `n` instances (all warm then), and
 * waits out the second of one call per instance that their hand-backs began.
 */
async function warmAll(t: Test, c: FunctionClient, n: number): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const calls: Promise<InvokeOutcome>[] = []
    for (let i = 0; i < n; i++) calls.push(c.invoke('fn', payload({ ms: 20 }), opts))
    const results = await Promise.all(calls)
    for (const o of results) t.equal(o.kind, 'ok')
    if (new Set(results.map((o) => json(o).stream)).size === n) {
      await new Promise((r) => setTimeout(r, HANDED_BACK_MS + 100))
      return
    }
  }
  t.fail(`${n} instances never ran calls together`)
}

/** How many results came from each instance, largest first. */
const perInstance = (results: readonly InvokeOutcome[]): number[] => {
  const counts = new Map<string, number>()
  for (const r of results) counts.set(json(r).stream, (counts.get(json(r).stream) ?? 0) + 1)
  return [...counts.values()].sort((x, y) => y - x)
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

// Batches (direct.ts): the calls of one event-loop turn go to the instances in one message each,
// and an instance runs them one after another, as Lambda runs one invocation at a time per instance.
t.test('the calls of one turn all go directly, each answered once with its own request id, on at most the concurrency', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:batch', 2)
  await warmAll(t, a, 2)
  const before = a.directInvocations
  const calls: Promise<InvokeOutcome>[] = []
  for (let i = 0; i < 12; i++) calls.push(a.invoke(i % 3 === 0 ? 'fn:live' : 'fn', payload({ i }), opts))
  const results = (await Promise.all(calls)).map(json)
  t.equal(a.directInvocations, before + 12, 'all twelve direct')
  t.equal(new Set(results.map((r) => r.id)).size, 12, 'a request id each')
  t.ok(new Set(results.map((r) => r.stream)).size <= 2, 'on at most 2 instances')
  results.forEach((r, i) => t.equal(r.arn, `arn:aws:lambda:us-east-1:123456789012:function:fn${i % 3 === 0 ? ':live' : ''}`, `call ${i}'s own qualifier`))
})

// Every message wakes a thread: the calls of a turn fill the lowest idle instance (up to 16)
// before the next is woken, unless the function's calls were handed back within the last second.
t.test('the calls of one turn fill the lowest idle instance first, 16 at most, then the next', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:fill', 2)
  await warmAll(t, a, 2)
  const before = a.directInvocations
  const calls: Promise<InvokeOutcome>[] = []
  for (let i = 0; i < 20; i++) calls.push(a.invoke('fn', payload({ i }), opts))
  const results = await Promise.all(calls)
  t.equal(a.directInvocations, before + 20, 'all twenty direct')
  t.strictSame(perInstance(results), [16, 4], 'sixteen on one instance, four on the other')
})

t.test('after a hand-back a function gets one direct call per instance, for a second; then calls fill again', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:one-each', 2)
  await warmAll(t, a, 2)
  let before = a.directInvocations
  // Filled into one instance: the slow call outlasts its turn and the two behind it come back.
  const slow = a.invoke('fn', payload({ ms: 300 }), opts)
  const behind = await Promise.all([a.invoke('fn', payload({}), opts), a.invoke('fn', payload({}), opts)])
  t.equal(a.directInvocations, before + 3, 'the three went to one instance directly')
  for (const r of behind) t.equal(r.kind, 'ok')
  // The slow call's instance holds it (no room at one per instance); the other takes at most one, the host the rest.
  before = a.directInvocations
  const next = await Promise.all([0, 1, 2, 3].map(() => a.invoke('fn', payload({}), opts)))
  for (const r of next) t.equal(r.kind, 'ok')
  t.ok(a.directInvocations - before <= 1, `at most one sent directly (${a.directInvocations - before}; queued they would be 4)`)
  t.equal((await slow).kind, 'ok')
  await new Promise((r) => setTimeout(r, HANDED_BACK_MS + 100))
  before = a.directInvocations
  const filled = await Promise.all([0, 1, 2, 3].map(() => a.invoke('fn', payload({}), opts)))
  t.equal(a.directInvocations, before + 4, 'a second later all four go directly again')
  t.strictSame(perInstance(filled), [4], 'to one instance')
})

t.test('calls sent behind a call that outlasts its turn are handed back and run on a free instance, not after it', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:handback', 2)
  await warmAll(t, a, 2)
  const started = Date.now()
  const ended: number[] = []
  // The slow call holds its instance for 0.8 s (the function timeout is 1 s); a call queued behind it would end after that.
  const calls = [{ ms: 800 }, {}, {}, {}].map((e, i) => a.invoke('fn', payload(e), opts).then((o) => { ended[i] = Date.now() - started; return o }))
  const results = await Promise.all(calls)
  for (const r of results) t.equal(r.kind, 'ok')
  t.ok(ended[0]! >= 800, `the slow call took its time (${ended[0]} ms)`)
  for (let i = 1; i < 4; i++) t.ok(ended[i]! < 600, `call ${i} did not wait for it (${ended[i]} ms)`)
})

t.test('a runner dying in a batch: its call is a crash, the calls it had not started run on a new instance', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:batch-crash', 1)
  await warm(t, a)
  const results = await Promise.all([a.invoke('fn', payload({ exit: true }), opts), a.invoke('fn', payload({}), opts), a.invoke('fn', payload({}), opts)])
  t.match(results[0], { kind: 'crash', reason: /exit status 3/ })
  t.equal(results[1]!.kind, 'ok', JSON.stringify(results[1]))
  t.equal(results[2]!.kind, 'ok', JSON.stringify(results[2]))
})

t.test('a batch past the function timeout: the running call times out, the next runs after on a new instance', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:batch-timeout', 1)
  await warm(t, a)
  const results = await Promise.all([a.invoke('fn', payload({ ms: 5_000 }), opts), a.invoke('fn', payload({}), opts)])
  t.strictSame(results[0], { kind: 'timeout', source: 'function', afterMs: 1_000, errorMessage: 'Task timed out after 1.00 seconds' })
  t.equal(results[1]!.kind, 'ok', JSON.stringify(results[1]))
})

t.test("a call whose integration timeout passes while the call before it blocks the instance's turn never starts: a timeout", { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:batch-expired', 1)
  await warm(t, a)
  const before = a.directInvocations
  const results = await Promise.all([a.invoke('fn', payload({ spin: 300 }), opts), a.invoke('fn', payload({}), { timeoutMs: 100, requestId: 'r' })])
  t.equal(a.directInvocations, before + 2, 'both sent directly, in one batch')
  t.equal(results[0]!.kind, 'ok')
  t.strictSame(results[1], { kind: 'timeout', source: 'integration', afterMs: 100, errorMessage: 'Task timed out after 0.10 seconds' })
  t.match(json(await a.invoke('fn', payload({}), opts)), { v: 'v1' }, 'the instance serves after')
})

// A proxy event goes to a warm instance packed (packed-event.ts) and to the host as JSON: the
// handler gets the same event either way (a lone surrogate included: the packed text crosses as a string).
t.test('a packed proxy event reaches the handler as its JSON would, directly and through the host', { timeout: 20_000 }, async (t) => {
  const { a } = setup(t, 'test:direct:packed', 1)
  const input: ProxyEventInput = {
    method: 'POST', path: '/pets/7', requestPath: '/test/pets/7', query: 'a=1&b=x+y&a=2', headers: ['Host', 'h.example', 'x-r', '1', 'User-Agent', 'ua', 'x-r', '2', 'x-lone', 'a\ud800'],
    body: new TextEncoder().encode('{"é": "😀"}'), isBinary: false, resourcePath: '/pets/{id}', resourceId: 'r1', pathParameters: { id: '7' }, stage: 'test',
    stageVariables: { v: 'w' }, requestId: 'rid', extendedRequestId: 'xid', accountId: '123456789012', apiId: 'api', deploymentId: 'dep', domainName: 'h.example',
    sourceIp: '127.0.0.1', requestTimeEpoch: 1786000000000, protocol: 'HTTP/1.1', authorizer: null, identity: null,
  }
  const expected = JSON.parse(proxyEventJson(input))
  const event = () => new PackedProxyEvent(packProxyEvent(input)!, input)
  let before = a.directInvocations
  t.strictSame(json(await a.invoke('fn', event(), opts)), expected, 'through the host (the first call, before the slot table is known)')
  t.equal(a.directInvocations, before, 'that one went through the host')
  await warm(t, a)
  before = a.directInvocations
  t.strictSame(json(await a.invoke('fn', event(), opts)), expected, 'directly')
  t.equal(a.directInvocations, before + 1, 'that one went directly')
})
