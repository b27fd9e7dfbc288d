// Throttling's per-request cost: a chain's take from the shared bucket table
// (src/traffic/token-bucket.ts tryTakeAll), for the chains a request meets — the account alone
// (every method), method + account, and a keyed request's four levels — on one thread, the
// limits far above the rate so every take succeeds. Outputs are checked before timing (every
// take admitted, the tokens spent as counted); each chain is warmed up, then timed for ROUND_MS.
//
// Run:  npx tsc -p tsconfig.json && node dist/bench/micro/traffic/token-bucket.bench.js
// Knobs: ROUND_MS (default 1000), ROUNDS (default 3, the median is reported).
import { TokenBucketTable, createTokenBucketMemory, sharedNow } from '../../../src/traffic/token-bucket.js'

const ROUND_MS = Number(process.env.ROUND_MS ?? 1000)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const WARMUP_TAKES = 200_000
const BIG = 1e9

const table = new TokenBucketTable(createTokenBucketMemory(1024))
function chain(levels: number): { slots: Int32Array; rates: Float64Array; bursts: Float64Array } {
  const slots = Int32Array.from(Array.from({ length: levels }, (_, i) => table.slotOf(1000 + i, 7 * i + levels * 100)).sort((a, b) => a - b))
  return { slots, rates: new Float64Array(levels).fill(BIG), bursts: new Float64Array(levels).fill(BIG) }
}

const CHAINS = [['account', chain(1)], ['method + account', chain(2)], ['four levels', chain(4)]] as const

for (const [name, c] of CHAINS) {
  const before = table.tokens(c.slots[0]!, 0, BIG, 1)
  for (let i = 0; i < 1000; i++) if (table.tryTakeAll(c.slots, c.rates, c.bursts, c.slots.length, 1) !== 0) throw new Error(`${name}: a take was refused`)
  if (table.tokens(c.slots[0]!, 0, BIG, 1) !== before - 1000) throw new Error(`${name}: tokens not spent as counted`)
  for (let i = 0; i < WARMUP_TAKES; i++) table.tryTakeAll(c.slots, c.rates, c.bursts, c.slots.length, sharedNow())
  const perTake: number[] = []
  let sink = 0
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0
    const start = performance.now()
    let now = start
    while (now - start < ROUND_MS) {
      for (let i = 0; i < 1000; i++) sink |= table.tryTakeAll(c.slots, c.rates, c.bursts, c.slots.length, sharedNow())
      n += 1000
      now = performance.now()
    }
    perTake.push(((now - start) * 1e6) / n)
  }
  perTake.sort((a, b) => a - b)
  if (sink !== 0) throw new Error(`${name}: refused under the limit`)
  console.log(`${name.padEnd(18)} ${perTake[Math.floor(ROUNDS / 2)]!.toFixed(0).padStart(6)} ns per request (median of ${ROUNDS})`)
}
