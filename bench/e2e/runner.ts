// Runs one scenario: start its servers (each in its own process), check one answer,
// warm up (thrown away), measure ROUNDS rounds, take the medians, stop the servers.

import os from 'node:os'
import { cpuSeconds, machineTicks } from './child-process.js'
import type { ServerProcess } from './child-process.js'
import { runLoad, chooseGenerator, PERCENTILES, percentileKey } from './load.js'
import type { Generator, LoadOptions, LoadResult } from './load.js'
import type { Scenario, TargetContext } from './scenarios.js'
import { checkAnswer, scenarioLoad, startOrder, startTargets, unavailableTargets } from './start-targets.js'
import type { Knobs } from './knobs.js'
import { threadTimes, threadShares, sharesText } from './thread-cpu.js'

/** Share of non-2xx responses and errors above which a scenario's figures are suspect. */
export const MAX_FAILURE_SHARE = 0.001
/** Bound on the one correctness request before timing. */
const CHECK_TIMEOUT_MS = 5_000

export interface ScenarioResult {
  name: string
  description: string
  target: string
  /** ok: measured; skipped: could not run here (not built, filtered); failed: an error. */
  status: 'ok' | 'skipped' | 'failed'
  /** The load generator of its rounds; null when not measured. */
  generator: Generator | null
  /** Why skipped or failed; a warning when ok (e.g. too many non-2xx). */
  reason: string | null
  /** Medians over the rounds; null unless ok. */
  rps: number | null
  /** Half the range of the rounds' req/s, in % of the median: the noise a comparison must beat. */
  spread: number | null
  latencyMs: Record<string, number> | null
  /** Median CPU use over the rounds, % of one core: the load generator and each server. */
  cpu: { loadgen: number; servers: Record<string, number | null>; machineBusy: number | null } | null
  /** Sums over the rounds. */
  non2xx: number
  errors: number
  rounds: LoadResult[]
}

/** `load 98 · gateway 120 + echo 40`: CPU % of one core, load generator first. */
/** CPU % of one core used by everything but the load generator and the servers; null off Linux. */
export function otherCpu (round: Pick<LoadResult, 'loadgenCpu' | 'serverCpu' | 'machineBusy'>): number | null {
  if (round.machineBusy === null) return null
  // Other people's processes, and kernel work charged to none of ours.
  const ours = round.loadgenCpu + Object.values(round.serverCpu).reduce<number>((sum, cpu) => sum + (cpu ?? 0), 0)
  return Math.max(0, round.machineBusy * os.cpus().length - ours)
}

/** `load 98 · gateway 120 + echo 40 · other 3`: CPU % of one core, load generator first. */
export function cpuText (round: Pick<LoadResult, 'loadgenCpu' | 'serverCpu' | 'machineBusy'>): string {
  const servers = Object.entries(round.serverCpu).reverse()
    .map(([name, cpu]) => `${name} ${cpu === null ? '?' : Math.round(cpu)}`)
  const other = otherCpu(round)
  return `load ${Math.round(round.loadgenCpu)} · ${servers.join(' + ')}${other === null ? '' : ` · other ${Math.round(other)}`}`
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * One measured round of `load` against the last of `started` (the measured server): req/s and
 * latencies from the load generator, each server's CPU, the machine's, and with THREAD_CPU=1
 * each thread's of the measured server. Throws when a server died during it.
 */
export async function measureRound (name: string, load: LoadOptions, generator: Generator, knobs: Knobs, started: readonly ServerProcess[], label: string, log: (line: string) => void): Promise<LoadResult> {
  const before = started.map((server) => cpuSeconds(server.pid))
  const measured = started[started.length - 1]!
  const threadsBefore = knobs.threadCpu ? threadTimes(measured.pid) : null
  const machineBefore = machineTicks()
  const round = await runLoad(load, generator, knobs.wrkThreads)
  if (threadsBefore !== null) log(`  ${name}: ${measured.name} threads, µs cpu/req (context switches per 1000 req, voluntary+involuntary): ${sharesText(threadShares(measured.pid, threadsBefore, threadTimes(measured.pid), round.ok + round.non2xx))}`)
  const machineAfter = machineTicks()
  if (machineBefore !== null && machineAfter !== null && machineAfter.total > machineBefore.total) {
    round.machineBusy = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total) * 100
  }
  started.forEach((server, j) => {
    const was = before[j]
    const is = cpuSeconds(server.pid)
    round.serverCpu[server.name] = was == null || is === null ? null : (is - was) / round.seconds * 100
  })
  log(`  ${name}: ${label} ${Math.round(round.rps)} req/s, p99 ${round.latencyMs.p99!.toFixed(2)} ms, ` +
    `cpu% ${cpuText(round)}` +
    (round.non2xx + round.errors > 0 ? `, ${round.non2xx} non-2xx, ${round.errors} errors` : ''))
  // A server that died mid-round shows up as errors; stop wasting rounds on it.
  for (const server of started) {
    if (!server.alive()) throw new Error(`${server.name} exited during the run\n${server.output().slice(-2_000)}`)
  }
  return round
}

/** The medians, spread, CPU and failure counts of `result.rounds`, into `result`. */
export function summarize (result: ScenarioResult): void {
  const rps = result.rounds.map((r) => r.rps)
  result.rps = median(rps)
  result.spread = result.rps > 0 ? (Math.max(...rps) - Math.min(...rps)) / 2 / result.rps * 100 : null
  result.latencyMs = {}
  for (const p of PERCENTILES) {
    const key = percentileKey(p)
    result.latencyMs[key] = median(result.rounds.map((r) => r.latencyMs[key]!))
  }
  const servers: Record<string, number | null> = {}
  for (const name of Object.keys(result.rounds[0]?.serverCpu ?? {})) {
    const values = result.rounds.map((r) => r.serverCpu[name]).filter((x): x is number => typeof x === 'number')
    servers[name] = values.length > 0 ? median(values) : null
  }
  const busy = result.rounds.map((r) => r.machineBusy).filter((x): x is number => x !== null)
  result.cpu = { loadgen: median(result.rounds.map((r) => r.loadgenCpu)), servers, machineBusy: busy.length > 0 ? median(busy) : null }
  result.non2xx = result.rounds.reduce((n, r) => n + r.non2xx, 0)
  result.errors = result.rounds.reduce((n, r) => n + r.errors, 0)
  const total = result.rounds.reduce((n, r) => n + r.ok, 0) + result.non2xx + result.errors
  if (total > 0 && (result.non2xx + result.errors) / total > MAX_FAILURE_SHARE) {
    result.reason = `${result.non2xx} non-2xx and ${result.errors} errors out of ${total}: figures suspect`
  }
}

export function base (scenario: Scenario): ScenarioResult {
  return {
    name: scenario.name,
    description: scenario.description,
    target: scenario.target,
    status: 'ok',
    generator: null,
    reason: null,
    rps: null,
    spread: null,
    latencyMs: null,
    cpu: null,
    non2xx: 0,
    errors: 0,
    rounds: []
  }
}

export async function runScenario (scenario: Scenario, knobs: Knobs, root: string, log: (line: string) => void): Promise<ScenarioResult> {
  const result = base(scenario)
  const ctx: TargetContext = { root, urls: {}, knobs }
  const order = startOrder([scenario.target])
  const unavailable = unavailableTargets(order, ctx)
  if (unavailable.length > 0) return { ...result, status: 'skipped', reason: unavailable[0]!.why }

  const running = new Map<string, ServerProcess>()
  try {
    await startTargets(order, ctx, { pin: knobs.pin, measured: [scenario.target] }, running)
    const started = [...running.values()]
    const url = ctx.urls[scenario.target]! + scenario.path
    await checkAnswer(url, scenario, CHECK_TIMEOUT_MS)

    const load = scenarioLoad(scenario, url, { connections: knobs.connections, pipelining: knobs.pipelining, rate: knobs.rate, duration: knobs.duration })
    const generator = chooseGenerator(knobs.loadgen, load)
    result.generator = generator
    if (knobs.warmup > 0) {
      log(`  ${scenario.name}: warm-up ${knobs.warmup}s (${generator})`)
      await runLoad({ ...load, duration: knobs.warmup }, generator, knobs.wrkThreads)
    }
    for (let i = 0; i < knobs.rounds; i++) {
      result.rounds.push(await measureRound(scenario.name, load, generator, knobs, started, `round ${i + 1}/${knobs.rounds}`, log))
    }
    summarize(result)
    return result
  } catch (err) {
    return { ...result, status: 'failed', reason: (err as Error).message }
  } finally {
    for (const server of [...running.values()].reverse()) await server.stop()
  }
}
