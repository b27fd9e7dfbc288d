// The bench's outputs: the system line, the results table, the saved JSON, and the
// comparison with a baseline (changes beyond ±PERCENT_THRESHOLD are flagged).

import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { PERCENTILES, percentileKey } from './load.js'
import { CEILING, FLOOR, GOALS } from './scenarios.js'
import { NGINX } from './native-proxies.js'
import type { Figures } from './scenarios.js'
import { cpuText, otherCpu } from './runner.js'
import type { ScenarioResult } from './runner.js'
import type { Knobs } from './knobs.js'
import type { PairResult } from './pairs.js'

/** A change smaller than this (in %) is noise on a shared 2-core machine (fastify/benchmarks uses 5 too). */
export const PERCENT_THRESHOLD = 5
export const RESULT_FORMAT = 1
/** A load generator at this share of a core (autocannon is one thread; wrk -t1 too) sets the pace, not the server. */
export const LOADGEN_BOUND_CPU = 90
/** CPU (% of one core) the rest of the machine may use before a scenario is called disturbed. */
export const OTHER_BUSY_CPU = 20

export interface SystemInfo {
  node: string
  v8: string
  platform: string
  arch: string
  cpus: number
  cpuModel: string
  /** 1, 5 and 15 minute load averages when the run started. */
  loadavg: number[]
  memoryGiB: number
  /** Which uWebSockets.js build loads: the native binary for this ABI, or the JS fallback. */
  uws: string
  commit: string | null
}

export interface GoalResult {
  scenario: string
  text: string
  pass: boolean | null
  detail: string
}

export interface BenchResult {
  format: number
  startedAt: string
  finishedAt: string
  system: SystemInfo
  knobs: Knobs
  percentiles: readonly number[]
  scenarios: ScenarioResult[]
  /** The interleaved pairs (bench/e2e/pairs.ts); absent in results saved before them. */
  pairs?: PairResult[]
  goals: GoalResult[]
}

export function systemInfo (root: string): SystemInfo {
  const cpus = os.cpus()
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`
  let commit: string | null = null
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {}
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    uws: existsSync(join(root, 'node_modules', 'uWebSockets.js', 'binaries', binary)) ? `native ${binary}` : 'JS fallback (slow)',
    commit
  }
}

export function systemLine (s: SystemInfo): string {
  return `node ${s.node} (v8 ${s.v8}) · ${s.platform}/${s.arch} · ${s.cpus} × ${s.cpuModel} · ${s.memoryGiB} GiB · ` +
    `load ${s.loadavg.join(' ')} · uWS ${s.uws}${s.commit !== null ? ` · commit ${s.commit}` : ''}`
}

export function knobsLine (k: Knobs): string {
  return `connections ${k.connections} · pipelining ${k.pipelining} · ${k.rounds} × ${k.duration}s rounds (median) · ` +
    `${k.pairRounds !== undefined ? `interleaved pairs ${k.pairRounds} × (A ${k.duration}s, B ${k.duration}s) · ` : ''}` +
    `warm-up ${k.warmup}s${k.pin ? ' · pinned (load and backends CPU 0, measured servers CPU 1)' : ''}` +
    `${k.rate !== null ? ` · fixed rate ${k.rate} req/s` : ''}` +
    ` · load generator ${k.loadgen ?? 'wrk when installed, else autocannon'}${k.wrkThreads !== 1 ? ` (wrk -t${k.wrkThreads})` : ''}` +
    `${k.gatewayWorkers !== null ? ` · gateway workers ${k.gatewayWorkers}` : ''}` +
    `${k.floorMode !== 'stream' ? ` · floor ${k.floorMode}` : ''}`
}

export function figuresOf (scenarios: ScenarioResult[]): (name: string) => Figures | undefined {
  return (name) => {
    const s = scenarios.find((x) => x.name === name)
    if (s === undefined || s.status !== 'ok' || s.rps === null || s.latencyMs === null) return undefined
    return { rps: s.rps, latencyMs: s.latencyMs, cpuUsPerRequest: cpuUsPerRequest(s) }
  }
}

export function evaluateGoals (scenarios: ScenarioResult[], pairs: readonly PairResult[] = []): GoalResult[] {
  const get = figuresOf(scenarios)
  return [
    ...GOALS.map((goal) => ({ scenario: goal.scenario, text: goal.text, ...goal.evaluate(get) })),
    ...pairs.map((p) => ({
      scenario: p.scenario,
      text: p.text,
      pass: p.pass,
      detail: p.median === null
        ? `not measured${p.problem !== null ? ` (${p.problem.split('\n')[0]})` : ''}`
        : `median ${pct(p.median)} of ${p.base} over ${p.ratios.length} interleaved pairs of rounds (${p.ratios.map((r) => pct(r)).join(' ')}; ±${ratioSpread(p).toFixed(1)}%)` +
          (p.problem !== null ? `; check failed: ${p.problem.split('\n')[0]}` : '')
    }))
  ]
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`

/** Half the range of a pair's ratios, in % of their median (as the table's ±% column for req/s). */
export function ratioSpread (p: Pick<PairResult, 'ratios' | 'median'>): number {
  if (p.median === null || p.median <= 0 || p.ratios.length === 0) return 0
  return (Math.max(...p.ratios) - Math.min(...p.ratios)) / 2 / p.median * 100
}

/** The interleaved pairs: how each was measured, its per-pair ratios and median, what its check found. */
export function pairsText (pairs: readonly PairResult[]): string {
  if (pairs.length === 0) return ''
  const lines = ['interleaved pairs (both routes up together, measured in alternating rounds A B, B A, …; ratio per adjacent pair of rounds, median judged):']
  for (const p of pairs) {
    const b = p.baseResult
    lines.push(`  ${p.scenario} ÷ ${p.base} (${p.how}): ` +
      (p.median === null ? 'not measured' : `${p.ratios.map((r) => r.toFixed(2)).join(' ')}, median ${p.median.toFixed(3)} ±${ratioSpread(p).toFixed(1)}% (goal ≥ ${p.min}) ${p.pass === true ? 'PASS' : p.pass === false ? 'FAIL' : '–'}`) +
      (b.rps !== null ? `; ${p.base} in the same rounds ${Math.round(b.rps).toLocaleString('en-US')} req/s${cpuUsPerRequest(b) !== null ? `, ${cpuUsPerRequest(b)!.toFixed(0)} µs cpu/req` : ''}` : ''))
    lines.push(p.problem !== null ? `    check FAILED: ${p.problem.split('\n')[0]}` : `    check: ${p.check}`)
  }
  return lines.join('\n')
}

/** Plain-text table: first column left-aligned, the others right-aligned. */
export function table (rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, [...cell].length) })
  const line = (row: string[]): string => row.map((cell, i) => {
    const pad = ' '.repeat(widths[i]! - [...cell].length)
    return i === 0 ? cell + pad : pad + cell
  }).join('  ').trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n')
}

const ms = (x: number | undefined): string => x === undefined ? '–' : x.toFixed(2)

/** CPU µs the scenario's own server spent per request (its backend's not counted); null if unknown. */
export function cpuUsPerRequest (s: Pick<ScenarioResult, 'cpu' | 'target' | 'rps'>): number | null {
  const pct = s.cpu?.servers[s.target]
  if (pct === undefined || pct === null || s.rps === null || s.rps <= 0) return null
  return pct / 100 / s.rps * 1e6
}
const ratioCell = (a: number | null | undefined, b: number | null | undefined): string =>
  a === null || a === undefined || b === null || b === undefined || b <= 0 ? '–' : (a / b).toFixed(2)
const mark = (pass: boolean | null): string => pass === null ? '–' : pass ? 'PASS' : 'FAIL'

export function resultsTable (scenarios: ScenarioResult[], goals: GoalResult[], pairs: readonly PairResult[] = []): string {
  const get = figuresOf(scenarios)
  const ceiling = get(CEILING)
  const floor = get(FLOOR)
  const nginx = get(NGINX)
  // The × nginx columns appear when nginx ran: req/s ÷ nginx's, CPU per request ÷ nginx's, p99 ÷ nginx's.
  const nginxHeader = nginx !== undefined ? ['× nginx', 'cpu ÷ nginx', 'p99 ÷ nginx'] : []
  const header = ['scenario', 'load', 'req/s', '±%', ...PERCENTILES.map((p) => `p${p} ms`), '× hello', '× floor', ...nginxHeader, 'non-2xx/err', 'cpu % of one core', 'µs cpu/req', 'goal']
  const rows = scenarios.map((s) => {
    const f = get(s.name)
    const goal = goals.filter((g) => g.scenario === s.name).map((g) => mark(g.pass)).join(' ')
    if (f === undefined) {
      return [s.name, '', s.status, '', ...PERCENTILES.map(() => ''), '', '', ...nginxHeader.map(() => ''), '', '', '', goal]
    }
    return [
      s.name,
      s.generator ?? '',
      Math.round(f.rps).toLocaleString('en-US'),
      s.spread === null || s.rounds.length < 2 ? '–' : s.spread.toFixed(1),
      ...PERCENTILES.map((p) => ms(f.latencyMs[percentileKey(p)])),
      ceiling !== undefined ? `${(f.rps / ceiling.rps).toFixed(2)}` : '–',
      floor !== undefined ? `${(f.rps / floor.rps).toFixed(2)}` : '–',
      ...(nginx !== undefined
        ? [ratioCell(f.rps, nginx.rps), ratioCell(f.cpuUsPerRequest, nginx.cpuUsPerRequest), ratioCell(f.latencyMs.p99, nginx.latencyMs.p99)]
        : []),
      `${s.non2xx}/${s.errors}`,
      s.cpu !== null ? cpuText({ loadgenCpu: s.cpu.loadgen, serverCpu: s.cpu.servers, machineBusy: s.cpu.machineBusy }) : '',
      f.cpuUsPerRequest === null ? '–' : f.cpuUsPerRequest.toFixed(0),
      goal
    ]
  })
  const notes = scenarios.filter((s) => s.reason !== null).map((s) => `  ${s.name} ${s.status}: ${s.reason!.split('\n')[0]}`)
  for (const s of scenarios) {
    if (s.cpu !== null && s.cpu.loadgen >= LOADGEN_BOUND_CPU) {
      notes.push(`  ${s.name}: ${s.generator ?? 'the load generator'} used ${Math.round(s.cpu.loadgen)}% of a core: the figure is the load generator's limit, not the server's`)
    }
    const other = s.cpu === null ? null : otherCpu({ loadgenCpu: s.cpu.loadgen, serverCpu: s.cpu.servers, machineBusy: s.cpu.machineBusy })
    if (other !== null && other > OTHER_BUSY_CPU) {
      notes.push(`  ${s.name}: the rest of the machine used ${Math.round(other)}% of a core meanwhile: not comparable with a quiet run`)
    }
  }
  if (pairs.length > 0) notes.push(`  ${pairs.map((p) => p.scenario).join(', ')}: rows measured interleaved with their twins (below), each on its own servers`)
  const goalLines = goals.map((g) => `  ${mark(g.pass)}  ${g.text}: ${g.detail}`)
  return [table([header, ...rows]), ...(notes.length > 0 ? ['', 'notes:', ...notes] : []), ...(pairs.length > 0 ? ['', pairsText(pairs)] : []), '', 'goals:', ...goalLines].join('\n')
}

export interface Change {
  scenario: string
  metric: string
  baseline: number
  current: number
  /** Percent change, current vs baseline. */
  percent: number
  /** 'better' / 'worse' beyond the threshold, 'same' within it. */
  verdict: 'better' | 'worse' | 'same'
}

/** req/s (higher is better) and each percentile (lower is better), scenario by scenario. */
export function compare (current: BenchResult, baseline: BenchResult, threshold = PERCENT_THRESHOLD): Change[] {
  const now = figuresOf(current.scenarios)
  const then = figuresOf(baseline.scenarios)
  const changes: Change[] = []
  for (const s of current.scenarios) {
    const a = then(s.name)
    const b = now(s.name)
    if (a === undefined || b === undefined) continue
    const metrics: Array<[string, number, number, boolean]> = [
      ['req/s', a.rps, b.rps, true],
      ...PERCENTILES.map((p): [string, number, number, boolean] => {
        const key = percentileKey(p)
        return [`${key} ms`, a.latencyMs[key] ?? NaN, b.latencyMs[key] ?? NaN, false]
      })
    ]
    for (const [metric, was, is, higherIsBetter] of metrics) {
      if (!Number.isFinite(was) || !Number.isFinite(is) || was === 0) continue
      const percent = (is - was) / was * 100
      const improved = higherIsBetter ? percent > 0 : percent < 0
      const verdict = Math.abs(percent) <= threshold ? 'same' : improved ? 'better' : 'worse'
      changes.push({ scenario: s.name, metric, baseline: was, current: is, percent, verdict })
    }
  }
  return changes
}

export function compareTable (changes: Change[], baseline: BenchResult, current: BenchResult): string {
  const rows = changes.map((c) => [
    c.scenario, c.metric,
    c.metric === 'req/s' ? Math.round(c.baseline).toLocaleString('en-US') : c.baseline.toFixed(2),
    c.metric === 'req/s' ? Math.round(c.current).toLocaleString('en-US') : c.current.toFixed(2),
    `${c.percent >= 0 ? '+' : ''}${c.percent.toFixed(1)}%`,
    c.verdict === 'same' ? '' : c.verdict === 'better' ? 'better' : 'WORSE'
  ])
  const rps = changes.filter((c) => c.metric === 'req/s')
  const geomean = rps.length > 0
    ? (Math.exp(rps.reduce((sum, c) => sum + Math.log(c.current / c.baseline), 0) / rps.length) - 1) * 100
    : null
  const lines = [table([['scenario', 'metric', 'baseline', 'now', 'change', `beyond ±${PERCENT_THRESHOLD}%`], ...rows])]
  if (geomean !== null) lines.push(`geomean req/s change: ${geomean >= 0 ? '+' : ''}${geomean.toFixed(1)}%`)
  const warnings: string[] = []
  const a = baseline.system
  const b = current.system
  if (a.cpus !== b.cpus || a.cpuModel !== b.cpuModel) warnings.push(`baseline CPUs differ (${a.cpus} × ${a.cpuModel})`)
  if (a.node !== b.node) warnings.push(`baseline node ${a.node}`)
  for (const key of ['connections', 'pipelining', 'duration', 'pin', 'floorMode'] as const) {
    if (baseline.knobs[key] !== current.knobs[key]) warnings.push(`baseline ${key} ${String(baseline.knobs[key])}`)
  }
  const missing = current.scenarios.filter((s) => s.status === 'ok' && !baseline.scenarios.some((b) => b.name === s.name && b.status === 'ok'))
  if (missing.length > 0) lines.push(`not in the baseline: ${missing.map((s) => s.name).join(', ')}`)
  if (warnings.length > 0) lines.push(`warning: not like for like: ${warnings.join('; ')}`)
  return lines.join('\n')
}
