// `npm run bench`: end-to-end throughput and latency of the gateway against its ceiling
// (bare uWebSockets.js) and its floor (node:http + undici proxy), every server in its own
// process and autocannon in this one.
//
//   npm run bench                                        # build, then every scenario
//   DURATION=3 ROUNDS=1 SCENARIOS=mock,hello-world npm run bench
//   npm run bench -- --compare bench/baseline/ref.json   # flag changes beyond ±5%
//   npm run bench -- --save-baseline ref                 # write bench/baseline/ref.json
//   node dist/bench/run.js --list                        # scenario names
//   npm run bench -- --guard                             # ratios vs bench/guard-floors.json (CI)
//
// Knobs (env): see bench/e2e/knobs.ts. Results go to bench/results/<timestamp>.json.
// Exit code 1 when a scenario failed (crashed, answered wrongly); with --strict also when
// a goal fails or a figure got worse than the baseline; with --guard when a ratio is below its
// floor (or could not be measured). Exit code 2 when the run
// exceeded its bound (BENCH_TIMEOUT), 130 on SIGINT/SIGTERM; servers are stopped either way.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { readKnobs } from './e2e/knobs.js'
import type { Knobs } from './e2e/knobs.js'
import { SCENARIOS } from './e2e/scenarios.js'
import { runScenario } from './e2e/runner.js'
import { pairOf, runPair } from './e2e/pairs.js'
import type { PairResult } from './e2e/pairs.js'
import type { ScenarioResult } from './e2e/runner.js'
import { stopAllServers } from './e2e/child-process.js'
import { readGuardPlan, runGuard } from './e2e/guard.js'
import { PERCENTILES } from './e2e/load.js'
import {
  RESULT_FORMAT, systemInfo, systemLine, knobsLine, evaluateGoals, resultsTable, compare, compareTable
} from './e2e/report.js'
import type { BenchResult } from './e2e/report.js'

/** Per scenario, on top of warm-up and rounds: server start-up, the check, shutdown. */
const SCENARIO_OVERHEAD_S = 60
/** Bound on a --guard run: it is planned for about 80 s; past this something hangs. */
const GUARD_BOUND_S = 240

const log = (line: string): void => { process.stderr.write(line + '\n') }

/** The directory holding backplane's package.json, from dist/bench/ or bench/. */
function findRoot (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'backplane') return dir
    const up = dirname(dir)
    if (up === dir) throw new Error('bench: cannot find the backplane repository root')
    dir = up
  }
}

function runBound (knobs: Knobs, count: number): number {
  if (knobs.timeout !== null) return knobs.timeout
  return count * (SCENARIO_OVERHEAD_S + 2 * knobs.warmup + Math.max(knobs.rounds, 2 * knobs.pairRounds) * (knobs.duration + 2))
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      compare: { type: 'string' },
      'save-baseline': { type: 'string' },
      strict: { type: 'boolean', default: false },
      guard: { type: 'boolean', default: false },
      floors: { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help === true) {
    log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'))
    return 0
  }
  if (values.list === true) {
    for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(14)} ${s.description}\n`)
    return 0
  }

  const knobs = readKnobs()
  // BENCH_ROOT: serve another checkout's gateway and fixtures with this harness (bisecting).
  const root = process.env.BENCH_ROOT !== undefined && process.env.BENCH_ROOT !== '' ? resolve(process.env.BENCH_ROOT) : findRoot()
  if (values.guard === true) {
    const plan = readGuardPlan(values.floors !== undefined ? resolve(values.floors) : join(findRoot(), 'bench', 'guard-floors.json'))
    const bound = knobs.timeout ?? GUARD_BOUND_S
    const timer = setTimeout(() => {
      log(`bench: the guard exceeded its bound of ${bound}s (BENCH_TIMEOUT); stopping every server`)
      process.stdout.write('guard: FAIL (timed out)\n')
      void stopAllServers(2_000).finally(() => process.exit(2))
    }, bound * 1000)
    timer.unref()
    log(systemLine(systemInfo(root)))
    const outcome = await runGuard(plan, knobs, root, log)
    clearTimeout(timer)
    process.stdout.write(outcome.report + '\n')
    return outcome.pass ? 0 : 1
  }
  const baseline = values.compare !== undefined
    ? JSON.parse(readFileSync(resolve(values.compare), 'utf8')) as BenchResult
    : null
  const baselineName = values['save-baseline']
  if (baselineName !== undefined && !/^[\w.-]+$/.test(baselineName)) throw new Error(`--save-baseline: bad name ${JSON.stringify(baselineName)}`)

  const unknown = (knobs.scenarios ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name))
  if (unknown.length > 0) {
    throw new Error(`SCENARIOS: unknown ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`)
  }
  const selected = SCENARIOS.filter((s) => knobs.scenarios === null || knobs.scenarios.includes(s.name))

  if (knobs.pin) {
    // -a: every thread of this process (V8 and libuv threads already exist).
    execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })
  }

  const bound = runBound(knobs, selected.length)
  const timer = setTimeout(() => {
    log(`bench: the run exceeded its bound of ${bound}s (BENCH_TIMEOUT); stopping every server`)
    void stopAllServers(2_000).finally(() => process.exit(2))
  }, bound * 1000)
  timer.unref()

  const startedAt = new Date()
  const system = systemInfo(root)
  log(systemLine(system))
  log(knobsLine(knobs))
  log(`${selected.length} scenarios, bounded at ${bound}s`)

  const scenarios: ScenarioResult[] = []
  const pairs: PairResult[] = []
  for (const scenario of selected) {
    log(`${scenario.name}: ${scenario.description}`)
    const pair = pairOf(scenario.name)
    let result: ScenarioResult
    if (pair !== undefined) {
      // Measured in alternating rounds with its twin (bench/e2e/pairs.ts).
      log(`  ${scenario.name}: interleaved with ${pair.base.name} (${pair.how}), ${knobs.pairRounds} pairs of rounds`)
      const outcome = await runPair(pair, knobs, root, log)
      result = outcome.row
      pairs.push(outcome.pair)
    } else {
      result = await runScenario(scenario, knobs, root, log)
    }
    if (result.status !== 'ok') log(`  ${scenario.name}: ${result.status}: ${result.reason ?? ''}`)
    scenarios.push(result)
  }
  clearTimeout(timer)

  const goals = evaluateGoals(scenarios, pairs)
  const result: BenchResult = {
    format: RESULT_FORMAT,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    system,
    knobs,
    percentiles: PERCENTILES,
    scenarios,
    pairs,
    goals
  }

  const out = process.stdout
  out.write('\n' + systemLine(system) + '\n' + knobsLine(knobs) + '\n\n')
  out.write(resultsTable(scenarios, goals, pairs) + '\n')

  const resultsDir = join(root, 'bench', 'results')
  mkdirSync(resultsDir, { recursive: true })
  const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`)
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n')
  out.write(`\nsaved ${relative(process.cwd(), file)}\n`)

  let worse = false
  if (baseline !== null) {
    if (baseline.format !== RESULT_FORMAT) throw new Error(`--compare: result format ${baseline.format}, expected ${RESULT_FORMAT}`)
    const changes = compare(result, baseline)
    worse = changes.some((c) => c.verdict === 'worse')
    out.write(`\ncompared with ${values.compare} (${baseline.startedAt}, commit ${baseline.system.commit ?? '?'}):\n`)
    out.write(compareTable(changes, baseline, result) + '\n')
  }
  if (baselineName !== undefined) {
    const baselineDir = join(root, 'bench', 'baseline')
    mkdirSync(baselineDir, { recursive: true })
    const baselineFile = join(baselineDir, `${baselineName}.json`)
    writeFileSync(baselineFile, JSON.stringify(result, null, 2) + '\n')
    out.write(`saved baseline ${relative(process.cwd(), baselineFile)}\n`)
  }

  const failed = scenarios.some((s) => s.status === 'failed')
  const goalFailed = goals.some((g) => g.pass === false)
  return failed || (values.strict === true && (goalFailed || worse)) ? 1 : 0
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}, stopping every server`)
    void stopAllServers(2_000).finally(() => process.exit(130))
  })
}

main().then(
  async (code) => {
    await stopAllServers()
    process.exit(code)
  },
  async (err: unknown) => {
    log(`bench: ${err instanceof Error ? err.message : String(err)}`)
    await stopAllServers(2_000)
    process.exit(1)
  }
)
