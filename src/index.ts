// createGateway(): the programmatic entry. Loads and checks the config on the main
// thread (errors surface here, with file and pointer), then starts the workers (or takes
// over those startWorkers began before the load: pool/prestart.ts) and the front end.
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { compileGateway } from './pipeline/compile.js'
import { checkTemplates } from './mapping/check-templates.js'
import { loadGateway, type LoadOptions, type LoadResult } from './config/load.js'
import { Codes, ConfigError, type ConfigProblem } from './errors.js'
import { FrontServer } from './front/server.js'
import { probePort } from './front/port-probe.js'
import { RequestDispatcher } from './pool/dispatcher.js'
import { WorkerFronts, type WorkerFrontsOptions } from './front/supervisor.js'
import { startFunctionHostThread, type FunctionHostThread } from './functions/host-thread.js'
import type { FunctionsConfig } from './functions/config.js'
import { randomUUID } from 'node:crypto'
import { ObservabilityHub } from './observability/hub.js'
import { startAdminListener, type AdminListener } from './observability/admin.js'
import { withCanaryApis } from './config/canary-settings.js'
import { QuotaState } from './traffic/quota-state.js'
import { createThrottleMemory } from './traffic/throttle.js'
import { ResponseCacheMemory } from './response-cache/memory.js'
import type { SharedTrafficMemory } from './pool/protocol.js'
import { DEFAULT_FRONT, WORKER_URL, defaultWorkerCount, type PrestartedPool, type FrontMode } from './pool/prestart.js'

/** How long a stopping gateway waits for requests in flight: API Gateway's 29 s integration timeout. */
export const DEFAULT_DRAIN_MS = 29_000

export type ReloadResult =
  | { readonly ok: true; readonly version: number; readonly warnings: readonly ConfigProblem[] }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] }

export interface Gateway {
  readonly host: string
  readonly port: number
  readonly url: string
  readonly warnings: readonly ConfigProblem[]
  /** The admin listener's base URL (/metrics, /health, /ready), or null when off. */
  readonly adminUrl: string | null
  /** SIGUSR1: access log files are closed and opened again by name (logrotate). */
  reopenLogs(): void
  /**
   * Reads the API files and config again and, when they hold no error, swaps every worker
   * to the new configuration (requests in flight finish on the old one) and reloads the
   * function handlers (changed files are picked up).
   */
  reload(): ReloadResult
  /** Every worker has compiled the newest configuration (what the admin listener's /ready answers). */
  ready(): boolean
  /**
   * Stops accepting connections and drains: requests on connections already open are
   * still served, each reply closing its connection, until none is in flight (at most
   * `drainMs`, default DEFAULT_DRAIN_MS); then the workers stop, after the last reply.
   */
  close(drainMs?: number): Promise<void>
  /**
   * The immediate stop (a second signal), before process.exit: with the per-worker front,
   * every worker closes its sockets first (a worker ending with uWS sockets open aborts
   * the process). Bounded; a no-op for the main-thread front.
   */
  closeNow(): Promise<void>
}

/** Which uWebSockets.js build runs: the native binary, or the slow JS fallback. */
export function describeFrontEnd(): string {
  const require = createRequire(import.meta.url)
  const pkgPath = require.resolve('uWebSockets.js/package.json')
  const pkg = require(pkgPath) as { name: string; version: string }
  const binary = pkgPath.replace(/package\.json$/, `binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`)
  const native = existsSync(binary) && process.env.UWS_USE_FALLBACK === undefined
  return `${pkg.name}@${pkg.version} (${native ? 'native' : 'JS fallback: slow'})`
}

/** Loads and checks everything the workers will compile: errors throw a ConfigError. */
function loadChecked(opts: LoadOptions): { loaded: LoadResult; warnings: ConfigProblem[] } {
  const loaded = loadGateway(opts)
  // Compile here too: route conflicts and broken templates are load errors, not worker crashes.
  const problems: ConfigProblem[] = []
  compileGateway(loaded.gateway, problems)
  checkTemplates(withCanaryApis(loaded.gateway.apis), problems, opts.strict === true)
  // --strict: a warning refuses the configuration like an error.
  if (opts.strict === true && (loaded.warnings.length > 0 || problems.length > 0)) throw new ConfigError([...loaded.warnings, ...problems].map((p) => ({ ...p, severity: 'error' as const })))
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(problems)
  return { loaded, warnings: [...loaded.warnings, ...problems] }
}

export { DEFAULT_FRONT, startWorkers, type FrontMode } from './pool/prestart.js'

/** createGateway's options: what the loader reads, and how the front runs. */
export interface GatewayOptions extends LoadOptions {
  /** 'workers' (DEFAULT_FRONT): each worker runs its own uWebSockets.js app on the shared port (issue 11); 'main': one front on the main thread. */
  readonly front?: FrontMode | undefined
  /**
   * Workers started before this call (startWorkers, pool/prestart.ts), loading their modules while the
   * configuration loads. Used when their count and mode are the configuration's; else
   * destroyed and a pool of the right size made. Always taken over: createGateway destroys it on failure.
   */
  readonly prestarted?: PrestartedPool | undefined
}

/** The front as createGateway drives it, whichever mode runs. */
interface RunningFront {
  listen(host: string, port: number): Promise<number>
  publishConfig(gateway: unknown): number
  stopListening(): void
  drain(ms: number): Promise<void>
  close(): Promise<void>
  closeNow(): Promise<void>
}

/** What both fronts' pools are made from (DispatcherOptions adds the main front's reply hooks). */
type PoolOptions = WorkerFrontsOptions

/** The main-thread front and the batching dispatcher (the design card's first shape). */
function startMainFront(hub: ObservabilityHub, pool: PoolOptions): RunningFront {
  const front = new FrontServer({ recordsStayInThread: false })
  const dispatcher = new RequestDispatcher({
    ...pool,
    onReply: (reply) => front.deliver(reply),
    isOpen: (id) => front.pending.has(id),
  })
  front.dispatcher = dispatcher
  hub.gauges = {
    threads: () => dispatcher.pool.threads.length,
    threadIds: () => dispatcher.pool.threads.map((w) => w.threadId),
    queueSize: () => dispatcher.pool.queueSize,
    utilization: () => dispatcher.pool.utilization,
    inFlight: () => front.pending.size,
  }
  return {
    listen: (host, port) => front.listen(host, port),
    publishConfig: (g) => dispatcher.publishConfig(g),
    stopListening: () => front.stopListening(),
    drain: (ms) => front.drain(ms),
    async close() {
      front.close()
      await dispatcher.close()
    },
    closeNow: () => Promise.resolve(),
  }
}

/** One front per worker (front/supervisor.ts); the main thread serves no request. */
function startWorkerFronts(hub: ObservabilityHub, pool: PoolOptions): RunningFront {
  const fronts = new WorkerFronts(pool)
  hub.gauges = {
    // /ready: every front listens (threadIds) and has compiled the newest configuration.
    threads: () => fronts.threads,
    threadIds: () => fronts.listeningThreadIds(),
    queueSize: () => 0,
    utilization: () => fronts.pool.utilization,
    inFlight: () => fronts.inFlight(),
  }
  return {
    listen: (host, port) => fronts.listen(host, port),
    publishConfig: (g) => fronts.publishConfig(g),
    stopListening: () => fronts.stopListening(),
    drain: (ms) => fronts.drain(ms),
    close: () => fronts.close(),
    closeNow: () => fronts.closeNow(),
  }
}

export async function createGateway(opts: GatewayOptions): Promise<Gateway> {
  const mode = opts.front ?? DEFAULT_FRONT
  let prestarted = opts.prestarted
  let loaded: LoadResult
  let warnings: ConfigProblem[]
  try {
    ;({ loaded, warnings } = loadChecked(opts))
    // Before anything starts: a port another process holds is refused, not shared.
    await probePort(loaded.gateway.host, loaded.gateway.port)
  } catch (err) {
    await prestarted?.destroy()
    throw err
  }
  // The configuration may name another worker count than the one the workers were started with.
  const threads = loaded.gateway.workers > 0 ? loaded.gateway.workers : defaultWorkerCount(mode)
  if (prestarted !== undefined && (prestarted.front !== mode || prestarted.threads !== threads)) {
    await prestarted.destroy()
    prestarted = undefined
  }

  // Functions run in their own threads, apart from the hot-path workers (issue 5). The
  // workers start meanwhile (their module graph and compile take seconds on a loaded
  // machine); nothing is served before the function host is up (it is reached by channel
  // name, and a message sent before it listens would be lost).
  const functionsHost = loaded.functions === null ? null : `backplane:functions:${randomUUID()}`
  const functionsStart = loaded.functions === null ? Promise.resolve(null) : startFunctionHostThread(loaded.functions.entries as FunctionsConfig, { baseDir: loaded.functions.baseDir, name: functionsHost!, redis: loaded.gateway.state.redis })
  // Usage plan quotas: the shared counters, read back from state.dir (or Redis) before any worker serves.
  let quotas: QuotaState
  try {
    quotas = await QuotaState.create(loaded.gateway, { log: (line) => process.stderr.write(`${line}\n`) })
  } catch (err) {
    await prestarted?.destroy()
    throw err
  }
  // Token buckets for every bucket the configuration names, shared by all workers.
  const traffic: SharedTrafficMemory = { quota: quotas.memory, throttleMemory: createThrottleMemory(loaded.gateway) }
  // The stage caches' shared memory (response-cache/memory.ts), on the gateway the workers get.
  const responseCaches = new ResponseCacheMemory()
  const hub = new ObservabilityHub()
  const served = responseCaches.attach(loaded.gateway)
  const pool: PoolOptions = { observabilityChannel: hub.channelName, functionsHost, workerUrl: WORKER_URL, gateway: served, workers: served.workers, traffic, prestarted }
  const front = mode === 'workers' ? startWorkerFronts(hub, pool) : startMainFront(hub, pool)
  let functions: FunctionHostThread | null = null
  let port: number
  let admin: AdminListener | null = null
  try {
    functions = await functionsStart
    port = await front.listen(loaded.gateway.host, loaded.gateway.port)
    if (loaded.gateway.admin !== null) admin = await startAdminListener(hub, loaded.gateway.admin.host, loaded.gateway.admin.port, responseCaches)
  } catch (err) {
    hub.close()
    await front.close()
    await functions?.close()
    await quotas.close()
    throw err
  }
  const host = loaded.gateway.host
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    warnings,
    adminUrl: admin === null ? null : admin.url,
    reopenLogs() {
      hub.reopenLogs()
    },
    ready() {
      return hub.ready()
    },
    reload() {
      // Read and check the files again; only a configuration without errors replaces the running one.
      let next: ReturnType<typeof loadChecked>
      try {
        next = loadChecked(opts)
      } catch (err) {
        if (err instanceof ConfigError) {
          hub.reloadRefused()
          return { ok: false, problems: err.problems }
        }
        throw err
      }
      const notes: ConfigProblem[] = [...next.warnings]
      const g = next.loaded.gateway
      if (g.host !== loaded.gateway.host || g.port !== loaded.gateway.port || g.workers !== loaded.gateway.workers) {
        notes.push({ code: Codes.GATEWAY, file: opts.configFile ?? '', pointer: '', message: 'listen address, port and workers change on restart only', severity: 'warning' })
      }
      if ((next.loaded.functions === null) !== (functions === null)) {
        notes.push({ code: Codes.GATEWAY, file: opts.configFile ?? '', pointer: '/functions', message: 'adding or removing the functions section takes a restart', severity: 'warning' })
      }
      if ((g.admin === null) !== (loaded.gateway.admin === null) || (g.admin !== null && (g.admin.host !== loaded.gateway.admin!.host || g.admin.port !== loaded.gateway.admin!.port))) {
        notes.push({ code: Codes.GATEWAY, file: opts.configFile ?? '', pointer: '/admin', message: 'the admin listener changes on restart only', severity: 'warning' })
      }
      try {
        quotas.adopt(g)
      } catch (err) {
        hub.reloadRefused()
        return { ok: false, problems: [{ code: Codes.GATEWAY, file: opts.configFile ?? '', pointer: '/usagePlans', message: (err as Error).message, severity: 'error' }] }
      }
      const version = front.publishConfig(responseCaches.attach(g))
      hub.published(version)
      functions?.reload((next.loaded.functions?.entries ?? {}) as FunctionsConfig)
      return { ok: true, version, warnings: notes }
    },
    async close(drainMs = DEFAULT_DRAIN_MS) {
      front.stopListening()
      // The pool stays up until the drain ends: a request that arrives on an open
      // connection meanwhile is answered, not failed by a destroyed pool.
      await front.drain(drainMs)
      // Access and execution log lines and spans still queued in the workers go out first.
      await hub.flush()
      await admin?.close()
      hub.close()
      await front.close()
      await functions?.close()
      // After the last request: the last counts reach the store.
      await quotas.close()
      responseCaches.close()
    },
    closeNow() {
      return front.closeNow()
    },
  }
}

export { loadGateway } from './config/load.js'
export { compileGateway } from './pipeline/compile.js'
export { ConfigError, formatProblem } from './errors.js'
