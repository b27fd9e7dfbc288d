// The shared-memory store behind the stage cache: bounded by its bytes with LRU eviction,
// expiry, flush, entries larger than one block, and one store used by several threads at once.
import t from 'tap'
import { Worker } from 'node:worker_threads'
import { BLOCK_SIZE, SharedStore, createSharedStoreMemory } from '../../../src/response-cache/shared-store.js'

const enc = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))
const FAR = Date.now() + 3_600_000

t.test('get returns what set stored; delete and clear drop entries', async (t) => {
  const s = new SharedStore(createSharedStoreMemory(65_536))
  t.equal(s.get(enc('a'), Date.now()), null)
  t.ok(s.set(enc('a'), enc('alpha'), FAR))
  t.ok(s.set(enc('b'), enc('beta'), FAR))
  t.equal(text(s.get(enc('a'), Date.now())), 'alpha')
  t.ok(s.set(enc('a'), enc('again'), FAR), 'a second set replaces the entry')
  t.equal(text(s.get(enc('a'), Date.now())), 'again')
  t.equal(s.size, 2)
  t.ok(s.delete(enc('a')))
  t.equal(s.get(enc('a'), Date.now()), null)
  s.clear()
  t.equal(s.size, 0)
  t.equal(s.get(enc('b'), Date.now()), null)
  t.equal(s.flushes, 1)
  t.ok(s.set(enc('c'), enc('gamma'), FAR), 'usable after a flush')
  t.equal(text(s.get(enc('c'), Date.now())), 'gamma')
})

t.test('an expired entry is gone', async (t) => {
  const s = new SharedStore(createSharedStoreMemory(65_536))
  const now = Date.now()
  s.set(enc('k'), enc('v'), now + 1000)
  t.equal(text(s.get(enc('k'), now + 999)), 'v')
  t.equal(s.get(enc('k'), now + 1000), null)
  t.equal(s.size, 0)
})

t.test('entries spanning many blocks come back byte for byte; one larger than the store is refused', async (t) => {
  const s = new SharedStore(createSharedStoreMemory(1 << 20))
  const big = new Uint8Array(BLOCK_SIZE * 5 + 17).map((_, i) => (i * 31) & 0xff)
  const key = enc('k'.repeat(BLOCK_SIZE + 3))
  t.ok(s.set(key, big, FAR))
  t.strictSame(s.get(key, Date.now()), big)
  t.notOk(s.set(enc('huge'), new Uint8Array(s.capacity + 1), FAR))
  t.equal(s.get(enc('huge'), Date.now()), null)
})

t.test('bounded by its bytes: the least recently used entries are evicted first', async (t) => {
  const s = new SharedStore(createSharedStoreMemory(65_536))
  const blocks = s.capacity / BLOCK_SIZE
  t.ok(blocks > 10 && blocks * BLOCK_SIZE < 65_536, `${blocks} blocks fit in 64 KB with their index`)
  const value = new Uint8Array(BLOCK_SIZE - 8)
  for (let i = 0; i < blocks; i++) t.ok(s.set(enc(`k${i}`), value, FAR))
  t.equal(s.size, blocks)
  t.ok(s.get(enc('k0'), Date.now()) !== null, 'k0 is now the most recently used')
  s.set(enc('new1'), value, FAR)
  s.set(enc('new2'), value, FAR)
  t.equal(s.size, blocks, 'the bound holds')
  t.ok(s.get(enc('k0'), Date.now()) !== null, 'the recently used entry stays')
  t.equal(s.get(enc('k1'), Date.now()), null, 'the least recently used went first')
  t.equal(s.get(enc('k2'), Date.now()), null)
  t.ok(s.get(enc('k3'), Date.now()) !== null)
  // An entry of three blocks evicts as many as it needs.
  t.ok(s.set(enc('wide'), new Uint8Array(BLOCK_SIZE * 3 - 8), FAR))
  t.equal(s.size, blocks - 2)
})

t.test('several threads share one store through Atomics: no entry is ever torn', async (t) => {
  const memory = createSharedStoreMemory(256 * 1024)
  // The built module (npm test builds first): worker threads do not run tap's TypeScript loader.
  const url = new URL('../../../dist/src/response-cache/shared-store.js', import.meta.url).href
  // Each thread writes values whose every byte is its key's number, and checks what it reads.
  const code = `
    const { workerData, parentPort } = require('node:worker_threads')
    import(workerData.url).then(({ SharedStore }) => {
      const s = new SharedStore(workerData.memory)
      const enc = new TextEncoder()
      let torn = 0, hits = 0
      for (let round = 0; round < 3000; round++) {
        const n = (round * 7 + workerData.seed) % 400
        const key = enc.encode('key' + n)
        if (round % 3 === 0) s.set(key, new Uint8Array(300 + (n % 5) * 400).fill(n & 0xff), Date.now() + 60000)
        else {
          const v = s.get(key, Date.now())
          if (v !== null) { hits++; if (v.length !== 300 + (n % 5) * 400 || v.some((b) => b !== (n & 0xff))) torn++ }
        }
      }
      parentPort.postMessage({ torn, hits })
    })`
  const run = (seed: number) => new Promise<{ torn: number, hits: number }>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { memory, url, seed }, execArgv: process.execArgv })
    const timer = setTimeout(() => { void w.terminate(); reject(new Error('worker took over 60 s')) }, 60_000)
    w.once('message', (m) => { clearTimeout(timer); void w.terminate(); resolve(m as { torn: number, hits: number }) })
    w.once('error', (e) => { clearTimeout(timer); reject(e) })
  })
  const results = await Promise.all([run(1), run(2), run(3)])
  t.strictSame(results.map((r) => r.torn), [0, 0, 0])
  t.ok(results.some((r) => r.hits > 0), 'threads read each other\'s entries')
  const s = new SharedStore(memory)
  t.ok(s.size > 0 && s.size <= s.capacity / BLOCK_SIZE)
})

t.test('lookup numbers each stored value: the same value is not copied again, a replaced one is', async (t) => {
  const { hashKey } = await import('../../../src/response-cache/shared-store.js')
  const mem = createSharedStoreMemory(65_536)
  const s = new SharedStore(mem)
  const other = new SharedStore(mem)
  const k = enc('k')
  const h = hashKey(k)
  t.equal(s.lookup(k, h, Date.now(), -1), -1, 'absent')
  t.ok(s.set(k, enc('one'), FAR))
  const first = s.lookup(k, h, Date.now(), -1)
  t.ok(first >= 0)
  t.equal(text(s.lastValue), 'one', 'copied when the caller knows no value')
  s.lastValue = null
  t.equal(s.lookup(k, h, Date.now(), first), first, 'the same value')
  t.equal(s.lastValue, null, 'nothing copied for a value the caller holds')
  t.ok(other.set(k, enc('two'), FAR), 'another thread replaces it')
  const second = s.lookup(k, h, Date.now(), first)
  t.not(second, first, 'a replaced value has a new number')
  t.equal(text(s.lastValue), 'two')
  s.clear()
  t.ok(s.set(k, enc('three'), FAR))
  t.not(s.lookup(k, h, Date.now(), second), second, 'numbers are not reused after a flush')
  t.ok(other.set(k, enc('four'), Date.now() - 1))
  t.equal(s.lookup(k, h, Date.now(), -1), -1, 'expired')
})
