// The function host with local handlers: Lambda Node.js runtime behaviours, limits, reload.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createFunctionHost, type FunctionHost } from '../../../src/functions/host.js'
import type { FunctionsConfig } from '../../../src/functions/config.js'
import type { InvokeOutcome } from '../../../src/functions/protocol.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/functions/', import.meta.url))
const enc = new TextEncoder()
const dec = new TextDecoder()
const payload = (v: unknown) => enc.encode(JSON.stringify(v))
const json = (o: InvokeOutcome): any => (o.kind === 'ok' || o.kind === 'function-error' ? JSON.parse(dec.decode(o.payload)) : o)
const opts = { timeoutMs: 29_000, requestId: 'req-1' }

const b = (name: string, extra: object = {}) => ({ handler: `./behaviors.mjs#${name}`, ...extra })
const config: FunctionsConfig = {
  echo: b('echo', { memoryMb: 256, environment: { TABLE: 'pets' } }),
  callback: b('callback'),
  contextShape: b('contextShape'),
  waits: b('waits'),
  nothing: b('nothing'),
  succeed: b('succeed'),
  fail: b('fail'),
  done: b('done'),
  callbackError: b('callbackError'),
  throws: b('throws'),
  rejects: b('rejects'),
  loops: b('loops', { timeoutMs: 300 }),
  slow: b('slow', { timeoutMs: 5_000, concurrency: 1 }),
  allocates: b('allocates', { memoryMb: 128, timeoutMs: 20_000 }),
  exits: b('exits'),
  uncaught: b('uncaught'),
  unhandled: b('unhandled'),
  circular: b('circular'),
  cjs: { handler: './callback.cjs' },
  missing: b('noSuchExport'),
  notAFunction: b('notAFunction'),
  noModule: { handler: './no-such-file.mjs#handler' },
  syntax: { handler: './syntax-error.mjs#handler' },
}

let host: FunctionHost
t.before(() => {
  host = createFunctionHost(config, { baseDir: FIXTURES, name: 'test:host', output: 'ignore' })
})
t.teardown(() => host.close())

t.test('async handler: its result, the context and the environment of Lambda', { timeout: 10_000 }, async (t) => {
  const o = await host.invoke('echo', payload({ hello: 'world' }), opts)
  t.equal(o.kind, 'ok')
  const r = json(o)
  t.equal(r.statusCode, 200)
  const body = JSON.parse(r.body)
  t.strictSame(body.event, { hello: 'world' })
  t.match(body.context, {
    awsRequestId: /^[0-9a-f-]{36}$/,
    functionName: 'echo',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:echo',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/echo',
    logStreamName: /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/,
    callbackWaitsForEmptyEventLoop: true,
    hasDone: true,
  })
  t.ok(body.context.remaining > 0 && body.context.remaining <= 3_000, 'getRemainingTimeInMillis counts down from the 3 s default')
  t.strictSame(body.env, { AWS_LAMBDA_FUNCTION_NAME: 'echo', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256', AWS_REGION: 'us-east-1', _HANDLER: './behaviors.mjs#echo', TABLE: 'pets' })
})

// The context as the runtime builds it: a plain object, callbackWaitsForEmptyEventLoop its one
// accessor (enumerable, first), a flag of its own per invocation.
t.test('the context: a plain object, its keys in order, callbackWaitsForEmptyEventLoop an accessor of its own per invocation', { timeout: 10_000 }, async (t) => {
  const keys = ['callbackWaitsForEmptyEventLoop', 'functionName', 'functionVersion', 'invokedFunctionArn', 'memoryLimitInMB', 'awsRequestId', 'logGroupName', 'logStreamName', 'identity', 'clientContext', 'getRemainingTimeInMillis', 'done', 'succeed', 'fail']
  for (let i = 0; i < 2; i++) {
    // The first call set its flag to false: the second starts at true again.
    t.strictSame(json(await host.invoke('contextShape', payload({}), opts)), { keys, accessors: ['callbackWaitsForEmptyEventLoop'], before: true, after: false, plain: true }, `invocation ${i + 1}`)
  }
})

t.test('a warm instance keeps module state between invocations; a qualifier shows in the ARN', { timeout: 10_000 }, async (t) => {
  const a = JSON.parse(json(await host.invoke('echo', payload({}), opts)).body)
  const q = JSON.parse(json(await host.invoke('echo:live', payload({}), opts)).body)
  t.ok(q.invocations > a.invocations, 'the module was not loaded again')
  t.equal(q.context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:echo:live')
  t.not(q.context.awsRequestId, a.context.awsRequestId)
})

t.test('callback handlers, ESM and CommonJS', { timeout: 10_000 }, async (t) => {
  t.strictSame(json(await host.invoke('callback', payload({}), opts)), { statusCode: 201, body: 'callback' })
  const r = json(await host.invoke('cjs', payload({}), opts))
  t.strictSame(JSON.parse(r.body), { cjs: true, calls: 1, name: 'cjs' })
})

t.test('callback waits for the empty event loop unless callbackWaitsForEmptyEventLoop is false', { timeout: 10_000 }, async (t) => {
  t.strictSame(json(await host.invoke('waits', payload({}), opts)), { timerRan: true })
  t.strictSame(json(await host.invoke('waits', payload({ noWait: true }), opts)), { timerRan: false })
  t.strictSame(json(await host.invoke('nothing', payload({}), opts)), null, 'no callback and no promise: null once the loop is empty')
})

t.test('context.succeed / done / fail answer at once, first call wins', { timeout: 10_000 }, async (t) => {
  t.strictSame(json(await host.invoke('succeed', payload({}), opts)), { via: 'succeed' })
  t.strictSame(json(await host.invoke('done', payload({}), opts)), { via: 'done' })
  const f = await host.invoke('fail', payload({}), opts)
  t.match(f, { kind: 'function-error', errorType: 'Error', errorMessage: 'failed via context' })
})

t.test('thrown errors, rejections and callback errors are function errors with Lambda error documents', { timeout: 10_000 }, async (t) => {
  const thrown = await host.invoke('throws', payload({}), opts)
  t.match(thrown, { kind: 'function-error', errorType: 'TypeError', errorMessage: 'thrown synchronously' })
  t.match(json(thrown), { errorType: 'TypeError', errorMessage: 'thrown synchronously', trace: Array })
  t.match(await host.invoke('rejects', payload({}), opts), { kind: 'function-error', errorType: 'NotFoundError', errorMessage: '[404] no such pet' })
  const cb = await host.invoke('callbackError', payload({}), opts)
  t.match(cb, { kind: 'function-error', errorType: 'string', errorMessage: 'plain string error' })
  t.strictSame(json(cb), { errorType: 'string', errorMessage: 'plain string error', trace: [] })
  t.match(await host.invoke('circular', payload({}), opts), { kind: 'function-error', errorType: 'Runtime.SerializationError' })
})

t.test('module and handler problems are Runtime.* function errors', { timeout: 10_000 }, async (t) => {
  t.match(await host.invoke('missing', payload({}), opts), {
    kind: 'function-error',
    errorType: 'Runtime.HandlerNotFound',
    errorMessage: './behaviors.mjs#noSuchExport is undefined or not exported',
  })
  t.match(await host.invoke('notAFunction', payload({}), opts), { kind: 'function-error', errorType: 'Runtime.HandlerNotFound' })
  t.match(await host.invoke('noModule', payload({}), opts), { kind: 'function-error', errorType: 'Runtime.ImportModuleError' })
  t.match(await host.invoke('syntax', payload({}), opts), { kind: 'function-error', errorType: 'Runtime.UserCodeSyntaxError' })
})

t.test('a handler looping past its timeout is stopped, and the function keeps serving', { timeout: 10_000 }, async (t) => {
  const order: string[] = []
  const looping = host.invoke('loops', payload({}), opts).then((o) => (order.push('loops'), o))
  const echo = host.invoke('echo', payload({}), opts).then((o) => (order.push('echo'), o))
  const [o, e] = await Promise.all([looping, echo])
  t.strictSame(o, { kind: 'timeout', source: 'function', afterMs: 300, errorMessage: 'Task timed out after 0.30 seconds' })
  t.match(e, { kind: 'ok' })
  t.strictSame(order, ['echo', 'loops'], 'another function answered while the loop spun')
  const again = await host.invoke('loops', payload({}), { timeoutMs: 100, requestId: 'r' })
  t.match(again, { kind: 'timeout', source: 'integration', afterMs: 100 }, 'the integration timeout when it is shorter')
  t.match(await host.invoke('echo', payload({}), opts), { kind: 'ok' }, 'other functions were never stalled')
})

t.test('invocations beyond concurrency wait for a free instance, within the integration timeout', { timeout: 10_000 }, async (t) => {
  const [a, b2, c] = await Promise.all([
    host.invoke('slow', payload({ ms: 150 }), opts),
    host.invoke('slow', payload({ ms: 150 }), opts),
    host.invoke('slow', payload({ ms: 150 }), { timeoutMs: 100, requestId: 'r' }),
  ])
  t.strictSame(json(a), { slept: 150 })
  t.strictSame(json(b2), { slept: 150 })
  t.match(c, { kind: 'timeout', source: 'integration' }, 'timed out while queued behind the one instance')
})

t.test('memory past memoryMb ends the instance: a crash', { timeout: 30_000 }, async (t) => {
  const o = await host.invoke('allocates', payload({}), opts)
  t.match(o, { kind: 'crash', reason: /out of memory/ })
})

t.test('process.exit, uncaught exceptions and unhandled rejections end the runtime', { timeout: 10_000 }, async (t) => {
  t.match(await host.invoke('exits', payload({}), opts), { kind: 'crash', reason: /exit status 3/ })
  t.match(await host.invoke('uncaught', payload({}), opts), { kind: 'function-error', errorType: 'RangeError', errorMessage: 'escaped the handler' })
  t.match(await host.invoke('unhandled', payload({}), opts), {
    kind: 'function-error',
    errorType: 'Runtime.UnhandledPromiseRejection',
    errorMessage: 'Error: nobody catches this',
  })
  t.match(await host.invoke('exits', payload({}), opts), { kind: 'crash' }, 'a new instance replaces the dead one')
})

t.test('an unknown function is not-found', async (t) => {
  t.strictSame(await host.invoke('nope', payload({}), opts), { kind: 'not-found' })
  t.strictSame(await host.invoke('nope:alias', payload({}), opts), { kind: 'not-found' })
})

t.test('reload picks up a changed handler file without a restart', { timeout: 10_000 }, async (t) => {
  const dir = t.testdir({ 'fn.mjs': 'export const handler = async () => "v1"\n', 'fn.cjs': 'exports.handler = async () => "c1"\n' })
  const h = createFunctionHost({ fn: { handler: './fn.mjs#handler' }, c: { handler: 'fn.cjs' } }, { baseDir: dir, name: 'test:reload', output: 'ignore' })
  t.teardown(() => h.close())
  t.equal(json(await h.invoke('fn', payload({}), opts)), 'v1')
  t.equal(json(await h.invoke('c', payload({}), opts)), 'c1')
  writeFileSync(join(dir, 'fn.mjs'), 'export const handler = async () => "v2"\n')
  writeFileSync(join(dir, 'fn.cjs'), 'exports.handler = async () => "c2"\n')
  t.equal(json(await h.invoke('fn', payload({}), opts)), 'v1', 'a warm instance keeps the module it loaded')
  h.reload()
  t.equal(json(await h.invoke('fn', payload({}), opts)), 'v2')
  t.equal(json(await h.invoke('c', payload({}), opts)), 'c2')
  h.reload({ fn: { handler: './fn.cjs#handler' } })
  t.equal(json(await h.invoke('fn', payload({}), opts)), 'c2', 'a new config moves the function')
  t.strictSame(await h.invoke('c', payload({}), opts), { kind: 'not-found' }, 'a removed function is gone')
  t.throws(() => h.reload({ fn: { handler: 42 } as never }), { code: 'BP_ERR_CONFIG_INVALID' })
  t.equal(json(await h.invoke('fn', payload({}), opts)), 'c2', 'an invalid config changes nothing')
})

t.test('close answers pending invocations with a crash', { timeout: 10_000 }, async (t) => {
  const h = createFunctionHost({ s: b('slow') }, { baseDir: FIXTURES, name: 'test:close', output: 'ignore' })
  const p = h.invoke('s', payload({ ms: 2_000 }), opts)
  await new Promise((r) => setTimeout(r, 100))
  await h.close()
  t.match(await p, { kind: 'crash', reason: 'the function host is closed' })
  t.match(await h.invoke('s', payload({}), opts), { kind: 'crash' })
})
