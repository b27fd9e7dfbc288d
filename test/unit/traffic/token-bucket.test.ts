// The token bucket API Gateway throttles with ("Throttle requests to your REST APIs in API
// Gateway": the bucket holds `burst` tokens, refills at `rate` per second, a request takes
// one), shared by all worker threads through one SharedArrayBuffer.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { TokenBucketTable, createTokenBucketMemory, sharedNow } from '../../../src/traffic/token-bucket.js'

t.test('starts full, refills at rate per second, never past burst', async (t) => {
  const table = new TokenBucketTable(createTokenBucketMemory(3))
  t.equal(table.count, 3)
  table.configure(1, 100, 10, 1_000)
  let taken = 0
  for (let i = 0; i < 20; i++) if (table.tryTake(1, 1_000)) taken++
  t.equal(taken, 10, 'the burst')
  t.equal(table.tryTake(1, 1_005), false, '5 ms refill half a token')
  t.equal(table.tryTake(1, 1_010), true, '10 ms at 100/s: one token')
  t.equal(table.tokens(1), 0)
  t.equal(table.tokens(0), 0, 'other buckets untouched')
  table.tryTake(1, 60_000)
  t.equal(table.tokens(1), 9, 'a long idle refills to burst only')
})

t.test('a reload keeps the tokens, capped at the new burst; giveBack returns one', async (t) => {
  const table = new TokenBucketTable(createTokenBucketMemory(1))
  table.configure(0, 10, 10, 0.5)
  for (let i = 0; i < 4; i++) table.tryTake(0, 0.5)
  table.configure(0, 10, 20, 0.5)
  t.equal(table.tokens(0), 6)
  table.configure(0, 10, 3, 0.5)
  t.equal(table.tokens(0), 3)
  table.tryTake(0, 0.5)
  table.giveBack(0)
  t.equal(table.tokens(0), 3)
})

t.test('4 threads overloading a 100 req/s, burst 10 bucket never get more than rate × time + burst', async (t) => {
  const memory = createTokenBucketMemory(2)
  const table = new TokenBucketTable(memory)
  const rate = 100
  const burst = 10
  const durationMs = 4_000
  const workers = Array.from({ length: 4 }, () => new Worker(new URL('../../fixtures/traffic/bucket-worker.ts', import.meta.url), { workerData: { memory, index: 1 } }))
  t.teardown(() => Promise.all(workers.map((w) => w.terminate())))
  // Wait until every thread runs (start-up is slow on a loaded machine), then open one window for all.
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })))
  const start = sharedNow() + 100
  table.configure(1, rate, burst, start)
  const done = workers.map((w) => new Promise<{ taken: number; tries: number }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject) }))
  for (const w of workers) w.postMessage({ fromMs: start, untilMs: start + durationMs })
  const results = await Promise.all(done)
  const taken = results.reduce((n, r) => n + r.taken, 0)
  const tries = results.reduce((n, r) => n + r.tries, 0)
  const expected = burst + (rate * durationMs) / 1000
  t.ok(tries > expected * 10, `overloaded: ${tries} tries`)
  // Never more than the limit, whatever the threads do (N private copies would give 4×).
  t.ok(taken <= expected + 1, `${taken} taken, at most ${expected}`)
  // Threads that the scheduler parks longer than a refill (100 ms) leave tokens untaken, so on a
  // loaded machine fewer can be taken; an idle one gets within 1 %.
  t.ok(taken >= expected * 0.9, `${taken} taken, at least 90 % of ${expected}`)
})
