// The canary split of one worker (src/canary/run.ts): error diffusion keeps the canary's
// count within one request of percentTraffic of the requests seen, from any starting phase.
import t from 'tap'
import { CanarySplit } from '../../../src/canary/run.js'

function count(split: CanarySplit, n: number): number {
  let k = 0
  for (let i = 0; i < n; i++) if (split.next()) k++
  return k
}

t.test('every prefix of the requests is within one request of its share', async (t) => {
  for (const p of [0, 0.1, 1, 10, 12.5, 33.3, 50, 99.9, 100]) {
    for (const phase of [0, 0.25, 0.5, 0.999999]) {
      const split = new CanarySplit(p, phase)
      let k = 0
      let worst = 0
      for (let n = 1; n <= 10_000; n++) {
        if (split.next()) k++
        worst = Math.max(worst, Math.abs(k - (n * p) / 100))
      }
      t.ok(worst < 1, `percentTraffic ${p}, phase ${phase}: off by at most ${worst.toFixed(3)}`)
    }
  }
})

t.test('0 % never and 100 % always go to the canary; 10 % is every tenth request', async (t) => {
  t.equal(count(new CanarySplit(0, 0.999999), 1000), 0)
  t.equal(count(new CanarySplit(100, 0), 1000), 1000)
  const tenth = new CanarySplit(10, 0)
  const picks: number[] = []
  for (let i = 1; i <= 30; i++) if (tenth.next()) picks.push(i)
  t.strictSame(picks, [10, 20, 30])
})

t.test('the starting phase decides which request is first, not how many', async (t) => {
  const late = new CanarySplit(10, 0)
  const early = new CanarySplit(10, 0.95)
  t.equal(late.next(), false)
  t.equal(early.next(), true, 'a phase near the end sends the first request to the canary')
  t.equal(count(late, 999) + 0, 100)
  t.equal(count(early, 999) + 1, 100)
})

t.test('fractional percentages are kept to a millionth of a percent, without drift', async (t) => {
  t.equal(count(new CanarySplit(0.000001, 0), 100_000_000 - 1), 0, 'one request in 10^8, not before')
  t.equal(count(new CanarySplit(33.333333, 0), 3_000_000), 999_999)
})
