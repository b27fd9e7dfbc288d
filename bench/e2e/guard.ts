// `npm run bench -- --guard`: a short fixed set of ratios checked against the floors committed
// in bench/guard-floors.json; exit 1 when one falls below its floor. Built to be steady on a
// shared, loaded 2-core machine:
//   - every target is started once (not once per scenario) and every scenario is measured in
//     every round, the rounds interleaving all scenarios (order reversed every other round),
//     so both sides of a ratio see the same machine load;
//   - a ratio is taken per round (paired), then the median over the rounds;
//   - cpu ratios compare server CPU per request at a fixed, modest rate (schedstat, ns), which
//     holds where req/s swings with other people's work.

import { readFileSync } from 'node:fs'
import os from 'node:os'
import { execFileSync } from 'node:child_process'
import { machineTicks } from './child-process.js'
import { PacedLoad, SLICE_MS } from './paced.js'
import type { ServerProcess } from './child-process.js'
import { runLoad, chooseGenerator } from './load.js'
import type { Generator, LoadOptions } from './load.js'
import { SCENARIOS } from './scenarios.js'
import type { Scenario, TargetContext } from './scenarios.js'
import { checkAnswer, scenarioLoad, startOrder, startTargets, unavailableTargets } from './start-targets.js'
import type { Knobs } from './knobs.js'
import { table } from './report.js'
import { MAX_FAILURE_SHARE } from './runner.js'
import { evaluateFloors, measurementsOf, median, parseGuardPlan, ratioName, selectFloors } from './guard-floors.js'
import type { FloorVerdict, GuardPlan, RoundFigures } from './guard-floors.js'

/** Bound on the one correctness request per scenario before timing: a gateway's first request waits for its worker to start, which a loaded machine stretches past 10 s. */
const CHECK_TIMEOUT_MS = 60_000
/** Bound on a target's start-up (a loaded machine starts a gateway slowly). */
const START_TIMEOUT_MS = 60_000

export interface GuardOutcome {
  verdicts: FloorVerdict[]
  /** Scenarios that could not run (not built, failed to start or answered wrongly): each fails the guard. */
  problems: string[]
  /** Printed after the run: the ratios table and notes. */
  report: string
  pass: boolean
}

function loadOptions (scenario: Scenario, url: string, connections: number, rate: number | null, duration: number): LoadOptions {
  return scenarioLoad(scenario, url, { connections, pipelining: 1, rate, duration })
}

export function readGuardPlan (file: string): GuardPlan {
  return parseGuardPlan(readFileSync(file, 'utf8'), SCENARIOS.map((s) => s.name), file)
}

export async function runGuard (plan: GuardPlan, knobs: Knobs, root: string, log: (line: string) => void): Promise<GuardOutcome> {
  const startedAt = performance.now()
  const floors = selectFloors(plan.floors, knobs.scenarios)
  if (floors.length === 0) throw new Error('--guard: no floor has both its scenarios in SCENARIOS')
  const { fixed, saturated } = measurementsOf(floors)
  const names = [...new Set([...fixed, ...saturated])]
  const scenarios = names.map((n) => SCENARIOS.find((s) => s.name === n)!)
  const pin = process.env.PIN === '0' ? false : plan.pin || knobs.pin
  const saturatedGenerator: Generator = chooseGenerator(knobs.loadgen, { rate: null, pipelining: 1 })
  if (pin) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' })

  const problems: string[] = []
  const ctx: TargetContext = { root, urls: {}, knobs }
  const started = new Map<string, ServerProcess>()
  const rounds: Array<Record<string, RoundFigures>> = []
  const failures = new Map<string, { bad: number, total: number }>()
  const machineBusy: number[] = []
  let paced: PacedLoad | null = null
  try {
    // Start every target once; those with no needs at the same time, then the rest.
    const order = startOrder(scenarios.map((s) => s.target))
    for (const { name, why } of unavailableTargets(order, ctx)) problems.push(`${name}: ${why}`)
    if (problems.length > 0) return finish()
    await startTargets(order, ctx, { pin, measured: scenarios.map((s) => s.target), minTimeoutMs: START_TIMEOUT_MS, concurrent: true }, started)
    log(`guard: ${started.size} servers up in ${((performance.now() - startedAt) / 1000).toFixed(1)}s`)

    const usable: Scenario[] = []
    for (const scenario of scenarios) {
      try {
        await checkAnswer(ctx.urls[scenario.target]! + scenario.path, scenario, CHECK_TIMEOUT_MS)
        usable.push(scenario)
      } catch (err) {
        problems.push(`${scenario.name}: ${(err as Error).message}`)
      }
    }
    if (problems.length > 0) return finish()

    const url = (s: Scenario): string => ctx.urls[s.target]! + s.path
    const fixedOf = usable.filter((s) => fixed.includes(s.name))
    const saturatedOf = usable.filter((s) => saturated.includes(s.name))
    paced = new PacedLoad(fixedOf.map((s) => ({
      name: s.name,
      url: url(s),
      pid: started.get(s.target)!.pid,
      ...(s.method !== undefined ? { method: s.method } : {}),
      ...(s.headers !== undefined ? { headers: s.headers } : {}),
      ...(s.body !== undefined ? { body: s.body } : {})
    })), plan.rateConnections)
    const pace = { rate: plan.rate, connections: plan.rateConnections, seconds: plan.seconds }
    if (plan.warmup > 0) {
      await paced.round({ ...pace, seconds: plan.warmup })
      for (const s of saturatedOf) await runLoad(loadOptions(s, url(s), plan.connections, null, plan.saturatedSeconds), saturatedGenerator, knobs.wrkThreads)
    }
    log(`guard: warm, ${((performance.now() - startedAt) / 1000).toFixed(1)}s; ${plan.rounds} rounds of ${fixedOf.length} fixed-rate (${plan.rate} req/s, interleaved in ${SLICE_MS} ms slices) and ${saturatedOf.length} ${saturatedGenerator} measurements of ${plan.saturatedSeconds}s`)

    const note = (name: string, bad: number, total: number): void => {
      const f = failures.get(name) ?? { bad: 0, total: 0 }
      failures.set(name, { bad: f.bad + bad, total: f.total + total })
    }
    for (let r = 0; r < plan.rounds; r++) {
      if (r >= plan.minRounds && (performance.now() - startedAt) / 1000 > plan.budgetSeconds) {
        log(`guard: ${r} rounds done; past the budget of ${plan.budgetSeconds}s (a loaded machine), no more`)
        break
      }
      const figures: Record<string, RoundFigures> = {}
      const get = (name: string): RoundFigures => (figures[name] ??= { cpuUs: null, rps: null, p99: null })
      const machineBefore = machineTicks()
      const forward = r % 2 === 0
      if (fixedOf.length > 0) {
        for (const [name, f] of await paced.round(pace)) {
          if (f.answered > 0 && f.cpuNs > 0) get(name).cpuUs = f.cpuNs / 1000 / f.answered
          note(name, f.bad, f.answered + f.bad)
        }
      }
      for (const s of forward ? saturatedOf : [...saturatedOf].reverse()) {
        const result = await runLoad(loadOptions(s, url(s), plan.connections, null, plan.saturatedSeconds), saturatedGenerator, knobs.wrkThreads)
        get(s.name).rps = result.rps
        get(s.name).p99 = result.latencyMs.p99 ?? null
        note(s.name, result.non2xx + result.errors, result.ok + result.non2xx + result.errors)
      }
      const machineAfter = machineTicks()
      if (machineBefore !== null && machineAfter !== null && machineAfter.total > machineBefore.total) {
        machineBusy.push((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total) * 100)
      }
      rounds.push(figures)
      for (const [name, server] of started) {
        if (!server.alive()) throw new Error(`${name} exited during the guard\n${server.output().slice(-2_000)}`)
      }
    }
  } catch (err) {
    problems.push((err as Error).message)
  } finally {
    await paced?.close()
    for (const server of [...started.values()].reverse()) await server.stop()
  }
  return finish()

  function finish (): GuardOutcome {
    const verdicts = problems.length > 0 ? [] : evaluateFloors(floors, rounds)
    const rows = verdicts.map((v) => [
      ratioName(v.floor),
      v.floor.metric,
      v.ratios.map((x) => x.toFixed(2)).join(' '),
      v.median === null ? '–' : v.median.toFixed(2),
      v.floor.min.toFixed(2),
      v.pass ? 'PASS' : 'FAIL'
    ])
    const lines = [`guard (bench/guard-floors.json): ${rounds.length} rounds, cpu at ${plan.rate} req/s (${plan.seconds}s per scenario per round), rps/p99 by ${saturatedGenerator} (${plan.saturatedSeconds}s)` +
      `${pin ? ', pinned (load and backends CPU 0, measured servers CPU 1)' : ''}, ${((performance.now() - startedAt) / 1000).toFixed(0)}s`]
    if (rows.length > 0) lines.push(table([['ratio (higher is better)', 'metric', 'per round', 'median', 'floor', ''], ...rows]))
    const cpuMedians = [...new Set(floors.filter((f) => f.metric === 'cpu').flatMap((f) => [f.base, f.scenario]))]
      .map((name) => [name, median(rounds.map((r) => r[name]?.cpuUs).filter((x): x is number => typeof x === 'number'))] as const)
      .filter(([, us]) => us !== null)
    if (cpuMedians.length > 0) lines.push(`cpu µs/request (medians, not compared: absolute figures move with the machine): ${cpuMedians.map(([n, us]) => `${n} ${us!.toFixed(0)}`).join(', ')}`)
    for (const p of problems) lines.push(`FAIL  ${p.split('\n')[0]}`)
    for (const [name, f] of failures) {
      if (f.total > 0 && f.bad / f.total > MAX_FAILURE_SHARE) lines.push(`note: ${name}: ${f.bad} of ${f.total} requests non-2xx or failed`)
    }
    if (machineBusy.length > 0) {
      lines.push(`note: machine busy ${machineBusy.map((x) => Math.round(x)).join(' ')} % (all CPUs, per round; the guard's own load included), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
    }
    const pass = problems.length === 0 && verdicts.length > 0 && verdicts.every((v) => v.pass)
    lines.push(pass ? 'guard: PASS' : `guard: FAIL (${problems.length + verdicts.filter((v) => !v.pass).length} below floor or not measured)`)
    return { verdicts, problems, report: lines.join('\n'), pass }
  }
}
