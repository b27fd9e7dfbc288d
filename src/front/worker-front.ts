// The per-worker front (issue 11): inside a piscina worker, this thread's own
// uWebSockets.js app listens on the gateway's port beside the other workers' (uWS listens
// with SO_REUSEPORT, so the kernel spreads connections over them) and serves each request
// end to end in this thread: no per-request hop to another thread.
//
// It is one long-lived piscina task per worker (front/supervisor.ts starts it): piscina
// stays the pool (fixed size, a replaced worker gets its slot's task again), while the
// task's MessagePort carries the supervisor's few commands (stop listening, drain, close).
// A task per request or per batch would bring back the hop this removes.
import { threadId } from 'node:worker_threads'
import { writeSync } from 'node:fs'
import { format } from 'node:util'
import type { FrontCommand, FrontEvent, FrontTask, ReplyRecord, RequestRecord } from '../pool/protocol.js'
import { ABORT_SLOTS, ABORT_SLOT_MASK } from '../pool/protocol.js'
import type { ReplySink } from '../pipeline/context.js'
import { FrontServer, type FrontDispatcher } from './server.js'

/** How often the front publishes its in-flight count (the admin gauge; nothing waits on it). */
const IN_FLIGHT_PUBLISH_MS = 250

/** Runs one request in this thread, on the configuration in force when it starts (pool/worker.ts). */
export type RunRequest = (record: RequestRecord, sink: ReplySink) => void

/** What the worker hands over: how to run a request, and where its cancels go. */
export interface WorkerFrontHooks {
  readonly run: RunRequest
  /** Stops request `id`'s backend exchange, if one runs (integrations/upstream.ts). */
  readonly cancelExchange: (id: number) => void
  /** Installs this front's abort slots (integrations/upstream.ts checks them before a backend call). */
  readonly setAbortFlags: (flags: Int32Array) => void
}

const INTERNAL_ERROR = new TextEncoder().encode('{"message": "Internal server error"}')

/**
 * Runs the requests of one event-loop turn at its end (setImmediate), as the main-thread
 * front's batch does: uWS reads every request of one packet before the turn ends, and
 * closes the connection when a pipelined one follows an unanswered one (its onAborted
 * runs), so the earlier request is left out here and never reaches a backend. One array
 * and one setImmediate per turn, no closure per request.
 */
class LocalDispatcher implements FrontDispatcher, ReplySink {
  #batch: RequestRecord[] = []
  #scheduled = false
  #cancels: number[] = []
  #cancelScheduled = false
  readonly #flush = () => this.#runBatch()
  readonly #flushCancels = () => this.#sendCancels()
  /** Slot `id & ABORT_SLOT_MASK` holds `id | 0` once that request's client has gone (this thread's ids only). */
  readonly abortFlags = new Int32Array(ABORT_SLOTS)

  constructor(
    readonly front: FrontServer,
    readonly hooks: WorkerFrontHooks,
  ) {}

  submit(record: RequestRecord): void {
    this.#batch.push(record)
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flush)
    }
  }

  cancel(id: number): void {
    Atomics.store(this.abortFlags, id & ABORT_SLOT_MASK, id | 0)
    // Cancelled after the turn: undici's abort may call back into the pipeline, which
    // must not happen inside uWebSockets.js's onAborted.
    this.#cancels.push(id)
    if (!this.#cancelScheduled) {
      this.#cancelScheduled = true
      setImmediate(this.#flushCancels)
    }
  }

  /** ReplySink: the pipeline's answer goes straight to the client (corked in respond.ts). */
  reply(record: ReplyRecord): void {
    this.front.deliver(record)
  }

  #runBatch(): void {
    this.#scheduled = false
    const requests = this.#batch
    this.#batch = []
    const pending = this.front.pending
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i]!
      if (!pending.has(r.id)) continue
      try {
        this.hooks.run(r, this)
      } catch (err) {
        // A bug must cost one request a 500, never the worker (and its connections).
        console.error('request failed:', err)
        this.front.deliver({ id: r.id, status: 500, headers: ['Content-Type', 'application/json', 'x-amzn-ErrorType', 'InternalServerErrorException'], body: INTERNAL_ERROR })
      }
    }
  }

  #sendCancels(): void {
    this.#cancelScheduled = false
    const ids = this.#cancels
    this.#cancels = []
    for (let i = 0; i < ids.length; i++) this.hooks.cancelExchange(ids[i]!)
  }
}

/**
 * console.error and console.warn (the failure paths' log lines) go straight to the process's
 * stderr, as the main thread's do (stderr to a pipe or file is synchronous on Linux): a
 * worker's own process.stderr reaches it through the main thread, after the reply this
 * thread has already written, so a client could read the 502 before its reason is logged,
 * and a process that aborts would lose the line.
 */
function logSynchronously(): void {
  const write = (...args: unknown[]) => {
    try {
      writeSync(2, `${format(...args)}\n`)
    } catch {} // stderr closed: nowhere to log
  }
  console.error = write
  console.warn = write
}

/** The task: listens, serves, obeys the supervisor; resolves once its app is closed. */
export function runWorkerFront(task: FrontTask, hooks: WorkerFrontHooks): Promise<void> {
  logSynchronously()
  const front = new FrontServer({ recordsStayInThread: true })
  const dispatcher = new LocalDispatcher(front, hooks)
  front.dispatcher = dispatcher
  hooks.setAbortFlags(dispatcher.abortFlags)
  const control = task.control
  const post = (ev: FrontEvent) => control.postMessage(ev)
  const inFlight = new Int32Array(task.inFlight)
  const publish = setInterval(() => Atomics.store(inFlight, task.slot, front.pending.size), IN_FLIGHT_PUBLISH_MS)
  publish.unref()

  // A worker thread that ends with uWS sockets open aborts the whole process (see
  // FrontServer.closeAll): an error nobody caught closes this front's connections first,
  // then ends the worker; piscina replaces it and the supervisor starts this slot again.
  process.on('uncaughtException', (err) => {
    console.error('worker front failed:', err)
    clearInterval(publish)
    front.closeAll()
    process.exit(1)
  })

  return new Promise<void>((resolve) => {
    control.on('message', (cmd: FrontCommand) => {
      switch (cmd.type) {
        case 'stop-listening':
          front.stopListening()
          break
        case 'drain':
          front.drain(cmd.ms).then(() => post({ type: 'drained' }))
          break
        case 'close':
          clearInterval(publish)
          Atomics.store(inFlight, task.slot, 0)
          front.closeAll()
          post({ type: 'closed' })
          control.close()
          resolve()
          break
      }
    })
    front.listen(task.host, task.port).then(
      (port) => post({ type: 'listening', port, threadId }),
      (err: Error) => {
        // The task ends, so the worker is free for the supervisor's next try.
        clearInterval(publish)
        front.closeAll()
        post({ type: 'listen-failed', message: err.message })
        control.close()
        resolve()
      },
    )
  })
}
