// Main thread → workers. Requests of one event-loop turn go out as one piscina task
// (DESIGN.md: a task per request caps the gateway at a twentieth of the front end);
// replies come back in the task result (ready at once) or, later, on a channel in
// groups of those a worker finished in the same turn.
import { BroadcastChannel } from 'node:worker_threads'
import { randomUUID } from 'node:crypto'
import type { Piscina } from 'piscina'
import { defaultWorkerCount, takeOverOrCreatePool, type PrestartedPool } from './prestart.js'
import { ABORT_SLOTS, ABORT_SLOT_MASK, type BatchTask, type CancelMessage, type ConfigMessage, type ReplyRecord, type RequestRecord, type SharedTrafficMemory, type WorkerInit } from './protocol.js'

export { defaultWorkerCount, CONCURRENT_BATCHES_PER_WORKER } from './prestart.js'

export interface DispatcherOptions {
  /** URL of the worker module (pool/worker.js). */
  readonly workerUrl: URL
  /** The normalized gateway each worker compiles. */
  readonly gateway: unknown
  /** Name of the function host's channel, or null. */
  readonly functionsHost: string | null
  /** Threads; 0 means defaultWorkerCount(). */
  readonly workers: number
  /** Name of the observability channel (observability/hub.ts). */
  readonly observabilityChannel: string
  /** Called with every reply, on the main thread. */
  readonly onReply: (reply: ReplyRecord) => void
  /** Whether the request's client is still there: a batch leaves out those that are gone. */
  readonly isOpen: (id: number) => boolean
  /** Quota counters and token buckets, passed on in WorkerInit. */
  readonly traffic: SharedTrafficMemory
  /** Workers started before the configuration was loaded (pool/prestart.ts), of the right count and mode; else a pool is made. */
  readonly prestarted?: PrestartedPool | undefined
}

const INTERNAL_ERROR = new TextEncoder().encode('{"message": "Internal server error"}')

export class RequestDispatcher {
  readonly pool: Piscina
  readonly #channel: BroadcastChannel
  readonly #configChannel: BroadcastChannel
  /** The newest configuration published by reload(); version 0 is the workers' workerData. */
  #latest: ConfigMessage & { type: 'config' } | null = null
  readonly #onReply: (reply: ReplyRecord) => void
  readonly #isOpen: (id: number) => boolean
  readonly #cancelChannel: BroadcastChannel
  /** Abort slots shared with every worker (protocol.ts ABORT_SLOTS). */
  readonly #abortFlags: Int32Array
  /** Ids to cancel in the workers, sent once per turn. */
  #cancels: CancelMessage = []
  #cancelScheduled = false
  readonly #flushCancels = () => this.#sendCancels()
  #batch: RequestRecord[] = []
  #transfer: ArrayBuffer[] = []
  #scheduled = false
  readonly #flush = () => this.flush()
  readonly #prestarted: PrestartedPool | null

  constructor(opts: DispatcherOptions) {
    const replyChannel = `backplane-replies-${randomUUID()}`
    const configChannel = `backplane-config-${randomUUID()}`
    const cancelChannel = `backplane-cancel-${randomUUID()}`
    const abortFlags = new SharedArrayBuffer(ABORT_SLOTS * Int32Array.BYTES_PER_ELEMENT)
    const init: WorkerInit = { gateway: opts.gateway, replyChannel, functionsHost: opts.functionsHost, configChannel, observabilityChannel: opts.observabilityChannel, cancelChannel, abortFlags, ...opts.traffic }
    const threads = opts.workers > 0 ? opts.workers : defaultWorkerCount('main')
    this.#prestarted = opts.prestarted ?? null
    this.pool = takeOverOrCreatePool(opts.prestarted, init, opts.workerUrl, 'main', threads)
    this.#onReply = opts.onReply
    this.#isOpen = opts.isOpen
    this.#abortFlags = new Int32Array(abortFlags)
    this.#cancelChannel = new BroadcastChannel(cancelChannel)
    this.#cancelChannel.unref()
    this.#channel = new BroadcastChannel(replyChannel)
    this.#channel.onmessage = (ev) => {
      const replies = (ev as { data: ReplyRecord[] }).data
      for (let i = 0; i < replies.length; i++) this.#onReply(replies[i]!)
    }
    // A worker started after a reload (piscina replaces one that died) begins from the
    // workerData of the pool's creation: it says hello and gets the latest configuration.
    this.#configChannel = new BroadcastChannel(configChannel)
    this.#configChannel.unref()
    this.#configChannel.onmessage = (ev) => {
      if ((ev as { data: ConfigMessage }).data.type === 'hello' && this.#latest !== null) this.#configChannel.postMessage(this.#latest)
    }
  }

  /** Sends a reloaded configuration to every worker; each swaps to it between batches. */
  publishConfig(gateway: unknown): number {
    const version = (this.#latest?.version ?? 0) + 1
    this.#latest = { type: 'config', version, gateway }
    this.#configChannel.postMessage(this.#latest)
    return version
  }

  /** Queues a request for the batch of this turn. */
  submit(record: RequestRecord): void {
    this.#batch.push(record)
    if (record.body !== null) this.#transfer.push(record.body)
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flush)
    }
  }

  flush(): void {
    this.#scheduled = false
    let requests = this.#batch
    let transferList = this.#transfer
    if (requests.length === 0) return
    this.#batch = []
    this.#transfer = []
    // A client that went away during this turn (uWS closes a connection on a pipelined
    // request, for one) leaves its request out: it never reaches a backend.
    let open = 0
    for (let i = 0; i < requests.length; i++) if (this.#isOpen(requests[i]!.id)) open++
    if (open !== requests.length) {
      const kept: RequestRecord[] = []
      const keptTransfer: ArrayBuffer[] = []
      for (const r of requests) {
        if (!this.#isOpen(r.id)) continue
        kept.push(r)
        if (r.body !== null) keptTransfer.push(r.body)
      }
      requests = kept
      transferList = keptTransfer
      if (requests.length === 0) return
    }
    const task: BatchTask = { requests }
    this.pool.run(task, { transferList }).then(
      (replies: ReplyRecord[]) => {
        for (let i = 0; i < replies.length; i++) this.#onReply(replies[i]!)
      },
      (err: unknown) => {
        // The worker died with the batch: every request still open gets a 500.
        console.error('worker task failed:', err)
        for (const r of requests) this.#onReply({ id: r.id, status: 500, headers: ['Content-Type', 'application/json', 'x-amzn-ErrorType', 'InternalServerErrorException'], body: INTERNAL_ERROR })
      },
    )
  }

  /**
   * The client of request `id` has gone. A request not yet sent is left out of its batch
   * (flush asks isOpen); one already sent has its abort slot set, so the worker skips it
   * if it has not started it, and its id goes to the workers, which cancel its backend
   * exchange (undici abort).
   */
  cancel(id: number): void {
    Atomics.store(this.#abortFlags, id & ABORT_SLOT_MASK, id | 0)
    this.#cancels.push(id)
    if (!this.#cancelScheduled) {
      this.#cancelScheduled = true
      setImmediate(this.#flushCancels)
    }
  }

  #sendCancels(): void {
    this.#cancelScheduled = false
    const ids = this.#cancels
    this.#cancels = []
    if (ids.length > 0) this.#cancelChannel.postMessage(ids)
  }

  async close(): Promise<void> {
    this.#channel.close()
    this.#configChannel.close()
    this.#cancelChannel.close()
    if (this.#prestarted !== null) await this.#prestarted.destroy()
    else await this.pool.destroy()
  }
}
