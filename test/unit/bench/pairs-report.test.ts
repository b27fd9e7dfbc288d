// The interleaved pairs (bench/e2e/pairs.ts) in the bench's output (bench/e2e/report.ts): the
// four few-per-cent goals are judged on the pairs' median ratio, not on the rows, and every
// ratio, its spread and the pair's check are printed.
import t from 'tap'
import { evaluateGoals, pairsText, ratioSpread } from '../../../bench/e2e/report.js'
import { PAIRS, pairOf } from '../../../bench/e2e/pairs.js'
import type { PairResult } from '../../../bench/e2e/pairs.js'
import { GOALS, SCENARIOS } from '../../../bench/e2e/scenarios.js'
import type { ScenarioResult } from '../../../bench/e2e/runner.js'

const row = (name: string, rps: number | null): ScenarioResult => ({
  name, description: name, target: 'gateway', status: rps === null ? 'failed' : 'ok', generator: 'wrk', reason: null,
  rps, spread: 0, latencyMs: rps === null ? null : { p50: 1, p90: 2, p99: 3, 'p99.9': 4 }, cpu: null, non2xx: 0, errors: 0, rounds: []
})
const result = (over: Partial<PairResult>): PairResult => ({
  scenario: 'mock-throttled', base: 'mock', text: 'throttled ≥ 90%', how: 'one process', min: 0.9,
  ratios: [0.95, 0.85, 0.99], median: 0.95, pass: true, check: 'no 429', problem: null, baseResult: row('mock', 1000), ...over
})

t.test('the goal rows judged on pairs are pairs, no longer row ratios, and each pair names a real scenario', async (t) => {
  const paired = ['mock-throttled', 'cache-hit', 'authorizer-token', 'aws-proxy', 'validated', 'mock-observed', 'http-proxy-observed']
  t.strictSame(PAIRS.map((p) => p.scenario).sort(), [...paired].sort())
  for (const name of paired) {
    t.ok(SCENARIOS.some((s) => s.name === name), `${name} is a scenario`)
    t.notOk(GOALS.some((g) => g.scenario === name), `${name} is not judged on rows`)
    t.equal(pairOf(name)!.scenario, name)
  }
  t.equal(pairOf('mock'), undefined, 'other rows are measured as before')
  t.equal(pairOf('mock-throttled')!.base.target, 'gateway-throttled', 'the throttled pair shares one process')
  t.equal(pairOf('cache-hit')!.base.target, 'gateway-cached', 'so does the cache-hit pair')
  t.equal(pairOf('aws-proxy')!.base.target, 'gateway', 'and the Lambda pair: the plain gateway serves both routes')
  t.equal(pairOf('validated')!.base.name, 'unvalidated', 'the validated POST is paired with its unvalidated twin')
  t.equal(pairOf('validated')!.base.target, 'gateway', 'in the same gateway process')
})

t.test('a goal from a pair: its median decides; a row measured apart does not', async (t) => {
  // The rows alone would say 80 % (a FAIL if judged on them): the pair's median says 95 %.
  const rows = [row('mock', 1000), row('mock-throttled', 800)]
  const goals = evaluateGoals(rows, [result({})])
  const g = goals.find((x) => x.scenario === 'mock-throttled')!
  t.equal(g.pass, true)
  t.match(g.detail, /median 95% of mock over 3 interleaved pairs of rounds \(95% 85% 99%; ±7\.4%\)/)
  t.equal(goals.filter((x) => x.scenario === 'mock-throttled').length, 1, 'judged once')
  const failing = evaluateGoals(rows, [result({ ratios: [0.8, 0.89, 0.95], median: 0.89, pass: false })]).find((x) => x.scenario === 'mock-throttled')!
  t.equal(failing.pass, false)
})

t.test('a pair whose check failed or that did not run is not judged, and says why', async (t) => {
  const checked = evaluateGoals([], [result({ pass: null, problem: 'throttle check: after a reload…\nmore' })])[GOALS.length]!
  t.equal(checked.pass, null)
  t.match(checked.detail, /median 95%.*check failed: throttle check: after a reload…$/)
  const absent = evaluateGoals([], [result({ ratios: [], median: null, pass: null, problem: 'nginx not installed' })])[GOALS.length]!
  t.equal(absent.pass, null)
  t.equal(absent.detail, 'not measured (nginx not installed)')
})

t.test('the pairs\' text: every ratio, the median and spread, the twin\'s figure, the check', async (t) => {
  const text = pairsText([result({}), result({ scenario: 'cache-hit', ratios: [], median: null, pass: null, problem: 'boom\nstack' })])
  t.match(text, 'mock-throttled ÷ mock (one process): 0.95 0.85 0.99, median 0.950 ±7.4% (goal ≥ 0.9) PASS; mock in the same rounds 1,000 req/s')
  t.match(text, '    check: no 429')
  t.match(text, 'cache-hit ÷ mock (one process): not measured')
  t.match(text, /    check FAILED: boom$/, 'the first line of the problem only')
  t.equal(pairsText([]), '')
})

t.test('spread: half the range of the ratios in % of their median', async (t) => {
  t.equal(ratioSpread({ ratios: [0.9, 1.1], median: 1 }).toFixed(6), (10).toFixed(6))
  t.equal(ratioSpread({ ratios: [], median: null }), 0)
})
