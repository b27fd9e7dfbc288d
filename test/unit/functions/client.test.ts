// Calling the function host from other threads, as the hot-path workers do.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { createFunctionHost } from '../../../src/functions/host.js'
import { connectFunctionHost } from '../../../src/functions/client.js'
import type { InvokeOutcome } from '../../../src/functions/protocol.js'

const FIXTURES = fileURLToPath(new URL('../../fixtures/functions/', import.meta.url))
const WORKER = new URL('../../fixtures/functions/client-worker.ts', import.meta.url)
const dec = new TextDecoder()
const json = (o: InvokeOutcome): any => (o.kind === 'ok' || o.kind === 'function-error' ? JSON.parse(dec.decode(o.payload)) : o)

function runWorker(workerData: object, transferList: any[] = []): Promise<any> {
  const w = new Worker(WORKER, { workerData, transferList })
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      resolve(m)
      void w.terminate()
    })
    w.once('error', reject)
  })
}

const host = createFunctionHost(
  {
    echo: { handler: './behaviors.mjs#echo' },
    returns: { handler: './behaviors.mjs#returns', concurrency: 2 },
    rejects: { handler: './behaviors.mjs#rejects' },
  },
  { baseDir: FIXTURES, name: 'test:client', output: 'ignore' },
)
t.teardown(() => host.close())

t.test('a worker thread invokes by host name over BroadcastChannel; each call gets its own answer', { timeout: 30_000 }, async (t) => {
  const payloads = Array.from({ length: 20 }, (_, i) => JSON.stringify({ value: i }))
  const outcomes: InvokeOutcome[] = await runWorker({ host: 'test:client', name: 'returns', payloads, timeoutMs: 5_000 })
  t.strictSame(outcomes.map(json), Array.from({ length: 20 }, (_, i) => i))
})

t.test('a worker thread invokes over a port from host.connect()', { timeout: 30_000 }, async (t) => {
  const port = host.connect()
  const outcomes: InvokeOutcome[] = await runWorker({ host: port, name: 'rejects', payloads: ['{}', '{}'], timeoutMs: 5_000 }, [port])
  t.match(outcomes, [
    { kind: 'function-error', errorType: 'NotFoundError' },
    { kind: 'function-error', errorType: 'NotFoundError' },
  ])
  t.ok(outcomes[0]!.kind === 'function-error' && outcomes[0]!.payload instanceof Uint8Array, 'payload bytes arrive as a Uint8Array')
})

t.test('a client in the same thread works too, and unknown names are not-found', { timeout: 10_000 }, async (t) => {
  const c = connectFunctionHost('test:client')
  t.teardown(() => c.close())
  t.match(await c.invoke('echo', new TextEncoder().encode('{}'), { timeoutMs: 5_000, requestId: 'x' }), { kind: 'ok' })
  t.strictSame(await c.invoke('nope', new TextEncoder().encode('{}'), { timeoutMs: 5_000, requestId: 'x' }), { kind: 'not-found' })
})

t.test('without a host, a call ends as a crash shortly after its timeout', { timeout: 10_000 }, async (t) => {
  const c = connectFunctionHost('test:nobody-listens')
  t.teardown(() => c.close())
  t.match(await c.invoke('echo', new Uint8Array(2), { timeoutMs: 10, requestId: 'x' }), { kind: 'crash', reason: 'the function host did not answer' })
})

t.test('closing a client answers its pending calls', { timeout: 10_000 }, async (t) => {
  const c = connectFunctionHost('test:nobody-listens')
  const p = c.invoke('echo', new Uint8Array(2), { timeoutMs: 5_000, requestId: 'x' })
  c.close()
  t.match(await p, { kind: 'crash', reason: 'the function client is closed' })
})
