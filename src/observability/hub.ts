// The main thread's end of the observability channel: the workers' counters (read in
// place from their SharedArrayBuffers), their histograms (asked for on each scrape), which
// configuration each has compiled (/ready), main-thread counters (reloads) and gauges
// (pool, front, process), all rendered in Prometheus' text format.
import { BroadcastChannel } from 'node:worker_threads'
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { mergeWorkers, renderSeries, type WorkerView } from './metrics.js'
import type { ObservabilityMessage } from './protocol.js'

/** How long a scrape waits for the workers' histograms; a worker that does not answer in time contributes its last snapshot. */
export const SCRAPE_TIMEOUT_MS = 1000

/** Gauges the hub reads on each scrape (from the pool and the front). */
export interface GaugeSource {
  /** Worker threads running. */
  threads(): number
  /** Their thread ids (a worker piscina replaced no longer counts for /ready). */
  threadIds(): readonly number[]
  /** Batches waiting for a worker. */
  queueSize(): number
  /** piscina's utilization (0..1). */
  utilization(): number
  /** Requests received and not yet answered. */
  inFlight(): number
}

interface WorkerState extends WorkerView {
  version: number
}

export class ObservabilityHub {
  readonly channelName = `backplane-observability-${randomUUID()}`
  readonly #channel: BroadcastChannel
  readonly #workers = new Map<number, WorkerState>()
  #gauges: GaugeSource | null = null
  /** The newest configuration version published; workers are ready once they have compiled it. */
  #version = 0
  #scrapeId = 0
  readonly #waiting = new Map<number, { pending: Set<number>; done: () => void }>()
  #reloadsOk = 0
  #reloadsRefused = 0
  readonly #startedAt = Date.now()
  #flushWaiter: { pending: Set<number>; done: () => void } | null = null

  constructor() {
    this.#channel = new BroadcastChannel(this.channelName)
    this.#channel.unref()
    this.#channel.onmessage = (ev) => this.#onMessage((ev as { data: ObservabilityMessage }).data)
  }

  set gauges(g: GaugeSource) {
    this.#gauges = g
  }

  #onMessage(msg: ObservabilityMessage): void {
    switch (msg.type) {
      case 'register': {
        const r = msg.registration
        const w = this.#workers.get(r.threadId)
        if (w === undefined) this.#workers.set(r.threadId, { counters: new Int32Array(r.counters), labels: r.labels, histograms: [], version: -1 })
        else w.labels = r.labels
        break
      }
      case 'compiled': {
        const w = this.#workers.get(msg.threadId)
        if (w !== undefined && msg.version > w.version) w.version = msg.version
        break
      }
      case 'histograms': {
        const w = this.#workers.get(msg.threadId)
        if (w !== undefined) w.histograms = msg.histograms
        const wait = this.#waiting.get(msg.id)
        if (wait !== undefined) {
          wait.pending.delete(msg.threadId)
          if (wait.pending.size === 0) wait.done()
        }
        break
      }
      case 'flushed':
        if (this.#flushWaiter !== null) {
          this.#flushWaiter.pending.delete(msg.threadId)
          if (this.#flushWaiter.pending.size === 0) this.#flushWaiter.done()
        }
        break
      default:
        break
    }
  }

  /** The main thread published configuration `version` (a reload). */
  published(version: number): void {
    this.#version = version
    this.#reloadsOk++
  }

  reloadRefused(): void {
    this.#reloadsRefused++
  }

  /** Running workers that have compiled the newest configuration. */
  readyWorkers(): number {
    const live = this.#gauges?.threadIds() ?? [...this.#workers.keys()]
    let n = 0
    for (const id of live) {
      const w = this.#workers.get(id)
      if (w !== undefined && w.version >= this.#version) n++
    }
    return n
  }

  /** Every worker the pool runs has compiled the newest configuration. */
  ready(): boolean {
    const threads = this.#gauges?.threads() ?? 0
    return threads > 0 && this.readyWorkers() >= threads
  }

  /** SIGUSR1: every worker reopens its log files. */
  reopenLogs(): void {
    this.#channel.postMessage({ type: 'reopen' } satisfies ObservabilityMessage)
  }

  /** Asks every worker to write what it has queued (logs, spans); bounded by `ms`. */
  async flush(ms = 2000): Promise<void> {
    if (this.#workers.size === 0) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), ms)
      const done = () => {
        clearTimeout(timer)
        this.#flushWaiter = null
        resolve()
      }
      this.#flushWaiter = { pending: new Set(this.#workers.keys()), done }
      this.#channel.postMessage({ type: 'flush' } satisfies ObservabilityMessage)
    })
  }

  /** Asks the workers for their histograms (bounded by SCRAPE_TIMEOUT_MS), then renders everything. */
  async scrape(): Promise<string> {
    if (this.#workers.size > 0) {
      const id = ++this.#scrapeId
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => done(), SCRAPE_TIMEOUT_MS)
        const done = () => {
          clearTimeout(timer)
          this.#waiting.delete(id)
          resolve()
        }
        // Only running workers are asked; one piscina replaced keeps its last snapshot.
        const live = this.#gauges?.threadIds() ?? [...this.#workers.keys()]
        const pending = new Set(live.filter((tid) => this.#workers.has(tid)))
        if (pending.size === 0) {
          done()
          return
        }
        this.#waiting.set(id, { pending, done })
        this.#channel.postMessage({ type: 'scrape', id } satisfies ObservabilityMessage)
      })
    }
    return this.render()
  }

  /** /metrics as it stands (histograms as of the last scrape). */
  render(): string {
    const { series, droppedLogLines } = mergeWorkers(this.#workers.values())
    let out = renderSeries(series)
    const g = this.#gauges
    const gauge = (name: string, help: string, value: number, type = 'gauge') => {
      out += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`
    }
    out += `# HELP backplane_reloads_total Configuration reloads (SIGHUP), by result\n# TYPE backplane_reloads_total counter\nbackplane_reloads_total{result="ok"} ${this.#reloadsOk}\nbackplane_reloads_total{result="refused"} ${this.#reloadsRefused}\n`
    gauge('backplane_log_lines_dropped_total', 'Access and execution log lines dropped because their destination fell behind', droppedLogLines, 'counter')
    gauge('backplane_config_version', 'The configuration version in force (0 until the first reload)', this.#version)
    gauge('backplane_workers_ready', 'Workers that have compiled the configuration in force', this.readyWorkers())
    if (g !== null) {
      gauge('backplane_pool_threads', 'Hot-path worker threads', g.threads())
      gauge('backplane_pool_queue_size', 'Batches waiting for a worker', g.queueSize())
      gauge('backplane_pool_utilization', 'Share of the pool busy running batches (0 to 1)', g.utilization())
      gauge('backplane_requests_in_flight', 'Requests received and not yet answered', g.inFlight())
    }
    const mem = process.memoryUsage()
    const cpu = process.cpuUsage()
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes', mem.rss)
    gauge('process_heap_bytes', 'V8 heap used by the main thread, in bytes', mem.heapUsed)
    gauge('process_cpu_seconds_total', 'User and system CPU time spent, in seconds (every thread)', (cpu.user + cpu.system) / 1e6, 'counter')
    gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds', Math.floor(this.#startedAt / 1000))
    gauge('nodejs_eventloop_utilization', "The main thread's event loop utilization since start (0 to 1)", performance.eventLoopUtilization().utilization)
    return out
  }

  close(): void {
    for (const w of this.#waiting.values()) w.done()
    this.#channel.close()
  }
}
