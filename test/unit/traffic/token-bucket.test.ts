// The token bucket API Gateway throttles with ("Throttle requests to your REST APIs": the
// bucket holds `burst` tokens, refills at `rate` per second, a request takes one), in a table
// shared by all worker threads through one SharedArrayBuffer and addressed by identity hash.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { TokenBucketTable, createTokenBucketMemory, sharedNow } from '../../../src/traffic/token-bucket.js'

const one = (slot: number, rate: number, burst: number) => [Int32Array.of(slot), Float64Array.of(rate), Float64Array.of(burst)] as const

t.test('a hash finds the slot it claimed; another hash gets another slot; a full table answers -1', async (t) => {
  const table = new TokenBucketTable(createTokenBucketMemory(4))
  t.equal(table.capacity, 4)
  const a = table.slotOf(1, 5)
  t.equal(table.slotOf(1, 5), a, 'found again')
  const b = table.slotOf(2, 5)
  t.not(b, a, 'same low bits, other hash: the next slot')
  t.equal(table.used(), 2)
  table.slotOf(3, 6)
  table.slotOf(4, 7)
  t.equal(table.slotOf(9, 9), -1, 'no room')
  t.equal(table.slotOf(2, 5), b, 'known hashes are still found in a full table')
  t.throws(() => createTokenBucketMemory(3), /power of two/)
})

t.test('starts full, refills at rate per second, never past burst', async (t) => {
  const table = new TokenBucketTable(createTokenBucketMemory(8))
  const s = table.slotOf(7, 7)
  let taken = 0
  for (let i = 0; i < 20; i++) if (table.tryTake(s, 100, 10, 1_000)) taken++
  t.equal(taken, 10, 'the burst')
  t.equal(table.tryTake(s, 100, 10, 1_005), false, '5 ms at 100/s refill half a token')
  t.equal(table.tryTake(s, 100, 10, 1_010), true, '10 ms at 100/s: one token')
  t.equal(table.tokens(s, 100, 10, 1_010), 0)
  t.equal(table.tokens(s, 100, 10, 60_000), 10, 'a long idle refills to burst only')
  t.equal(table.tokens(s, 100, 3, 60_000), 3, 'a lowered burst (a reload) caps what the bucket holds')
  const z = table.slotOf(8, 8)
  t.equal(table.tryTake(z, 0, 0, 1_000), false, 'burst 0 admits nothing')
  const r0 = table.slotOf(9, 9)
  t.equal(table.tryTake(r0, 0, 1, 1_000), true, 'rate 0: the burst once')
  t.equal(table.tryTake(r0, 0, 1, 1_000_000), false, 'and never again')
})

t.test('a chain takes a token from every bucket or from none, and names the empty ones', async (t) => {
  const table = new TokenBucketTable(createTokenBucketMemory(8))
  const a = table.slotOf(1, 1)
  const b = table.slotOf(2, 2)
  const [slots, rates, bursts] = [Int32Array.of(Math.min(a, b), Math.max(a, b)), Float64Array.of(1, 1), Float64Array.of(5, 2)]
  t.equal(table.tryTakeAll(slots, rates, bursts, 2, 1_000), 0)
  t.equal(table.tryTakeAll(slots, rates, bursts, 2, 1_000), 0)
  t.equal(table.tryTakeAll(slots, rates, bursts, 2, 1_000), 0b10, 'the second bucket (burst 2) is empty')
  t.equal(table.tokens(slots[0]!, 1, 5, 1_000), 3, 'the first kept the token the throttled request did not take')
  t.equal(table.tokens(slots[1]!, 1, 2, 1_000), 0)
  const [s1, r1, b1] = one(slots[0]!, 1, 5)
  for (let i = 0; i < 3; i++) t.equal(table.tryTakeAll(s1, r1, b1, 1, 1_000), 0)
  t.equal(table.tryTakeAll(slots, rates, bursts, 2, 1_000), 0b11, 'both empty')
  t.equal(table.tryTakeAll(slots, rates, bursts, 2, 2_000), 0, 'a second later each has one token again')
})

t.test('4 threads overloading one 100 req/s, burst 10 bucket share it exactly: burst + rate × time, never more, nothing lost', async (t) => {
  const memory = createTokenBucketMemory(16)
  const table = new TokenBucketTable(memory)
  const clock = new SharedArrayBuffer(4)
  const rate = 100
  const burst = 10
  // 400 000 attempts 0.01 ms apart: 4 s of virtual time, a try every 10 µs against a refill every 10 ms.
  const ticks = 400_000
  const tickMs = 0.01
  const startMs = 1_000_000
  const workerData = { memory, clock, hash: [42, 4242], rate, burst, startMs, tickMs, ticks }
  const workers = Array.from({ length: 4 }, () => new Worker(new URL('../../fixtures/traffic/bucket-worker.ts', import.meta.url), { workerData }))
  t.teardown(() => Promise.all(workers.map((w) => w.terminate())))
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })))
  const done = workers.map((w) => new Promise<{ taken: number; tries: number; slot: number }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject) }))
  for (const w of workers) w.postMessage('go')
  const results = await Promise.all(done)
  t.equal(new Set(results.map((r) => r.slot)).size, 1, 'every thread found the same slot for the same identity')
  t.equal(table.slotOf(42, 4242), results[0]!.slot, 'and so does the main thread')
  t.equal(results.reduce((n, r) => n + r.tries, 0), ticks, 'every tick tried once')
  t.ok(results.filter((r) => r.tries > 0).length >= 2, `threads took part together: ${results.map((r) => r.tries).join(', ')} tries`)
  const taken = results.reduce((n, r) => n + r.taken, 0)
  // The bucket starts full and refills until the last tick: burst + rate × (ticks - 1) × tickMs.
  const expected = Math.floor(burst + (rate * (ticks - 1) * tickMs) / 1000)
  // N private copies would give up to N × this; a lost update under contention, fewer.
  t.ok(taken <= expected, `${taken} taken, at most ${expected}`)
  t.ok(taken >= expected - 1, `${taken} taken, at least ${expected - 1}`)
})

t.test('the outage count says which thread is first to lose Redis and last to get it back', async (t) => {
  const table = new TokenBucketTable(createTokenBucketMemory(2))
  t.equal(table.outageStarted(), true)
  t.equal(table.outageStarted(), false)
  t.equal(table.outageEnded(), false)
  t.equal(table.outageEnded(), true)
})

t.test('the clock is shared: epoch milliseconds', async (t) => {
  t.ok(Math.abs(sharedNow() - Date.now()) < 50)
})
