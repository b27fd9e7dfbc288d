// A local function: warm runner instances (worker threads), one invocation at a time each,
// as many as `concurrency`, and a queue for invocations that find them all busy.
//
//   invoke ──▶ idle instance? ──yes──▶ run (timer: min(function timeout, integration deadline))
//                 │ no                      │ result / error ──▶ resolve, instance idle again
//                 ▼                         │ timer fires    ──▶ terminate(), resolve timeout
//   fewer than concurrency? spawn one       │ worker exits   ──▶ resolve crash
//   else queue (timer: integration deadline)
//
// A killed or crashed instance is simply dropped; the next invocation that needs one spawns
// a fresh one (a cold start, as on Lambda). reload() bumps the generation: idle instances are
// terminated at once, busy ones when their invocation ends, and new instances load the
// handler module afresh (every worker has its own module cache).

import { randomBytes, randomUUID } from 'node:crypto'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { CompiledLocalFunction } from './config.js'
import type { InvokeOutcome, RunnerInit, RunnerInvoke, RunnerMessage } from './protocol.js'
import { RUNNER_SOURCE } from './runner.js'
import { STATE_MASK, SlotField, SlotState, SlotTable, taskTimedOut, wordClient, type DirectFunction } from './direct.js'
import type { DirectSlots, SlotOwner } from './direct-host.js'
import type { CancelToken } from './cancel.js'

/** Host-wide settings a local function needs. */
export interface LocalFunctionOptions {
  readonly region: string
  readonly accountId: string
  /** Where handler console output goes. */
  readonly output: 'inherit' | 'ignore'
  /** The host's slot table: instances in a slot also take direct calls (direct.ts); null: host path only. */
  readonly direct: DirectSlots | null
}

/**
 * Lambda's quota on a synchronous (RequestResponse) invocation's response: 6 MB, and a
 * larger result fails as the function error "Response payload size exceeded maximum allowed
 * payload size (6291556 bytes)." (Function.ResponseSizeTooLarge, as Lambda's Invoke answers it).
 */
export const MAX_FUNCTION_RESPONSE_BYTES = 6_291_556

/** Host environment variables a function sees (credentials and the basics), as on Lambda. */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL']

class Invocation {
  /** Set while running on an instance. */
  instance: Instance | null = null
  timer: NodeJS.Timeout | null = null
  constructor(
    readonly id: number,
    readonly payload: Uint8Array,
    /** Epoch ms of the integration timeout. */
    readonly integrationDeadline: number,
    readonly integrationTimeoutMs: number,
    readonly invokedFunctionArn: string,
    readonly resolve: (o: InvokeOutcome) => void,
  ) {}
}

class Instance {
  busy: Invocation | null = null
  /** Set when the worker reported an error before exiting (out of memory…). */
  lastError: Error | null = null
  exited = false
  constructor(
    readonly worker: Worker,
    readonly generation: number,
    /** Its slot in the host's slot table, or -1 (host path only). */
    readonly slot: number,
  ) {}
}

export class LocalFunction implements SlotOwner {
  #fn: CompiledLocalFunction
  readonly #options: LocalFunctionOptions
  #generation = 0
  readonly #instances = new Set<Instance>()
  /** Idle instances without a slot; a slotted instance's idleness is its slot state. */
  readonly #idle: Instance[] = []
  /** Live instances with a slot. */
  readonly #slotted = new Set<Instance>()
  /** This function's slots in the host's table, or null. */
  readonly #slots: { readonly base: number; readonly count: number } | null
  readonly #ints: Int32Array | null
  #hostWaiting = false
  readonly #queue: Invocation[] = []
  #nextId = 1
  #closed = false

  constructor(fn: CompiledLocalFunction, options: LocalFunctionOptions) {
    this.#fn = fn
    this.#options = options
    this.#slots = options.direct === null ? null : options.direct.allocate(fn.concurrency)
    this.#ints = options.direct === null ? null : options.direct.table.ints
  }

  #arn(qualifier: string | null): string {
    return `arn:aws:lambda:${this.#options.region}:${this.#options.accountId}:function:${this.#fn.name}` + (qualifier === null ? '' : ':' + qualifier)
  }

  directory(): DirectFunction | null {
    if (this.#slots === null || this.#closed) return null
    return { base: this.#slots.base, count: this.#slots.count, timeoutMs: this.#fn.timeoutMs, arn: this.#arn(null) }
  }

  clientAdded(client: number): void {
    for (const instance of this.#slotted) instance.worker.postMessage({ type: 'client', client })
  }

  /** The watchdog: direct calls past their deadline, instances retired by a reload once idle, a queue nobody pumped. */
  watch(now: number): number {
    const ints = this.#ints
    if (ints === null) return Infinity
    let earliest = Infinity
    const deadlines = this.#options.direct!.table.deadlines
    for (const instance of this.#slotted) {
      const at = SlotTable.at(instance.slot, SlotField.State)
      const state = Atomics.load(ints, at)
      if (state === SlotState.Idle) {
        if (Atomics.load(ints, SlotTable.at(instance.slot, SlotField.Retire)) !== 0 && Atomics.compareExchange(ints, at, SlotState.Idle, SlotState.Gone) === SlotState.Idle) this.#retire(instance)
        continue
      }
      if ((state & STATE_MASK) !== SlotState.BusyDirect) continue
      if (deadlines[instance.slot]! > now) {
        if (deadlines[instance.slot]! < earliest) earliest = deadlines[instance.slot]!
        continue
      }
      // GONE first, then read the running call (the runner writes Call, then reads the state):
      // either the runner starts nothing more, or the call read here is the one it started.
      let word = state
      while (Atomics.compareExchange(ints, at, word, SlotState.Gone) !== word) {
        word = Atomics.load(ints, at)
        if ((word & STATE_MASK) !== SlotState.BusyDirect) break
      }
      if ((word & STATE_MASK) !== SlotState.BusyDirect) continue
      const byFunction = Atomics.load(ints, SlotTable.at(instance.slot, SlotField.ByFunction)) !== 0
      const afterMs = byFunction ? this.#fn.timeoutMs : Atomics.load(ints, SlotTable.at(instance.slot, SlotField.TimeoutMs))
      // A handler past its time is stopped, as on the host path.
      this.#retire(instance)
      this.#slotDown(instance, wordClient(word), { kind: 'timeout', source: byFunction ? 'function' : 'integration', afterMs, errorMessage: taskTimedOut(afterMs) })
    }
    if (this.#queue.length > 0) this.#pump()
    return earliest
  }

  /** Claims a slotted instance's slot for the host path (IDLE → BUSY_HOST); false when it is not idle or retiring. */
  #claim(instance: Instance): boolean {
    const ints = this.#ints!
    if (Atomics.load(ints, SlotTable.at(instance.slot, SlotField.Retire)) !== 0) return false
    return Atomics.compareExchange(ints, SlotTable.at(instance.slot, SlotField.State), SlotState.Idle, SlotState.BusyHost) === SlotState.Idle
  }

  /** While invocations queue here, runners ending direct calls must say so. */
  #setHostWaiting(on: boolean): void {
    if (this.#hostWaiting === on || this.#ints === null || this.#slots === null) return
    this.#hostWaiting = on
    for (let i = 0; i < this.#slots.count; i++) Atomics.store(this.#ints, SlotTable.at(this.#slots.base + i, SlotField.HostWaiting), on ? 1 : 0)
  }

  get name(): string {
    return this.#fn.name
  }

  /** Running instances (for tests and metrics). */
  get instanceCount(): number {
    return this.#instances.size
  }

  /** Runs the function once; never rejects. */
  invoke(payload: Uint8Array, integrationTimeoutMs: number, qualifier: string | null, cancel: CancelToken | null = null): Promise<InvokeOutcome> {
    if (this.#closed) return Promise.resolve({ kind: 'crash', reason: 'the function host is closed' })
    const arn = this.#arn(qualifier)
    return new Promise<InvokeOutcome>((resolve) => {
      const inv = new Invocation(this.#nextId++, payload, Date.now() + integrationTimeoutMs, integrationTimeoutMs, arn, resolve)
      const instance = this.#takeInstance()
      if (instance !== null) this.#run(instance, inv)
      else {
        inv.timer = setTimeout(() => this.#expireQueued(inv), integrationTimeoutMs)
        this.#queue.push(inv)
        // Nobody waits for it any more: it never starts (running ones run to their end, as on Lambda).
        if (cancel !== null) cancel.onCancel = () => this.#dropQueued(inv)
        // A direct call may have ended just before the flag was up: look once more.
        this.#setHostWaiting(true)
        this.#pump()
      }
    })
  }

  /** Applies a new definition (or the same one) and reloads the handler module. */
  reload(fn: CompiledLocalFunction = this.#fn): void {
    this.#fn = fn
    this.#generation++
    for (const instance of this.#idle.splice(0)) this.#retire(instance)
    const ints = this.#ints
    if (ints !== null) {
      for (const instance of this.#slotted) {
        if (instance.generation === this.#generation) continue
        // No new claim; idle now: gone now; busy: gone once idle (the watchdog) or released (host path).
        Atomics.store(ints, SlotTable.at(instance.slot, SlotField.Retire), 1)
        if (Atomics.compareExchange(ints, SlotTable.at(instance.slot, SlotField.State), SlotState.Idle, SlotState.Gone) === SlotState.Idle) this.#retire(instance)
      }
    }
    // Busy instances retire when their invocation ends (see #release).
  }

  /** Terminates every instance; pending invocations get a crash outcome. */
  async close(): Promise<void> {
    this.#closed = true
    for (const inv of this.#queue.splice(0)) {
      if (inv.timer !== null) clearTimeout(inv.timer)
      inv.resolve({ kind: 'crash', reason: 'the function host is closed' })
    }
    const all: Promise<number>[] = []
    for (const instance of this.#instances) {
      const inv = instance.busy
      if (inv !== null) {
        instance.busy = null
        if (inv.timer !== null) clearTimeout(inv.timer)
        inv.resolve({ kind: 'crash', reason: 'the function host is closed' })
      }
      if (instance.slot !== -1) this.#endDirect(instance, 'the function host is closed')
      all.push(instance.worker.terminate())
    }
    this.#idle.length = 0
    this.#slotted.clear()
    await Promise.all(all)
  }

  /** An idle instance of the current generation, a new one if allowed, else null. */
  #takeInstance(): Instance | null {
    const idle = this.#idle.pop()
    if (idle !== undefined) return idle
    for (const instance of this.#slotted) if (instance.generation === this.#generation && this.#claim(instance)) return instance
    if (this.#instances.size < this.#fn.concurrency) return this.#spawn()
    return null
  }

  /** A free slot of this function, set up for a new instance (its first call is the host's), or -1. */
  #takeSlot(): number {
    const ints = this.#ints
    if (ints === null || this.#slots === null) return -1
    for (let i = 0; i < this.#slots.count; i++) {
      const slot = this.#slots.base + i
      if (Atomics.load(ints, SlotTable.at(slot, SlotField.State)) !== SlotState.Empty) continue
      Atomics.store(ints, SlotTable.at(slot, SlotField.Ready), 0)
      Atomics.store(ints, SlotTable.at(slot, SlotField.Retire), 0)
      Atomics.store(ints, SlotTable.at(slot, SlotField.HostWaiting), this.#hostWaiting ? 1 : 0)
      Atomics.store(ints, SlotTable.at(slot, SlotField.Call), 0)
      Atomics.store(ints, SlotTable.at(slot, SlotField.Answered), 0)
      Atomics.add(ints, SlotTable.at(slot, SlotField.Epoch), 1)
      this.#options.direct!.table.deadlines[slot] = Infinity
      Atomics.store(ints, SlotTable.at(slot, SlotField.State), SlotState.BusyHost)
      return slot
    }
    return -1
  }

  /** The instance is gone: the holder of its slot hears how far it got with its calls (direct.ts). */
  #endDirect(instance: Instance, reason: string): void {
    const ints = this.#ints!
    const prev = Atomics.exchange(ints, SlotTable.at(instance.slot, SlotField.State), SlotState.Gone)
    const client = (prev & STATE_MASK) === SlotState.BusyDirect ? wordClient(prev) : Atomics.load(ints, SlotTable.at(instance.slot, SlotField.Client))
    this.#slotDown(instance, client, { kind: 'crash', reason })
  }

  /** Tells `client` the slot's instance is gone: the call it ran gets `outcome`, the rest are the client's to settle. */
  #slotDown(instance: Instance, client: number, outcome: InvokeOutcome): void {
    const ints = this.#ints!
    const call = Atomics.load(ints, SlotTable.at(instance.slot, SlotField.Call))
    const epoch = Atomics.load(ints, SlotTable.at(instance.slot, SlotField.Epoch))
    const answered = Atomics.load(ints, SlotTable.at(instance.slot, SlotField.Answered))
    this.#options.direct!.answer(client, { id: call, outcome, slotDown: { slot: instance.slot, epoch, answered } })
  }

  #spawn(): Instance {
    const fn = this.#fn
    const init: RunnerInit = {
      moduleUrl: fn.moduleUrl,
      exportName: fn.exportName,
      handler: fn.handler,
      functionName: fn.name,
      functionVersion: '$LATEST',
      memoryLimitInMB: fn.memoryMb,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${randomBytes(16).toString('hex')}`,
      maxResponseBytes: MAX_FUNCTION_RESPONSE_BYTES,
      direct: null,
    }
    const slot = this.#takeSlot()
    if (slot !== -1) (init as { direct: RunnerInit['direct'] }).direct = this.#options.direct!.runnerSlot(slot, fn.timeoutMs)
    const env: Record<string, string> = {}
    for (const k of PASSED_ENV) {
      const v = process.env[k]
      if (v !== undefined) env[k] = v
    }
    Object.assign(env, {
      AWS_REGION: this.#options.region,
      AWS_DEFAULT_REGION: this.#options.region,
      AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${process.versions.node.split('.')[0]}.x`,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: init.logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: init.logStreamName,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: dirname(fileURLToPath(fn.moduleUrl)),
      _HANDLER: fn.handler,
    })
    Object.assign(env, fn.environment)
    const ignore = this.#options.output === 'ignore'
    const worker = new Worker(RUNNER_SOURCE, {
      eval: true,
      // None of the gateway's --import/--loader flags: a handler thread loads only its module.
      execArgv: [],
      env,
      workerData: init,
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMb },
      stdout: ignore,
      stderr: ignore,
    })
    if (ignore) {
      worker.stdout.resume()
      worker.stderr.resume()
    }
    const instance = new Instance(worker, this.#generation, slot)
    this.#instances.add(instance)
    if (slot !== -1) this.#slotted.add(instance)
    worker.on('message', (msg: RunnerMessage) => this.#onMessage(instance, msg))
    worker.on('error', (err: Error) => {
      instance.lastError = err
    })
    worker.on('exit', (code: number) => this.#onExit(instance, code))
    return instance
  }

  #run(instance: Instance, inv: Invocation): void {
    const now = Date.now()
    const functionDeadline = now + this.#fn.timeoutMs
    const byFunction = functionDeadline <= inv.integrationDeadline
    const deadline = byFunction ? functionDeadline : inv.integrationDeadline
    instance.busy = inv
    inv.instance = instance
    inv.timer = setTimeout(() => this.#expireRunning(inv, byFunction), Math.max(0, deadline - now))
    const msg: RunnerInvoke = {
      type: 'invoke',
      id: inv.id,
      payload: inv.payload,
      awsRequestId: randomUUID(),
      deadline: functionDeadline,
      invokedFunctionArn: inv.invokedFunctionArn,
    }
    instance.worker.postMessage(msg)
  }

  #onMessage(instance: Instance, msg: RunnerMessage): void {
    if (msg.type === 'idle') return this.#pump()
    const inv = instance.busy
    if (inv === null || inv.id !== msg.id) return // a late answer after a timeout: dropped
    if (inv.timer !== null) clearTimeout(inv.timer)
    instance.busy = null
    if (msg.type === 'result') inv.resolve({ kind: 'ok', payload: msg.payload })
    else inv.resolve({ kind: 'function-error', errorType: msg.errorType, errorMessage: msg.errorMessage, payload: msg.payload })
    if (msg.type === 'error' && msg.fatal) return // the runner exits by itself; #onExit drops it
    this.#release(instance)
  }

  #onExit(instance: Instance, code: number): void {
    instance.exited = true
    this.#instances.delete(instance)
    if (instance.slot !== -1) {
      this.#slotted.delete(instance)
      const err = instance.lastError as (Error & { code?: string }) | null
      this.#endDirect(instance, err !== null && err.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `Runtime.ExitError: Runtime exited with error: out of memory (memoryMb ${this.#fn.memoryMb})`
        : `Runtime.ExitError: Runtime exited with error: ${err !== null ? `${err.name}: ${err.message}` : `exit status ${code}`}`)
      // The thread is gone: the slot may take a new instance.
      Atomics.store(this.#ints!, SlotTable.at(instance.slot, SlotField.State), SlotState.Empty)
    }
    const at = this.#idle.indexOf(instance)
    if (at !== -1) this.#idle.splice(at, 1)
    const inv = instance.busy
    if (inv !== null) {
      instance.busy = null
      if (inv.timer !== null) clearTimeout(inv.timer)
      const err = instance.lastError as (Error & { code?: string }) | null
      const reason =
        err !== null && err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `Runtime.ExitError: Runtime exited with error: out of memory (memoryMb ${this.#fn.memoryMb})`
          : err !== null
            ? `Runtime.ExitError: Runtime exited with error: ${err.name}: ${err.message}`
            : `Runtime.ExitError: Runtime exited with error: exit status ${code}`
      inv.resolve({ kind: 'crash', reason })
    }
    this.#pump()
  }

  /** The instance finished an invocation: reuse it, or retire it after a reload. */
  #release(instance: Instance): void {
    if (this.#closed || instance.exited) return
    if (instance.generation !== this.#generation) {
      this.#retire(instance)
      this.#pump()
      return
    }
    const next = this.#queue.shift()
    if (next !== undefined) {
      if (next.timer !== null) clearTimeout(next.timer)
      this.#run(instance, next)
    } else if (instance.slot !== -1) {
      this.#setHostWaiting(false)
      Atomics.store(this.#ints!, SlotTable.at(instance.slot, SlotField.State), SlotState.Idle)
    } else {
      this.#idle.push(instance)
    }
  }

  /** Starts queued invocations on new instances while concurrency allows. */
  #pump(): void {
    while (!this.#closed && this.#queue.length > 0) {
      const instance = this.#takeInstance()
      if (instance === null) return
      const next = this.#queue.shift()!
      if (next.timer !== null) clearTimeout(next.timer)
      this.#run(instance, next)
    }
    if (this.#queue.length === 0) this.#setHostWaiting(false)
  }

  #retire(instance: Instance): void {
    this.#instances.delete(instance)
    if (instance.slot !== -1) {
      this.#slotted.delete(instance)
      // Never claimable again; it becomes EMPTY when the thread has exited (#onExit).
      Atomics.store(this.#ints!, SlotTable.at(instance.slot, SlotField.State), SlotState.Gone)
    }
    instance.exited = true
    void instance.worker.terminate()
  }

  #dropQueued(inv: Invocation): void {
    const at = this.#queue.indexOf(inv)
    if (at === -1) return
    this.#queue.splice(at, 1)
    if (inv.timer !== null) clearTimeout(inv.timer)
    if (this.#queue.length === 0) this.#setHostWaiting(false)
    inv.resolve({ kind: 'crash', reason: 'the request went away before the function ran' })
  }

  #expireQueued(inv: Invocation): void {
    const at = this.#queue.indexOf(inv)
    if (at === -1) return
    this.#queue.splice(at, 1)
    if (this.#queue.length === 0) this.#setHostWaiting(false)
    inv.resolve({ kind: 'timeout', source: 'integration', afterMs: inv.integrationTimeoutMs, errorMessage: taskTimedOut(inv.integrationTimeoutMs) })
  }

  #expireRunning(inv: Invocation, byFunction: boolean): void {
    const instance = inv.instance
    if (instance === null || instance.busy !== inv) return
    instance.busy = null
    // A handler past its time is stopped: the instance and whatever it was doing are gone.
    this.#retire(instance)
    const afterMs = byFunction ? this.#fn.timeoutMs : inv.integrationTimeoutMs
    inv.resolve({ kind: 'timeout', source: byFunction ? 'function' : 'integration', afterMs, errorMessage: taskTimedOut(afterMs) })
    this.#pump()
  }
}
