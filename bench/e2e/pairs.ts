// The goals that compare two routes whose difference is a few per cent (issue 9: a throttled
// route ≥ 90 % of the same route unthrottled, a cache hit ≥ the mock route; issue 12: access
// logs and metrics cost ≤ 10 %; a validated POST ≥ 80 % of its unvalidated twin) are judged on
// interleaved pairs, not on rows measured a minute apart: on this 2-core machine one route's
// req/s moves ±10–20 % from run to run, so a ratio of two separate runs passes once and fails
// the next.
//
// A pair's two routes are measured in alternating rounds with both servers up — A B, B A, A B,
// … (the order reversed every other pair, so neither side always follows the other) — on one
// gateway process when the config allows it (a throttled stage and an unthrottled one; a cached
// method and the mock method of the same stage), otherwise on two gateway processes started
// together (the observed config keeps stage metrics for every stage once the admin listener is
// on, so its plain twin must be another process). Each adjacent pair of rounds gives a ratio;
// the median of those ratios is reported and judged.
//
// Each pair also checks that its comparison is honest, once its rounds are done:
//   - throttled: the rounds had no 429; then the generated config is reloaded (SIGHUP) with the
//     throttled method at 1 req/s, burst 1, and the route must answer 429 THROTTLED while its
//     unthrottled twin still answers 200: the measured route's chain holds the method's bucket;
//   - cache hit: the echo backend's request count did not move over the warm-up and the rounds
//     (every request a hit, none reached the backend);
//   - observed: the access log has a line, and /metrics a Count and a Latency sample, for every
//     request answered (at most one more per connection per load run: wrk stops with requests in
//     flight, which the gateway answers and logs after wrk stopped counting), none dropped.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import type { ServerProcess } from './child-process.js'
import { ECHO_COUNT_PATH } from './echo-backend.js'
import type { Knobs } from './knobs.js'
import { runLoad, chooseGenerator } from './load.js'
import type { Generator, LoadResult } from './load.js'
import { base, measureRound, median, summarize } from './runner.js'
import type { ScenarioResult } from './runner.js'
import { OBSERVED_ACCESS_LOG, SCENARIOS } from './scenarios.js'
import type { Scenario, TargetContext } from './scenarios.js'
import { checkAnswer, scenarioLoad, startOrder, startTargets, unavailableTargets } from './start-targets.js'

/** Bound on each correctness request. */
const CHECK_TIMEOUT_MS = 10_000
/** Bound on the wait for the reloaded configuration to be in force. */
const RELOAD_TIMEOUT_MS = 15_000
/** The log writer's batches leave every 20 ms (src/observability/log-writer.ts FLUSH_MS): wait this long for the last. */
const LOG_SETTLE_MS = 300

/** How the pair checks its comparison is honest. */
type Verification =
  | { kind: 'throttle', stage: string, resource: string, method: string }
  | { kind: 'cache-hit' }
  | { kind: 'observed', resource: string, method: string }
  | { kind: 'protected' }
  | { kind: 'function' }
  | { kind: 'validated' }

export interface Pair {
  /** The scenario judged (its row shows the goal's mark). */
  scenario: string
  /** Its twin, measured in the same alternating rounds. */
  base: Scenario
  /** Goal: the median of scenario req/s ÷ base req/s over the pairs of rounds ≥ this. */
  min: number
  text: string
  /** How the two are served, for the output. */
  how: string
  verify: Verification
}

const scenario = (name: string): Scenario => SCENARIOS.find((s) => s.name === name)!
const mockOn = (target: string, stage: string, name: string): Scenario => ({ ...scenario('mock'), name, target, path: `/${stage}/mock`, description: `GET /${stage}/mock on ${target}` })

export const PAIRS: readonly Pair[] = [
  {
    scenario: 'mock-throttled',
    base: mockOn('gateway-throttled', 'test', 'mock (gateway-throttled, stage test)'),
    min: 0.9,
    text: 'a throttled route whose limit is far above the load ≥ 90% of the same route unthrottled (mock)',
    how: 'one gateway process: GET /throttled/mock (method bucket + account bucket) vs GET /test/mock (account bucket)',
    verify: { kind: 'throttle', stage: 'throttled', resource: '/mock', method: 'GET' }
  },
  {
    scenario: 'cache-hit',
    base: mockOn('gateway-cached', 'test', 'mock (gateway-cached)'),
    min: 1,
    text: 'a stage cache hit ≥ the mock route req/s',
    how: 'one gateway process, one stage: GET /test/proxy/hello (cached) vs GET /test/mock',
    verify: { kind: 'cache-hit' }
  },
  {
    scenario: 'authorizer-token',
    base: scenario('mock'),
    min: 0.8,
    text: 'TOKEN authorizer (cache warm) ≥ 80% of the same route unprotected',
    how: 'one gateway process: GET /test/authorized/mock (TOKEN authorizer, result cached) vs GET /test/mock',
    verify: { kind: 'protected' }
  },
  {
    scenario: 'aws-proxy',
    base: scenario('mock'),
    min: 0.5,
    text: 'aws_proxy ≥ 50% of the mock route req/s',
    how: 'one gateway process: GET /test/fn (AWS_PROXY, a trivial local handler) vs GET /test/mock',
    verify: { kind: 'function' }
  },
  {
    scenario: 'validated',
    base: scenario('unvalidated'),
    min: 0.8,
    text: 'validated POST ≥ 80% of the same route unvalidated',
    how: 'one gateway process: POST /test/validated (a 20-property model validated, then MOCK) vs POST /test/unvalidated (the same route, no validator)',
    verify: { kind: 'validated' }
  },
  {
    scenario: 'mock-observed',
    base: scenario('mock'),
    min: 0.9,
    text: 'access logs and metrics on: ≤ 10 % of req/s cost (mock)',
    how: 'two gateway processes up together: gateway-observed (access log, metrics) vs gateway (plain), GET /test/mock',
    verify: { kind: 'observed', resource: '/mock', method: 'GET' }
  },
  {
    scenario: 'http-proxy-observed',
    base: scenario('http-proxy'),
    min: 0.9,
    text: 'access logs and metrics on: ≤ 10 % of req/s cost (http_proxy)',
    how: 'two gateway processes up together: gateway-observed vs gateway, GET /test/proxy/hello',
    verify: { kind: 'observed', resource: '/proxy/{proxy+}', method: 'ANY' }
  }
]

export function pairOf (name: string): Pair | undefined {
  return PAIRS.find((p) => p.scenario === name)
}

export interface PairResult {
  scenario: string
  base: string
  text: string
  how: string
  min: number
  /** scenario req/s ÷ base req/s of each adjacent pair of rounds. */
  ratios: number[]
  median: number | null
  /** null when not measured (a server failed, a check failed: see problem). */
  pass: boolean | null
  /** What the honesty check found, or why the pair could not be judged. */
  check: string
  problem: string | null
  /** The base's rounds (the scenario's are its row). */
  baseResult: ScenarioResult
}

/** Responses counted per side (scenario name) over a pair (check requests and warm-ups included) and load runs made. */
interface Tally { answered: number, runs: number }

/** Runs one pair: both routes in alternating rounds, then the pair's check. The scenario's row is `row`. */
export async function runPair (pair: Pair, knobs: Knobs, root: string, log: (line: string) => void): Promise<{ row: ScenarioResult, pair: PairResult }> {
  const a = scenario(pair.scenario)
  const b = pair.base
  const row = base(a)
  const baseResult = base(b)
  const out: PairResult = { scenario: a.name, base: b.name, text: pair.text, how: pair.how, min: pair.min, ratios: [], median: null, pass: null, check: '', problem: null, baseResult }
  const ctx: TargetContext = { root, urls: {}, knobs }
  const order = startOrder([b.target, a.target])
  const unavailable = unavailableTargets(order, ctx)
  if (unavailable.length > 0) {
    out.problem = unavailable[0]!.why
    return { row: { ...row, status: 'skipped', reason: out.problem }, pair: out }
  }
  const running = new Map<string, ServerProcess>()
  const tally = new Map<string, Tally>()
  const count = (target: string, r: Pick<LoadResult, 'ok' | 'non2xx'> | null): void => {
    const t = tally.get(target) ?? { answered: 0, runs: 0 }
    if (r === null) t.answered++
    else {
      t.answered += r.ok + r.non2xx
      t.runs++
    }
    tally.set(target, t)
  }
  try {
    await startTargets(order, ctx, { pin: knobs.pin, measured: [a.target, b.target] }, running)
    const sides = [a, b].map((s) => {
      const url = ctx.urls[s.target]! + s.path
      const load = scenarioLoad(s, url, { connections: knobs.connections, pipelining: knobs.pipelining, rate: knobs.rate, duration: knobs.duration })
      // measureRound reads the last server as the measured one.
      const servers = [...running.values()].filter((x) => x.name !== s.target).concat(running.get(s.target)!)
      return { s, url, load, servers, generator: chooseGenerator(knobs.loadgen, load) as Generator }
    })
    for (const side of sides) {
      await checkAnswer(side.url, side.s, CHECK_TIMEOUT_MS)
      count(side.s.name, null)
    }
    // The cached route's first request was a miss: a second one is answered from the cache
    // once its entry is stored; from here on the backend must see nothing.
    if (pair.verify.kind === 'cache-hit') {
      await checkAnswer(sides[0]!.url, a, CHECK_TIMEOUT_MS)
      count(a.name, null)
    }
    row.generator = sides[0]!.generator
    baseResult.generator = sides[1]!.generator
    const echoBefore = pair.verify.kind === 'cache-hit' ? await echoCount(ctx) : null
    if (knobs.warmup > 0) {
      for (const side of sides) {
        log(`  ${pair.scenario}: warm-up ${side.s.name} ${knobs.warmup}s (${side.generator})`)
        count(side.s.name, await runLoad({ ...side.load, duration: knobs.warmup }, side.generator, knobs.wrkThreads))
      }
    }
    const rounds = knobs.pairRounds
    for (let i = 0; i < rounds; i++) {
      const figures: number[] = []
      const sequence = i % 2 === 0 ? [0, 1] : [1, 0]
      for (const k of sequence) {
        const side = sides[k]!
        const r = await measureRound(side.s.name, side.load, side.generator, knobs, side.servers, `pair ${i + 1}/${rounds}`, log)
        count(side.s.name, r)
        ;(k === 0 ? row : baseResult).rounds.push(r)
        figures[k] = r.rps
      }
      if (figures[1]! > 0) out.ratios.push(figures[0]! / figures[1]!)
      log(`  ${pair.scenario}: pair ${i + 1}/${rounds} ratio ${(figures[0]! / figures[1]!).toFixed(3)}`)
    }
    summarize(row)
    summarize(baseResult)
    out.median = out.ratios.length > 0 ? median(out.ratios) : null
    out.check = await verify(pair, ctx, running, tally, echoBefore, row, knobs)
    out.pass = out.median === null ? null : out.median >= pair.min
    return { row, pair: out }
  } catch (err) {
    out.problem = (err as Error).message
    out.pass = null
    return { row: { ...row, status: 'failed', reason: out.problem }, pair: out }
  } finally {
    for (const server of [...running.values()].reverse()) await server.stop()
  }
}

async function get (url: string, headers?: Record<string, string>): Promise<{ status: number, body: string }> {
  const res = await request(url, { headers, headersTimeout: CHECK_TIMEOUT_MS, bodyTimeout: CHECK_TIMEOUT_MS })
  return { status: res.statusCode, body: await res.body.text() }
}

async function post (url: string, body: string): Promise<{ status: number, body: string }> {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, headersTimeout: CHECK_TIMEOUT_MS, bodyTimeout: CHECK_TIMEOUT_MS })
  return { status: res.statusCode, body: await res.body.text() }
}

async function echoCount (ctx: TargetContext): Promise<number> {
  const { status, body } = await get(ctx.urls.echo! + ECHO_COUNT_PATH)
  if (status !== 200) throw new Error(`echo backend's request count: answered ${status}`)
  return (JSON.parse(body) as { requests: number }).requests
}

/** Checks that the pair measured what it says; returns what was found, throws when it did not. */
async function verify (pair: Pair, ctx: TargetContext, running: Map<string, ServerProcess>, tally: Map<string, Tally>, echoBefore: number | null, row: ScenarioResult, knobs: Knobs): Promise<string> {
  const target = scenario(pair.scenario).target
  const mine = tally.get(pair.scenario)!
  const v = pair.verify
  if (row.non2xx + row.errors > 0) throw new Error(`${pair.scenario}: ${row.non2xx} non-2xx and ${row.errors} errors in its rounds`)
  if (v.kind === 'cache-hit') {
    const after = await echoCount(ctx)
    if (after !== echoBefore) throw new Error(`cache-hit: the echo backend served ${after - echoBefore!} requests during the warm-up and rounds: not every request was a hit`)
    return `the echo backend served 0 requests while the cached route answered ${mine.answered - 2} (warm-up and rounds): every one a hit`
  }
  if (v.kind === 'throttle') return await probeThrottle(v, ctx, running.get(target)!)
  if (v.kind === 'protected') return await probeProtected(ctx, running.get(target)!)
  if (v.kind === 'function') return await probeFunction(ctx, running.get(target)!)
  if (v.kind === 'validated') return await probeValidated(ctx, running.get(target)!)
  return await countObserved(v, ctx, running.get(target)!, mine, knobs)
}

/** The measured route is the protected one: without its token it answers 401, with it 200 (the rounds had no non-2xx). */
async function probeProtected (ctx: TargetContext, gateway: ServerProcess): Promise<string> {
  const a = scenario('authorizer-token')
  const res = await get(`${ctx.urls[gateway.name]!}${a.path}`)
  if (res.status !== 401) throw new Error(`authorizer check: ${a.path} without its token answered ${res.status}, not 401`)
  return `${a.path} without its token answered 401 (${res.body.trim()}): the rounds went through the authorizer`
}

/** The measured route answers with the handler's own body (the rounds had no non-2xx): they invoked the function. */
async function probeFunction (ctx: TargetContext, gateway: ServerProcess): Promise<string> {
  const a = scenario('aws-proxy')
  const res = await get(`${ctx.urls[gateway.name]!}${a.path}`)
  if (res.status !== 200 || !a.expect.body(res.body)) throw new Error(`function check: ${a.path} answered ${res.status} ${res.body.slice(0, 200)}, not the handler's body`)
  return `${a.path} answered 200 ${res.body} (the handler's body): the rounds invoked the function`
}

/** The measured route validates its body: an order missing its required properties answers 400 there and 200 on the twin. */
async function probeValidated (ctx: TargetContext, gateway: ServerProcess): Promise<string> {
  const [a, b] = [scenario('validated'), scenario('unvalidated')]
  const invalid = '{"field00": "x"}'
  const refused = await post(`${ctx.urls[gateway.name]!}${a.path}`, invalid)
  if (refused.status !== 400 || !refused.body.includes('Invalid request body')) throw new Error(`validation check: ${a.path} answered ${refused.status} ${refused.body.slice(0, 200)} to an order without its required properties, not 400 Invalid request body`)
  const twin = await post(`${ctx.urls[gateway.name]!}${b.path}`, invalid)
  if (twin.status !== 200) throw new Error(`validation check: the unvalidated twin ${b.path} answered ${twin.status} to the same order`)
  return `an order without its required properties answered 400 (${refused.body.trim()}) on ${a.path} and 200 on ${b.path}: the rounds went through the validator`
}

/** Reloads the throttled stage's method at 1 req/s, burst 1: its route must answer 429, its twin 200. */
async function probeThrottle (v: Extract<Verification, { kind: 'throttle' }>, ctx: TargetContext, gateway: ServerProcess): Promise<string> {
  const generated = ctx.generated?.[gateway.name]
  if (generated === undefined) throw new Error(`${gateway.name}: no generated config to reload`)
  const config = structuredClone(generated.config) as { apis: Array<{ stages: Record<string, { methodSettings?: Record<string, Record<string, number>> }> }> }
  const setting = config.apis[0]!.stages[v.stage]!.methodSettings![`${v.resource}/${v.method}`]!
  setting.throttlingRateLimit = 1
  setting.throttlingBurstLimit = 1
  writeFileSync(generated.file, JSON.stringify(config, null, 2) + '\n')
  const seen = gateway.output().length
  process.kill(gateway.pid, 'SIGHUP')
  const until = Date.now() + RELOAD_TIMEOUT_MS
  while (!/reloaded: configuration version \d+/.test(gateway.output().slice(seen))) {
    if (Date.now() > until) throw new Error(`${gateway.name}: no "reloaded" line within ${RELOAD_TIMEOUT_MS} ms of SIGHUP\n${gateway.output().slice(seen, seen + 2_000)}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const throttled: number[] = []
  const twin: number[] = []
  let body429 = ''
  for (let i = 0; i < 5; i++) {
    const r = await get(`${ctx.urls[gateway.name]!}/${v.stage}${v.resource}`)
    throttled.push(r.status)
    if (r.status === 429) body429 = r.body
    twin.push((await get(`${ctx.urls[gateway.name]!}/test${v.resource}`)).status)
  }
  if (!throttled.includes(429) || !body429.includes('Too Many Requests')) throw new Error(`throttle check: after a reload to 1 req/s, burst 1, /${v.stage}${v.resource} answered ${throttled.join(' ')} ${JSON.stringify(body429)}: its bucket is not checked`)
  if (twin.some((s) => s !== 200)) throw new Error(`throttle check: the unthrottled twin /test${v.resource} answered ${twin.join(' ')}`)
  return `0 of the rounds' requests throttled; reloaded at 1 req/s, burst 1 the route answered ${throttled.join(' ')} (${body429.trim()}) and its twin ${twin.join(' ')}: the bucket is on the route's path`
}

/** The access log's lines and /metrics' Count and Latency samples of the route: one per request answered. */
async function countObserved (v: Extract<Verification, { kind: 'observed' }>, ctx: TargetContext, gateway: ServerProcess, tally: Tally, knobs: Knobs): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, LOG_SETTLE_MS))
  const generated = ctx.generated?.[gateway.name]
  if (generated === undefined) throw new Error(`${gateway.name}: no generated config (access log file unknown)`)
  const log = readFileSync(join(generated.dir, OBSERVED_ACCESS_LOG))
  let lines = 0
  for (let at = log.indexOf(10); at !== -1; at = log.indexOf(10, at + 1)) lines++
  const admin = /backplane admin on (http:\/\/\S+)/.exec(gateway.output())?.[1]
  if (admin === undefined) throw new Error(`${gateway.name}: no "backplane admin on" line`)
  const metrics = (await get(admin + '/metrics')).body
  const labels = `{ApiName="backplane-bench",Stage="test",Resource="${v.resource}",Method="${v.method}"}`
  const value = (name: string): number => {
    const m = new RegExp(`^${name}${labels.replace(/[{}()+$.*?[\]\\/|^]/g, '\\$&')} (\\d+)$`, 'm').exec(metrics)
    if (m === null) throw new Error(`/metrics has no ${name}${labels}`)
    return Number(m[1])
  }
  const countTotal = value('backplane_count_total')
  const latencyCount = value('backplane_latency_milliseconds_count')
  const dropped = Number(/^backplane_log_lines_dropped_total (\d+)$/m.exec(metrics)?.[1] ?? NaN)
  const slack = tally.runs * knobs.connections
  const within = (n: number): boolean => n >= tally.answered && n <= tally.answered + slack
  const found = `${tally.answered} requests answered (+ at most ${slack} in flight when a load run stopped): ${lines} access log lines, Count ${countTotal}, Latency samples ${latencyCount}, dropped lines ${dropped}`
  if (!within(lines) || !within(countTotal) || latencyCount !== countTotal || dropped !== 0) throw new Error(`observed check failed: ${found}`)
  return found
}
