// The main thread's side of the per-worker front (issue 11): it starts one long-lived
// piscina task per worker (front/worker-front.ts), each running its own uWebSockets.js app
// on the shared port, and supervises them: configuration reloads (the config channel, as
// with the batching dispatcher), the stop's drain, /ready (every front listening with the
// newest configuration), the in-flight gauge. No request passes through this thread.
import { BroadcastChannel, MessageChannel, type MessagePort } from 'node:worker_threads'
import { randomUUID } from 'node:crypto'
import type { Piscina } from 'piscina'
import { defaultWorkerCount, takeOverOrCreatePool, type PrestartedPool } from '../pool/prestart.js'
import { pickFreePort } from './port-probe.js'
import { ABORT_SLOTS, type ConfigMessage, type FrontCommand, type FrontEvent, type FrontTask, type SharedTrafficMemory, type WorkerInit } from '../pool/protocol.js'

/** How long the immediate stop (a second signal) waits for the fronts to close their sockets. */
export const CLOSE_NOW_WAIT_MS = 1_000
/** Tries at a free port for port 0 before start-up fails. */
const PICK_PORT_ATTEMPTS = 3
/** A worker that died is given its front again after this pause (no hot loop if it dies at once). */
const RESTART_DELAY_MS = 100

export interface WorkerFrontsOptions {
  /** URL of the worker module (pool/worker.js). */
  readonly workerUrl: URL
  /** The normalized gateway each worker compiles. */
  readonly gateway: unknown
  /** Name of the function host's channel, or null. */
  readonly functionsHost: string | null
  /** Threads; 0 means defaultWorkerCount('workers'): one per core, the main thread serves no request. */
  readonly workers: number
  /** Name of the observability channel (observability/hub.ts). */
  readonly observabilityChannel: string
  /** Quota counters and token buckets, passed on in WorkerInit. */
  readonly traffic: SharedTrafficMemory
  /** Workers started before the configuration was loaded (pool/prestart.ts), of the right count and mode; else a pool is made. */
  readonly prestarted?: PrestartedPool | undefined
}

/** One worker's front, as the supervisor sees it. */
interface Slot {
  readonly index: number
  control: MessagePort | null
  /** threadId of the worker whose front listens, or -1. */
  threadId: number
  /** Resolves the wait for this front's next 'drained' or 'closed'. */
  waiter: ((ev: FrontEvent) => void) | null
}

export class WorkerFronts {
  readonly pool: Piscina
  readonly threads: number
  readonly #slots: Slot[] = []
  readonly #configChannel: BroadcastChannel
  #latest: (ConfigMessage & { type: 'config' }) | null = null
  readonly #inFlight: SharedArrayBuffer
  readonly #inFlightView: Int32Array
  #host = ''
  #port = 0
  /** Set once close() began: a front that ends is not started again. */
  #closing = false
  readonly #prestarted: PrestartedPool | null

  constructor(opts: WorkerFrontsOptions) {
    const configChannel = `backplane-config-${randomUUID()}`
    // Replies and cancels never cross threads with this front: the channels are named but idle.
    const init: WorkerInit = {
      gateway: opts.gateway,
      replyChannel: `backplane-replies-${randomUUID()}`,
      functionsHost: opts.functionsHost,
      configChannel,
      observabilityChannel: opts.observabilityChannel,
      cancelChannel: `backplane-cancel-${randomUUID()}`,
      abortFlags: new SharedArrayBuffer(ABORT_SLOTS * Int32Array.BYTES_PER_ELEMENT),
      ...opts.traffic,
    }
    this.threads = opts.workers > 0 ? opts.workers : defaultWorkerCount('workers')
    this.#prestarted = opts.prestarted ?? null
    this.pool = takeOverOrCreatePool(opts.prestarted, init, opts.workerUrl, 'workers', this.threads)
    this.#inFlight = new SharedArrayBuffer(this.threads * Int32Array.BYTES_PER_ELEMENT)
    this.#inFlightView = new Int32Array(this.#inFlight)
    for (let i = 0; i < this.threads; i++) this.#slots.push({ index: i, control: null, threadId: -1, waiter: null })
    // A worker started after a reload begins from workerData: it says hello and gets the latest.
    this.#configChannel = new BroadcastChannel(configChannel)
    this.#configChannel.unref()
    this.#configChannel.onmessage = (ev) => {
      if ((ev as { data: ConfigMessage }).data.type === 'hello' && this.#latest !== null) this.#configChannel.postMessage(this.#latest)
    }
  }

  /**
   * Starts every front on `host:port` (the port was probed free before). For port 0 a free
   * port is picked first (uWS sets SO_REUSEPORT only for a given port; another process may
   * take it between the pick and the listen: then a new one is picked). Resolves with the
   * port once the first front listens: the gateway serves from then on, as the main-thread
   * front does before its workers are up; the others join as their workers finish starting
   * (a worker's start, module graph and compile, takes seconds on a loaded machine), and
   * /ready waits for all of them.
   */
  async listen(host: string, port: number): Promise<number> {
    this.#host = host
    for (let attempt = 1; ; attempt++) {
      this.#port = port === 0 ? await pickFreePort(host) : port
      try {
        await this.#start(this.#slots[0]!)
        break
      } catch (err) {
        if (port !== 0 || attempt === PICK_PORT_ATTEMPTS) throw err
      }
    }
    for (const slot of this.#slots.slice(1)) this.#start(slot).catch((err: unknown) => console.error(`worker front ${slot.index} cannot listen:`, err))
    return this.#port
  }

  /** Runs slot's task; resolves with the port once its front listens. */
  #start(slot: Slot): Promise<number> {
    const { port1, port2 } = new MessageChannel()
    slot.control = port1
    slot.threadId = -1
    const task: FrontTask = { slot: slot.index, host: this.#host, port: this.#port, control: port2, inFlight: this.#inFlight }
    return new Promise<number>((resolve, reject) => {
      let listening = false
      port1.on('message', (ev: FrontEvent) => {
        switch (ev.type) {
          case 'listening':
            listening = true
            slot.threadId = ev.threadId
            resolve(ev.port)
            break
          case 'listen-failed':
            reject(new Error(ev.message))
            break
          default: {
            const w = slot.waiter
            slot.waiter = null
            w?.(ev)
          }
        }
      })
      this.pool.run(task, { name: 'serveFront', transferList: [port2] }).then(
        () => this.#ended(slot, port1),
        (err: unknown) => {
          this.#ended(slot, port1)
          if (!listening) {
            reject(err)
            return
          }
          // The worker died (piscina replaces it): its slot gets a front again.
          if (this.#closing) return
          console.error('worker front ended:', err)
          setTimeout(() => {
            if (!this.#closing) this.#start(slot).catch((e: unknown) => console.error('worker front restart failed:', e))
          }, RESTART_DELAY_MS).unref()
        },
      )
    })
  }

  #ended(slot: Slot, port: MessagePort): void {
    if (slot.control === port) {
      slot.threadId = -1
      slot.control = null
      Atomics.store(this.#inFlightView, slot.index, 0)
    }
    port.close()
    const w = slot.waiter
    slot.waiter = null
    w?.({ type: 'closed' })
  }

  /** Sends a reloaded configuration to every worker; each swaps to it between requests. */
  publishConfig(gateway: unknown): number {
    const version = (this.#latest?.version ?? 0) + 1
    this.#latest = { type: 'config', version, gateway }
    this.#configChannel.postMessage(this.#latest)
    return version
  }

  /** Thread ids of the workers whose front listens now (/ready counts only those). */
  listeningThreadIds(): number[] {
    const ids: number[] = []
    for (const s of this.#slots) if (s.threadId !== -1) ids.push(s.threadId)
    return ids
  }

  /** Requests the fronts hold unanswered (published by each every IN_FLIGHT_PUBLISH_MS). */
  inFlight(): number {
    let n = 0
    for (let i = 0; i < this.threads; i++) n += Atomics.load(this.#inFlightView, i)
    return n
  }

  #send(cmd: FrontCommand): void {
    for (const s of this.#slots) s.control?.postMessage(cmd)
  }

  /** Sends `cmd` to every front and waits for each one's answer (bounded by `ms`). */
  #ask(cmd: FrontCommand, ms: number): Promise<void> {
    const waits = this.#slots
      .filter((s) => s.control !== null)
      .map(
        (s) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              s.waiter = null
              resolve()
            }, ms)
            s.waiter = () => {
              clearTimeout(timer)
              resolve()
            }
            s.control!.postMessage(cmd)
          }),
      )
    return Promise.all(waits).then(() => undefined)
  }

  /** Stops accepting connections in every front; requests already received go on. */
  stopListening(): void {
    this.#send({ type: 'stop-listening' })
  }

  /**
   * The stop's drain, in every front at once: requests on connections already open are
   * still served, each reply closing its connection, until none is in flight (or `ms`).
   */
  drain(ms: number): Promise<void> {
    // A front replaced during the drain has nothing in flight: waiting for the others is enough.
    return this.#ask({ type: 'drain', ms }, ms + 1_000)
  }

  /** Closes every front's connections and app, then the pool. */
  async close(waitMs = 5_000): Promise<void> {
    this.#closing = true
    await this.#ask({ type: 'close' }, waitMs)
    this.#configChannel.close()
    if (this.#prestarted !== null) await this.#prestarted.destroy()
    else await this.pool.destroy()
  }

  /**
   * The immediate stop (a second signal): every front closes its sockets at once, which a
   * worker must do before the process exits (FrontServer.closeAll); bounded by CLOSE_NOW_WAIT_MS.
   */
  async closeNow(): Promise<void> {
    this.#closing = true
    await this.#ask({ type: 'close' }, CLOSE_NOW_WAIT_MS)
  }
}
