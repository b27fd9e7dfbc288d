// The worker pool, started before the main thread has loaded anything (issue 11, start-up).
// A worker's start is mostly its module graph (router, pipeline, integrations, undici,
// uWebSockets.js, the WASM engine's host): started first, it loads in parallel with the main
// thread's own modules and its load and check of the configuration, instead of after them.
// The pool's workers get a boot channel's name as workerData; each asks on it for its
// WorkerInit (pool/worker.ts waits for it before it compiles), which the main thread sends
// once the configuration is checked (handOver). A worker piscina starts later (a
// replacement) asks the same way and gets the same WorkerInit.
//
// This module stays light on purpose (piscina and node: modules only): the CLI imports it
// before the rest of the gateway.
import { BroadcastChannel } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { randomUUID } from 'node:crypto'
import { Piscina } from 'piscina'
import type { WorkerInit } from './protocol.js'
import type { BootData, BootMessage } from './boot.js'

/** Where requests are served: one front on the main thread batching to the workers, or one front per worker. */
export type FrontMode = 'main' | 'workers'

/**
 * The front per worker: on a quiet 2-core machine, 1 worker, it served 1.9× the main-thread
 * front's req/s on MOCK and 1.7× on HTTP_PROXY (README, "The front per worker").
 */
export const DEFAULT_FRONT: FrontMode = 'workers'

/** Tasks one worker runs at once with the main-thread front: its batches mostly wait on backends, not on the CPU. */
export const CONCURRENT_BATCHES_PER_WORKER = 256

/**
 * Hot-path workers when neither the CLI nor the config says. The main-thread front: one per
 * core, less the core the front (main thread) keeps busy. Measured on the 2-core development
 * machine at a fixed 5 000 req/s (gateway CPU per request, medians of 3 alternating runs):
 * HTTP_PROXY 82 µs with 1 worker against 100 µs with 2 (cross-core wake-ups, DESIGN.md), MOCK
 * 46 µs against 51 µs. The front per worker: one per core, as the main thread serves no
 * request. Cores are those the process may run on (`taskset -c 1` gives 1).
 */
export function defaultWorkerCount(front: FrontMode = 'main'): number {
  return Math.max(1, availableParallelism() - (front === 'main' ? 1 : 0))
}

/** A pool whose workers are loading; handOver gives them their WorkerInit. */
export class PrestartedPool {
  readonly pool: Piscina
  readonly front: FrontMode
  readonly threads: number
  readonly #channel: BroadcastChannel
  #init: WorkerInit | null = null
  /** Reply channels of workers that asked before handOver. */
  #waiting: string[] = []

  constructor(workerUrl: URL, front: FrontMode, threads: number) {
    this.front = front
    this.threads = threads
    const boot = `backplane-boot-${randomUUID()}`
    this.#channel = new BroadcastChannel(boot)
    this.#channel.unref()
    this.#channel.onmessage = (ev) => {
      const msg = (ev as { data: BootMessage }).data
      if (msg.type !== 'want') return
      if (this.#init === null) this.#waiting.push(msg.reply)
      else this.#answer(msg.reply)
    }
    this.pool = createPool(workerUrl, front, threads, { boot } satisfies BootData)
  }

  /** Sends every worker, present and future, its WorkerInit. */
  handOver(init: WorkerInit): void {
    this.#init = init
    for (const reply of this.#waiting) this.#answer(reply)
    this.#waiting = []
  }

  #answer(reply: string): void {
    // One message per worker on its own channel: the gateway is cloned once per worker.
    const ch = new BroadcastChannel(reply)
    ch.postMessage({ type: 'init', init: this.#init! } satisfies BootMessage)
    ch.close()
  }

  async destroy(): Promise<void> {
    this.#channel.close()
    await this.pool.destroy()
  }
}

/** The hot-path workers' module (pool/worker.ts). */
export const WORKER_URL = new URL('./worker.js', import.meta.url)

/** The hot-path pool of either front: a fixed count of workers that live as long as the gateway. */
function createPool(workerUrl: URL, front: FrontMode, threads: number, workerData: unknown): Piscina {
  return new Piscina({
    filename: workerUrl.href,
    minThreads: threads,
    maxThreads: threads,
    // The front per worker runs one long-lived task per worker (front/supervisor.ts).
    concurrentTasksPerWorker: front === 'workers' ? 1 : CONCURRENT_BATCHES_PER_WORKER,
    // Workers keep serving backend I/O between tasks: they must never block in Atomics.wait.
    atomics: 'disabled',
    idleTimeout: Infinity,
    workerData,
  })
}

/** The pool a front runs on: the pre-started one, given its WorkerInit now, or a new one started with it. */
export function takeOverOrCreatePool(prestarted: PrestartedPool | undefined, init: WorkerInit, workerUrl: URL, front: FrontMode, threads: number): Piscina {
  if (prestarted === undefined) return createPool(workerUrl, front, threads, init)
  prestarted.handOver(init)
  return prestarted.pool
}

/**
 * Starts the hot-path workers for a gateway about to be created with `front` and `workers`
 * (0: the default count), before anything else loads; pass the result to createGateway as
 * `prestarted`.
 */
export function startWorkers(front: FrontMode, workers: number): PrestartedPool {
  return new PrestartedPool(WORKER_URL, front, workers > 0 ? workers : defaultWorkerCount(front))
}
