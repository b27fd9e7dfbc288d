// The guard's arithmetic (bench/e2e/guard-floors.ts): the floors file is checked field by
// field, every ratio reads "higher is better", ratios are paired per round and the median
// decides, a ratio that no round measured fails.
import t from 'tap'
import {
  parseGuardPlan, selectFloors, measurementsOf, ratioOf, median, evaluateFloors, ratioName
} from '../../../bench/e2e/guard-floors.js'
import type { Floor, RoundFigures } from '../../../bench/e2e/guard-floors.js'
import { readFileSync } from 'node:fs'
import { SCENARIOS } from '../../../bench/e2e/scenarios.js'

const KNOWN = ['http-proxy', 'floor-proxy', 'mock', 'hello-world', 'api-key']
const plan = (floors: unknown[], extra: Record<string, unknown> = {}): string => JSON.stringify({
  rate: 1000, rateConnections: 10, connections: 50, seconds: 0.5, saturatedSeconds: 1, rounds: 4, minRounds: 3, budgetSeconds: 60, warmup: 0.2, pin: true, floors, ...extra
})
const fig = (cpuUs: number | null, rps: number | null = null, p99: number | null = null): RoundFigures => ({ cpuUs, rps, p99 })

t.test('the committed floors file parses against the real scenario list', async (t) => {
  const text = readFileSync(new URL('../../../bench/guard-floors.json', import.meta.url), 'utf8')
  const parsed = parseGuardPlan(text, SCENARIOS.map((s) => s.name))
  t.ok(parsed.floors.length >= 10, 'http-proxy, mock and the feature routes are guarded')
  for (const name of ['http-proxy', 'mock', 'api-key', 'authorizer-token', 'aws-proxy', 'grpc', 'mock-observed', 'http-proxy-observed']) {
    t.ok(parsed.floors.some((f) => f.scenario === name), `${name} has a floor`)
  }
  t.ok(parsed.floors.some((f) => f.scenario === 'http-proxy' && f.base === 'floor-proxy' && f.metric === 'p99'), 'p99 against the floor')
  t.ok(parsed.floors.some((f) => f.scenario === 'mock' && f.base === 'hello-world'), 'mock against hello world')
  const { fixed, saturated } = measurementsOf(parsed.floors)
  const perRound = parsed.seconds * fixed.length + parsed.saturatedSeconds * saturated.length
  const planned = parsed.warmup * fixed.length + parsed.saturatedSeconds * saturated.length + parsed.minRounds * perRound
  t.ok(planned <= 45, `warm-up and the fewest rounds, ${planned}s of load, leave room for start-up within 90 s`)
  t.ok(parsed.budgetSeconds <= 75, 'no new round starts past the budget')
})

t.test('parseGuardPlan refuses a bad file, naming the field', async (t) => {
  const ok = { scenario: 'http-proxy', base: 'floor-proxy', metric: 'cpu', min: 1.1 }
  t.equal(parseGuardPlan(plan([ok]), KNOWN).floors[0]!.min, 1.1)
  t.throws(() => parseGuardPlan('{', KNOWN), /not JSON/)
  t.throws(() => parseGuardPlan(plan([]), KNOWN), /\/floors: must be a non-empty array/)
  t.throws(() => parseGuardPlan(plan([{ ...ok, scenario: 'nope' }]), KNOWN), /\/floors\/0\/scenario: "nope" is not a scenario/)
  t.throws(() => parseGuardPlan(plan([{ ...ok, base: 'http-proxy' }]), KNOWN), /scenario and base are the same/)
  t.throws(() => parseGuardPlan(plan([{ ...ok, metric: 'ms' }]), KNOWN), /\/floors\/0\/metric: must be one of cpu, rps, p99/)
  t.throws(() => parseGuardPlan(plan([{ ...ok, min: 0 }]), KNOWN), /\/floors\/0\/min: must be a number > 0/)
  t.throws(() => parseGuardPlan(plan([ok, ok]), KNOWN), /twice/)
  t.throws(() => parseGuardPlan(plan([ok], { rounds: 0 }), KNOWN), /\/rounds: must be an integer ≥ 1/)
  t.throws(() => parseGuardPlan(plan([ok], { pin: 'yes' }), KNOWN), /\/pin: must be true or false/)
  t.throws(() => parseGuardPlan(plan([ok], { saturatedSeconds: 0.5 }), KNOWN), /\/saturatedSeconds: must be an integer ≥ 1/, 'wrk takes whole seconds')
  t.equal(parseGuardPlan(plan([ok], { minRounds: 9 }), KNOWN).minRounds, 4, 'minRounds never above rounds')
})

t.test('ratios read higher-is-better for every metric', async (t) => {
  // cpu: base µs ÷ scenario µs — the gateway at 50 µs against a floor at 100 µs is 2× cheaper.
  t.equal(ratioOf('cpu', fig(50), fig(100)), 2)
  // rps: scenario ÷ base.
  t.equal(ratioOf('rps', fig(null, 3000), fig(null, 1000)), 3)
  // p99: base ÷ scenario — a lower p99 than the floor's gives a ratio above 1.
  t.equal(ratioOf('p99', fig(null, null, 2), fig(null, null, 8)), 4)
  t.equal(ratioOf('cpu', fig(null), fig(100)), null, 'a side not measured')
  t.equal(ratioOf('cpu', fig(50), fig(0)), null, 'a zero is not a figure')
  t.equal(ratioOf('rps', undefined, fig(null, 1)), null)
})

t.test('median', async (t) => {
  t.equal(median([]), null)
  t.equal(median([3]), 3)
  t.equal(median([5, 1, 3]), 3)
  t.equal(median([4, 1, 3, 2]), 2.5)
})

t.test('evaluateFloors pairs rounds, takes the median, fails below the floor or unmeasured', async (t) => {
  const floor: Floor = { scenario: 'http-proxy', base: 'floor-proxy', metric: 'cpu', min: 1.2 }
  // One noisy round (the machine busy during the base's measurement) does not decide.
  const rounds = [
    { 'http-proxy': fig(80), 'floor-proxy': fig(100) }, // 1.25
    { 'http-proxy': fig(50), 'floor-proxy': fig(200) }, // 4
    { 'http-proxy': fig(90), 'floor-proxy': fig(117) } // 1.3
  ]
  const [v] = evaluateFloors([floor], rounds)
  t.same(v!.ratios, [1.25, 4, 1.3])
  t.equal(v!.median, 1.3)
  t.equal(v!.pass, true)

  const [low] = evaluateFloors([{ ...floor, min: 1.31 }], rounds)
  t.equal(low!.pass, false, 'a median just below the floor fails')

  const [blind] = evaluateFloors([{ ...floor, scenario: 'mock' }], rounds)
  t.same(blind!.ratios, [])
  t.equal(blind!.median, null)
  t.equal(blind!.pass, false, 'never passes blind')
})

t.test('selectFloors and measurementsOf', async (t) => {
  const floors: Floor[] = [
    { scenario: 'http-proxy', base: 'floor-proxy', metric: 'cpu', min: 1 },
    { scenario: 'http-proxy', base: 'floor-proxy', metric: 'p99', min: 1 },
    { scenario: 'mock', base: 'hello-world', metric: 'cpu', min: 0.1 },
    { scenario: 'api-key', base: 'http-proxy', metric: 'rps', min: 0.8 }
  ]
  t.equal(selectFloors(floors, null).length, 4)
  t.same(selectFloors(floors, ['http-proxy', 'floor-proxy']).map((f) => f.metric), ['cpu', 'p99'], 'both sides must be selected')
  t.same(measurementsOf(floors), {
    fixed: ['floor-proxy', 'http-proxy', 'hello-world', 'mock'],
    saturated: ['floor-proxy', 'http-proxy', 'api-key']
  })
  t.equal(ratioName(floors[0]!), 'floor-proxy ÷ http-proxy cpu/req')
  t.equal(ratioName(floors[3]!), 'api-key ÷ http-proxy req/s')
  t.equal(ratioName(floors[1]!), 'floor-proxy ÷ http-proxy p99')
})
