// What `npm run bench` measures: the servers (targets), the scenarios run against them, and
// the goals checked on the results. Adding a scenario is adding one entry to SCENARIOS
// (and, for a new server, one to TARGETS).
//
// Each scenario gets fresh processes: its target and the targets that one needs are
// started before it and stopped after it, so no scenario inherits another's JIT or heap.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SpawnServerOptions } from './child-process.js'
import type { Knobs } from './knobs.js'
import { NATIVE_TARGETS, NATIVE_SCENARIOS, NATIVE_GOALS } from './native-proxies.js'

/** Compiled next to this file: dist/bench/e2e/servers/*.js. */
const SERVERS_DIR = fileURLToPath(new URL('./servers/', import.meta.url))

export interface TargetContext {
  /** Repository root (holds package.json, dist/, bench/fixtures/). */
  root: string
  /** Base URLs of the targets named in `needs`, already running. */
  urls: Record<string, string>
  knobs: Knobs
  /** Targets started from a generated config: its file and its temp dir (removed when the target stops). */
  generated?: Record<string, GeneratedConfig>
}

/** A gateway config written for one run (bench/e2e/pairs.ts rewrites it to probe a reload, reads its access log). */
export interface GeneratedConfig {
  dir: string
  file: string
  /** The config as written (paths made absolute). */
  config: Record<string, unknown>
}

export interface Target {
  /** Targets to start first; their URLs are in ctx.urls. */
  needs: readonly string[]
  /**
   * A backend behind the measured server: with PIN=1 it runs on the load generator's CPU, so the
   * measured proxy has its core to itself (issue 11's setup: "the proxy confined to one core, wrk
   * and the uWebSockets.js backend on the other"). Measured directly, it runs on the servers' CPU.
   */
  backend?: boolean
  /** Why the target cannot run here (e.g. not built), or null. */
  unavailable(ctx: TargetContext): string | null
  /** How to start it: the ready line must contain `listening on http://HOST:PORT` (or probeUrl set). */
  spawn(ctx: TargetContext): Omit<SpawnServerOptions, 'name'> | Promise<Omit<SpawnServerOptions, 'name'>>
}

function benchServer (file: string, env: (ctx: TargetContext) => Record<string, string> = () => ({})): Target {
  const script = join(SERVERS_DIR, file)
  return {
    needs: [],
    unavailable: () => existsSync(script) ? null : `${script} not built`,
    spawn: (ctx) => ({ args: [script], env: env(ctx) })
  }
}

const gatewayCli = (ctx: TargetContext): string => join(ctx.root, 'dist', 'src', 'cli.js')

/** The gateway CLI serving bench/fixtures/<config> against the echo backend. */
function gatewayTarget (config: string): Target {
  return {
    needs: ['echo'],
    unavailable: (ctx) => existsSync(gatewayCli(ctx)) ? null : 'dist/src/cli.js not built',
    spawn: (ctx) => ({
      args: [
        gatewayCli(ctx), 'serve', '--config', join(ctx.root, 'bench', 'fixtures', config),
        '--port', '0', '--host', '127.0.0.1',
        '--stage-var', `backend=${ctx.urls.echo!}`,
        ...(ctx.knobs.gatewayWorkers !== null ? ['--workers', String(ctx.knobs.gatewayWorkers)] : []),
        ...ctx.knobs.gatewayArgs
      ],
      cwd: ctx.root,
      readyPattern: /^backplane listening on (http:\/\/\S+)$/,
      timeoutMs: 30_000
    })
  }
}

/**
 * Where generated configs and their access logs go: tmpfs when there is one, so an access log
 * costs what writing to a file costs (a copy into the page cache) and no disk writeback.
 */
function scratchRoot (): string {
  return existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()
}

/**
 * bench/fixtures/<fixture> written to a temp dir with its relative paths (API files, function
 * handlers) made absolute, after `edit(config, dir)`. Removed when the target stops.
 */
export function writeGeneratedConfig (ctx: TargetContext, name: string, fixture: string, edit: (config: Record<string, unknown>, dir: string) => void = () => {}): GeneratedConfig {
  const fixtures = join(ctx.root, 'bench', 'fixtures')
  const config = JSON.parse(readFileSync(join(fixtures, fixture), 'utf8')) as Record<string, unknown>
  const abs = (p: string): string => isAbsolute(p) ? p : resolve(fixtures, p)
  for (const api of (config.apis as Array<{ file?: string }> | undefined) ?? []) if (typeof api.file === 'string') api.file = abs(api.file)
  const functions = config.functions as Record<string, { handler?: string }> | undefined
  for (const fn of Object.values(functions ?? {})) {
    if (typeof fn.handler === 'string' && fn.handler.startsWith('.')) {
      const hash = fn.handler.indexOf('#')
      fn.handler = hash < 0 ? abs(fn.handler) : abs(fn.handler.slice(0, hash)) + fn.handler.slice(hash)
    }
  }
  const dir = mkdtempSync(join(scratchRoot(), `backplane-bench-${name}-`))
  edit(config, dir)
  const file = join(dir, 'gateway.json')
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n')
  const generated = { dir, file, config }
  ;(ctx.generated ??= {})[name] = generated
  return generated
}

/** The gateway CLI serving a config generated from bench/fixtures/<fixture> (see writeGeneratedConfig). */
function generatedGatewayTarget (name: string, fixture: string, edit?: (config: Record<string, unknown>, dir: string) => void): Target {
  const plain = gatewayTarget(fixture)
  return {
    ...plain,
    spawn: async (ctx) => {
      const generated = writeGeneratedConfig(ctx, name, fixture, edit)
      const spec = await plain.spawn(ctx)
      const args = [...spec.args]
      args[args.indexOf('--config') + 1] = generated.file
      return { ...spec, args, cleanup: () => { rmSync(generated.dir, { recursive: true, force: true }) } }
    }
  }
}

/** The access log file of the observed gateway's stage, in its generated config's dir. */
export const OBSERVED_ACCESS_LOG = 'access.log'

/** CPU the servers run on with PIN=1 (the load generator gets CPU 0). */
export const SERVER_CPU = '1'
/** CPU of the load generator with PIN=1, and of the backends behind a measured server. */
export const LOAD_CPU = '0'

/** The CPU target `name` is pinned to when `measured` is the target under load. */
export function pinnedCpu (name: string, measured: readonly string[]): string {
  return TARGETS[name]?.backend === true && !measured.includes(name) ? LOAD_CPU : SERVER_CPU
}

export const TARGETS: Record<string, Target> = {
  'hello-uws': benchServer('hello-uws.js'),
  echo: { ...benchServer('echo-backend.js'), backend: true },
  floor: {
    ...benchServer('floor-proxy.js', (ctx) => ({ BACKEND_URL: ctx.urls.echo!, FLOOR_MODE: ctx.knobs.floorMode })),
    needs: ['echo']
  },
  'grpc-echo': { ...benchServer('grpc-echo.js'), backend: true },
  // The gateway serving the transcoded gRPC route (bench/fixtures/bench-grpc-api.json), with the
  // account throttle raised as for the other gateways: API Gateway's default 10,000 req/s
  // answered 429 to whatever the route did beyond it once this machine served more.
  'gateway-grpc': {
    needs: ['grpc-echo'],
    unavailable: (ctx) => existsSync(gatewayCli(ctx)) ? null : 'dist/src/cli.js not built',
    spawn: (ctx) => ({
      args: [
        gatewayCli(ctx), 'serve', '--config', join(ctx.root, 'bench', 'fixtures', 'bench-grpc-gateway.json'),
        '--port', '0', '--host', '127.0.0.1',
        '--stage-var', `grpcBackend=${ctx.urls['grpc-echo']!}`,
        ...(ctx.knobs.gatewayWorkers !== null ? ['--workers', String(ctx.knobs.gatewayWorkers)] : []),
        ...ctx.knobs.gatewayArgs
      ],
      cwd: ctx.root,
      readyPattern: /^backplane listening on (http:\/\/\S+)$/,
      timeoutMs: 30_000
    })
  },
  gateway: gatewayTarget('bench-gateway.json'),
  // The same API with access logs (CLF, to a file on tmpfs: formatting, batching, write calls and
  // the copy into the page cache, no disk; the bench counts its lines) and detailed metrics on
  // (the admin listener serves them).
  'gateway-observed': generatedGatewayTarget('gateway-observed', 'bench-gateway-observed.json', (config, dir) => {
    for (const api of config.apis as Array<{ stages: Record<string, { accessLogSettings?: { destination: string } }> }>) {
      for (const stage of Object.values(api.stages)) if (stage.accessLogSettings !== undefined) stage.accessLogSettings.destination = join(dir, OBSERVED_ACCESS_LOG)
    }
  }),
  // nginx and haproxy (when installed) proxying the http-proxy route to the echo backend.
  ...NATIVE_TARGETS,
  // The same API on two stages: `throttled` with a methodSettings throttle on GET /mock far above
  // any load (shared buckets, one more per request), `test` without (its twin, same process).
  // Generated, so that the pair's check can reload it with a low limit (bench/e2e/pairs.ts).
  'gateway-throttled': generatedGatewayTarget('gateway-throttled', 'bench-gateway-throttled.json'),
  // The same API with the stage cache on for the ANY /proxy/{proxy+} method (shared-memory store, TTL 3600 s).
  'gateway-cached': gatewayTarget('bench-gateway-cached.json'),
}

export interface Scenario {
  /** Short name: the SCENARIOS filter, table rows, JSON keys, baselines. */
  name: string
  description: string
  /** Key in TARGETS. */
  target: string
  method?: string
  /** Path (and query) appended to the target's base URL. */
  path: string
  headers?: Record<string, string>
  body?: string
  /** Checked once before timing: a scenario that answers wrongly is not timed. */
  expect: { status: number; body: (text: string) => boolean }
}

const echoedPath = (path: string) => (text: string): boolean => {
  try {
    return (JSON.parse(text) as { path?: unknown }).path === path
  } catch {
    return false
  }
}

/** The validated POST's body: an order of 20 properties (bench/fixtures/order.json). */
const ORDER_FILE = ['../../../bench/fixtures/order.json', '../fixtures/order.json'] // from dist/bench/e2e/, or from bench/e2e/ (tests)
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((file) => existsSync(file))!
const ORDER = readFileSync(ORDER_FILE, 'utf8')

/** The key of bench/fixtures/bench-gateway.json's usage plan (the api-key scenario sends it). */
const BENCH_API_KEY = 'bench-key-0123456789abcdef'

/** The ratio columns divide by these scenarios' req/s. */
export const CEILING = 'hello-world'
export const FLOOR = 'floor-proxy'

export const SCENARIOS: readonly Scenario[] = [
  {
    name: CEILING,
    description: 'bare uWebSockets.js hello world: the ceiling',
    target: 'hello-uws',
    path: '/',
    expect: { status: 200, body: (text) => text === 'Hello World!' }
  },
  // nginx and haproxy rows: the reference proxies (bench/e2e/native-proxies.ts).
  ...NATIVE_SCENARIOS,
  {
    name: 'mock',
    description: 'gateway, GET /mock: MOCK integration with a response template',
    target: 'gateway',
    path: '/test/mock',
    expect: { status: 200, body: (text) => text.includes('Hello World!') }
  },
  {
    name: 'http-proxy',
    description: 'gateway, GET /proxy/{proxy+}: HTTP_PROXY to the echo backend',
    target: 'gateway',
    path: '/test/proxy/hello',
    expect: { status: 200, body: echoedPath('/hello') }
  },
  {
    name: 'api-key',
    description: 'gateway, GET /keyed/{proxy+}: the HTTP_PROXY route behind an API key (x-api-key, usage plan)',
    target: 'gateway',
    path: '/test/keyed/hello',
    headers: { 'x-api-key': BENCH_API_KEY },
    expect: { status: 200, body: echoedPath('/hello') }
  },
  {
    name: 'http-templates',
    description: 'gateway, GET /templated/{item}: HTTP integration with request and response templates',
    target: 'gateway',
    path: '/test/templated/abc',
    expect: { status: 200, body: (text) => text === '{"path": "/items/abc", "method": "POST"}' }
  },
  {
    name: 'validated',
    description: 'gateway, POST /validated: a 20-property model validated, then MOCK',
    target: 'gateway',
    method: 'POST',
    path: '/test/validated',
    headers: { 'content-type': 'application/json' },
    body: ORDER,
    expect: { status: 200, body: (text) => text === '{"accepted": true}' }
  },
  {
    name: 'unvalidated',
    description: 'gateway, POST /unvalidated: the same route without a validator',
    target: 'gateway',
    method: 'POST',
    path: '/test/unvalidated',
    headers: { 'content-type': 'application/json' },
    body: ORDER,
    expect: { status: 200, body: (text) => text === '{"accepted": true}' }
  },
  {
    name: 'authorizer-token',
    description: 'gateway, GET /authorized/mock: the mock route behind a TOKEN Lambda authorizer, result cache warm',
    target: 'gateway',
    path: '/test/authorized/mock',
    headers: { authorization: 'bench' },
    expect: { status: 200, body: (text) => text.includes('Hello World!') }
  },
  {
    name: 'aws-proxy',
    description: 'gateway, GET /fn: AWS_PROXY to a trivial local handler',
    target: 'gateway',
    path: '/test/fn',
    expect: { status: 200, body: (text) => text === '{"ok":true}' }
  },
  {
    name: 'grpc',
    description: 'gateway, GET /grpc/{id}: transcoded to a gRPC unary call (h2c) and back to JSON',
    target: 'gateway-grpc',
    path: '/test/grpc/42?name=bench&tags=a&tags=b',
    expect: { status: 200, body: (text) => text === '{"id":"42","name":"bench","tags":["a","b"]}' }
  },
  {
    name: 'mock-observed',
    description: 'gateway with access logs and detailed metrics on, GET /mock',
    target: 'gateway-observed',
    path: '/test/mock',
    expect: { status: 200, body: (text) => text.includes('Hello World!') }
  },
  {
    name: 'http-proxy-observed',
    description: 'gateway with access logs and detailed metrics on, GET /proxy/{proxy+}',
    target: 'gateway-observed',
    path: '/test/proxy/hello',
    expect: { status: 200, body: echoedPath('/hello') }
  },
  {
    name: 'mock-throttled',
    description: 'gateway with a method throttle far above the load (100 M req/s), GET /mock on stage throttled',
    target: 'gateway-throttled',
    path: '/throttled/mock',
    expect: { status: 200, body: (text) => text.includes('Hello World!') }
  },
  {
    name: 'cache-hit',
    description: 'gateway with the stage cache on, GET /proxy/{proxy+}: every request after the first a cache hit (no backend call)',
    target: 'gateway-cached',
    path: '/test/proxy/hello',
    expect: { status: 200, body: echoedPath('/hello') }
  },
  {
    name: 'backend',
    description: 'the echo backend directly',
    target: 'echo',
    path: '/hello',
    expect: { status: 200, body: echoedPath('/hello') }
  },
  {
    name: FLOOR,
    description: 'node:http + undici Pool proxy to the echo backend: the floor',
    target: 'floor',
    path: '/proxy/hello',
    expect: { status: 200, body: echoedPath('/hello') }
  }
]

/** The median figures of one scenario, as goals see them. */
export interface Figures {
  rps: number
  latencyMs: Record<string, number>
  /** CPU µs the scenario's own server spent per request; null when not measured. */
  cpuUsPerRequest: number | null
}

export interface Goal {
  /** The scenario row that shows the pass/fail mark. */
  scenario: string
  text: string
  /** null when a scenario it needs did not run. */
  evaluate(get: (name: string) => Figures | undefined): { pass: boolean | null; detail: string }
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`

/** A goal of the form "scenario ≥ min × base req/s". */
function ratioGoal (scenario: string, base: string, min: number, text: string): Goal {
  return {
    scenario,
    text,
    evaluate (get) {
      const a = get(scenario)
      const b = get(base)
      if (a === undefined || b === undefined) return { pass: null, detail: 'not measured' }
      const ratio = a.rps / b.rps
      return { pass: ratio >= min, detail: `${pct(ratio)} of ${base}` }
    }
  }
}

export const GOALS: readonly Goal[] = [
  // Against nginx (issue 11's targets), when nginx ran.
  ...NATIVE_GOALS,
  {
    scenario: 'mock',
    text: 'mock ≥ 40% of hello world req/s',
    evaluate (get) {
      const mock = get('mock')
      const ceiling = get(CEILING)
      if (mock === undefined || ceiling === undefined) return { pass: null, detail: 'not measured' }
      const ratio = mock.rps / ceiling.rps
      return { pass: ratio >= 0.4, detail: `${pct(ratio)} of hello world` }
    }
  },
  {
    scenario: 'http-proxy',
    text: 'http_proxy ≥ 2× the floor req/s, p99 ≤ the floor p99',
    evaluate (get) {
      const proxy = get('http-proxy')
      const floor = get(FLOOR)
      if (proxy === undefined || floor === undefined) return { pass: null, detail: 'not measured' }
      const ratio = proxy.rps / floor.rps
      const p99 = proxy.latencyMs.p99!
      const floorP99 = floor.latencyMs.p99!
      return {
        pass: ratio >= 2 && p99 <= floorP99,
        detail: `${ratio.toFixed(2)}× the floor req/s, p99 ${p99.toFixed(2)} ms vs ${floorP99.toFixed(2)} ms`
      }
    }
  },
  ratioGoal('api-key', 'http-proxy', 0.8, 'route behind an API key ≥ 80% of the same route unprotected (http_proxy) req/s'),
  ratioGoal('http-templates', 'http-proxy', 0.7, 'http with templates ≥ 70% of http_proxy req/s'),
  ratioGoal('grpc', 'http-proxy', 0.6, 'transcoded gRPC ≥ 60% of the http_proxy route req/s'),
  // authorizer-token, aws-proxy, validated, mock-observed, http-proxy-observed, mock-throttled and cache-hit are judged on interleaved
  // pairs (bench/e2e/pairs.ts: PAIRS), not on rows measured minutes apart.
]
