// The Lambda Node.js runtime, in one worker thread per function instance.
//
// `runnerMain` is the whole worker program. It is started as an `eval` worker from its own
// source text (RUNNER_SOURCE), with none of the parent's --import/--loader flags: a handler
// thread loads only the handler's module, starts in ≈ 60 ms, and behaves the same whether the
// gateway runs from dist/ or from TypeScript sources under tap. The price: the function must
// not refer to anything outside itself (imports included); it takes what it needs through
// `require` and workerData.
//
// Semantics follow the Lambda Node.js runtime interface client (CallbackContext.js,
// Runtime.js, Errors.js):
// - a handler returning a thenable answers when it settles (no wait for the event loop);
// - `callback(null, r)` answers once the event loop is empty, unless
//   context.callbackWaitsForEmptyEventLoop is false; `callback(err)` answers at once;
// - context.done/succeed/fail answer at once; only the first of all these calls counts;
// - a handler that neither returns a thenable nor calls back answers null once the loop is empty;
// - an uncaught exception or unhandled rejection fails the invocation and ends the runtime;
// - errors become {errorType, errorMessage, trace}; non-Error values get errorType typeof value.

import type { DirectBatch, DirectCall, DirectResult, DirectResults, RunnerInit, RunnerInvoke, RunnerMessage } from './protocol.js'
import { unpackProxyEvent } from './packed-event.js'

type RunnerResultMessage = Exclude<RunnerMessage, { readonly type: 'idle' }>

/** `unpackEvent`: packed-event.ts unpackProxyEvent, passed in as source text (this function cannot import). */
export function runnerMain(unpackEvent: (text: string) => unknown): void {
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads')
  const util = require('node:util') as typeof import('node:util')
  const port = parentPort!
  const init = workerData as RunnerInit
  const { BroadcastChannel } = require('node:worker_threads') as typeof import('node:worker_threads')
  const encoder = new TextEncoder()
  const decoder = new TextDecoder()
  const NO_BYTES = new Uint8Array(0)

  type ErrorDoc = { errorType: string; errorMessage: string; trace: string[] }

  /** Errors.js toRapidResponse. */
  function toErrorDoc(err: unknown): ErrorDoc {
    try {
      if (util.types.isNativeError(err) || (typeof err === 'object' && err !== null && 'message' in err && 'name' in err)) {
        const e = err as Error
        return {
          errorType: String(e.name),
          errorMessage: String(e.message),
          trace: typeof e.stack === 'string' ? e.stack.split('\n') : [],
        }
      }
      return { errorType: typeof err, errorMessage: String(err), trace: [] }
    } catch {
      return {
        errorType: 'handled',
        errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
        trace: [],
      }
    }
  }

  function runtimeError(errorType: string, errorMessage: string): ErrorDoc {
    return { errorType, errorMessage, trace: [] }
  }

  // ---- console: Lambda's `timestamp \t requestId \t LEVEL \t message` lines -----------------
  let currentRequestId = 'undefined'
  const rawLog = console.log.bind(console)
  const rawError = console.error.bind(console)
  function patch(level: string, write: (s: string) => void) {
    return (...args: unknown[]) => write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}`)
  }
  console.log = patch('INFO', rawLog)
  console.info = patch('INFO', rawLog)
  console.debug = patch('DEBUG', rawLog)
  console.trace = patch('TRACE', rawLog)
  console.warn = patch('WARN', rawError)
  console.error = patch('ERROR', rawError)

  // ---- handler loading (the init phase) ------------------------------------------------------
  type Handler = (event: unknown, context: unknown, callback: (err?: unknown, result?: unknown) => void) => unknown
  let handlerFn: Handler | null = null

  async function load(): Promise<Handler> {
    let ns: Record<string, unknown>
    try {
      ns = (await import(init.moduleUrl)) as Record<string, unknown>
    } catch (err) {
      const e = toErrorDoc(err)
      if (e.errorType === 'SyntaxError') throw runtimeError('Runtime.UserCodeSyntaxError', `${e.errorType}: ${e.errorMessage}`)
      throw runtimeError('Runtime.ImportModuleError', `Error: ${e.errorMessage}`)
    }
    let fn = ns[init.exportName]
    if (fn === undefined && typeof ns['default'] === 'object' && ns['default'] !== null) {
      fn = (ns['default'] as Record<string, unknown>)[init.exportName]
    }
    if (fn === undefined) throw runtimeError('Runtime.HandlerNotFound', `${init.handler} is undefined or not exported`)
    if (typeof fn !== 'function') throw runtimeError('Runtime.HandlerNotFound', `${init.handler} is not a function`)
    return fn as Handler
  }
  // Start the init phase at once, so a warm instance has its module loaded.
  let loading: Promise<Handler> | null = load()
  loading.catch(() => {})

  // ---- the invocation in progress -----------------------------------------------------------
  let current: RunnerInvoke | null = null
  /** Set by a successful callback while the loop drains; `undefined` means "answer null". */
  let pendingResult: { value: unknown } | null = null
  let waiting = false
  let finished = true

  // ---- direct invocations (direct.ts): hot-path workers on channels of their own -----------
  // Calls come in batches and run one after another; their answers go back in one message per
  // event-loop turn, and each posted answer lowers the holder's count in the slot's state word
  // (IDLE at 0). The slot's Call field says which call runs, for the host's watchdog.
  type Via = { postMessage(msg: unknown): void }
  const direct = init.direct
  const ints = direct === null ? null : new Int32Array(direct.table, 0, direct.intCount)
  const deadlines = direct === null ? null : new Float64Array(direct.table, direct.deadlinesOffset, direct.slotCount)
  const { randomUUID } = require('node:crypto') as typeof import('node:crypto')
  const clientChannels = new Map<number, Via>()
  /** Set while the invocation in progress came on a client's channel. */
  let currentVia: Via | null = null
  /** Direct calls received and not started, in order, with the channel each came on. */
  const queued: { readonly call: DirectCall; readonly via: Via }[] = []
  /** A direct call is in progress. */
  let directRunning = false
  /** A direct call's result as its JSON text: written into the turn's one buffer (an encode per result was a malloc, a copy and a free). */
  type TextResult = { readonly id: number; readonly kind: 'text'; readonly text: string }
  /** Answers not yet posted, all for one channel (the slot's holder). */
  let outbox: (DirectResult | TextResult)[] = []
  let outboxVia: Via | null = null
  let flushScheduled = false

  function openClient(client: number) {
    if (direct === null || ints === null || clientChannels.has(client)) return
    const ch = new BroadcastChannel(`${direct.host}:slot:${direct.slot}:${client}`)
    ch.onmessage = (ev: unknown) => {
      const msg = (ev as { data: DirectBatch }).data
      if (msg.type === 'batch') receive(msg, ch)
    }
    // Not a reason to stay alive, nor an "active" resource for the empty-loop check.
    ch.unref()
    clientChannels.set(client, ch)
    Atomics.or(ints, direct.readyIndex, 1 << client)
  }
  if (direct !== null) for (const c of direct.clients) openClient(c)

  /** Unpacks a batch (protocol.ts DirectBatch) into the queue. */
  function receive(batch: DirectBatch, via: Via) {
    const packed = batch.packed
    const n = direct!.batchCallFields
    const k = new Float64Array(packed, 0, 1)[0]!
    const fields = new Float64Array(packed, 0, 1 + n * k)
    let at = 8 * (1 + n * k)
    let textAt = 0
    for (let j = 0; j < k; j++) {
      const f = 1 + n * j
      const length = fields[f + 3]!
      let call: DirectCall
      if (fields[f + 4] === 1) {
        call = { id: fields[f]!, payload: NO_BYTES, arn: batch.arn, integrationDeadline: fields[f + 1]!, integrationTimeoutMs: fields[f + 2]!, packedEvent: batch.text.slice(textAt, textAt + length) }
        textAt += length
      } else {
        call = { id: fields[f]!, payload: new Uint8Array(packed, at, length), arn: batch.arn, integrationDeadline: fields[f + 1]!, integrationTimeoutMs: fields[f + 2]!, packedEvent: null }
        at += length
      }
      queued.push({ call, via })
    }
    // Queued before any empty-loop check the calls schedule, so that check does not see it pending.
    scheduleFlush()
    startNextDirect()
  }

  function scheduleFlush() {
    if (flushScheduled) return
    flushScheduled = true
    setImmediate(flushTurn)
  }

  /** The end of a turn: a call still running hands the calls behind it back; the answers go. */
  function flushTurn() {
    flushScheduled = false
    if (directRunning && queued.length > 0) {
      for (const q of queued) pushResult(q.via, { id: q.call.id, kind: 'returned' })
      queued.length = 0
    }
    flushOutbox(false)
  }

  function pushResult(via: Via, item: DirectResult | TextResult) {
    if (outboxVia !== null && outboxVia !== via) flushOutbox(false)
    outboxVia = via
    outbox.push(item)
  }

  function flushOutbox(fatal: boolean) {
    const via = outboxVia
    if (via === null || outbox.length === 0 || direct === null || ints === null) return
    const items = outbox
    outbox = []
    outboxVia = null
    // Results packed (protocol.ts DirectResults), the rest as they are.
    let answered = 0
    let results = 0
    let bytes = 0
    let others: DirectResult[] | null = null
    for (const item of items) {
      if (item.kind !== 'returned' && item.id > answered) answered = item.id
      if (item.kind === 'text') {
        results++
        bytes += Buffer.byteLength(item.text)
      } else (others ??= []).push(item)
    }
    let packed: ArrayBuffer | null = null
    if (results > 0) {
      packed = new ArrayBuffer(8 * (1 + 2 * results) + bytes)
      const fields = new Float64Array(packed, 0, 1 + 2 * results)
      const body = Buffer.from(packed)
      fields[0] = results
      let f = 1
      let at = 8 * (1 + 2 * results)
      for (const item of items) {
        if (item.kind !== 'text') continue
        const written = body.write(item.text, at)
        fields[f++] = item.id
        fields[f++] = written
        at += written
      }
    }
    via.postMessage({ type: 'results', packed, others } satisfies DirectResults)
    if (answered > Atomics.load(ints, direct.answeredIndex)) Atomics.store(ints, direct.answeredIndex, answered)
    if (fatal) return
    // The holder's count goes down by what was answered; at 0 the slot is idle again.
    const k = items.length
    for (;;) {
      const word = Atomics.load(ints, direct.stateIndex)
      if ((word & direct.stateMask) !== direct.busyDirect) return // gone: the host ends it
      const next = word >>> direct.countShift <= k ? direct.idle : word - k * direct.countOne
      if (Atomics.compareExchange(ints, direct.stateIndex, word, next) !== word) continue
      // The host queues invocations of this function: it would not know this instance is free.
      if (next === direct.idle && Atomics.load(ints, direct.hostWaitingIndex) !== 0) port.postMessage({ type: 'idle' })
      return
    }
  }

  /** Starts the next queued direct call, unless one runs. */
  function startNextDirect() {
    if (direct === null || ints === null || deadlines === null) return
    while (!directRunning && queued.length > 0) {
      const { call, via } = queued.shift()!
      const now = Date.now()
      if (now >= call.integrationDeadline) {
        pushResult(via, { id: call.id, kind: 'expired', afterMs: call.integrationTimeoutMs })
        scheduleFlush()
        continue
      }
      const functionDeadline = now + direct.functionTimeoutMs
      const byFunction = functionDeadline <= call.integrationDeadline
      deadlines[direct.slot] = byFunction ? functionDeadline : call.integrationDeadline
      Atomics.store(ints, direct.byFunctionIndex, byFunction ? 1 : 0)
      Atomics.store(ints, direct.timeoutIndex, call.integrationTimeoutMs)
      Atomics.store(ints, direct.callIndex, call.id)
      // Call is written before the state is read, the host writes the state before reading Call:
      // either this sees GONE (and starts nothing more), or the host sees this call as running.
      if ((Atomics.load(ints, direct.stateIndex) & direct.stateMask) === direct.gone) {
        queued.length = 0
        return
      }
      directRunning = true
      void invoke({ type: 'invoke', id: call.id, payload: call.payload, awsRequestId: randomUUID(), deadline: functionDeadline, invokedFunctionArn: call.arn, packedEvent: call.packedEvent }, via)
    }
  }

  function post(msg: RunnerResultMessage, transfer: ArrayBuffer[], fatal = false) {
    if (currentVia === null || direct === null) {
      currentVia = null
      port.postMessage(msg, transfer)
      return
    }
    postDirect(msg.type === 'result'
      ? { id: msg.id, kind: 'result', payload: msg.payload }
      : { id: msg.id, kind: 'error', errorType: msg.errorType, errorMessage: msg.errorMessage, payload: msg.payload }, fatal)
  }

  /** The end of the direct call in progress: its answer joins the turn's, the next queued call starts. */
  function postDirect(item: DirectResult | TextResult, fatal: boolean) {
    const via = currentVia!
    currentVia = null
    if (direct === null || ints === null || deadlines === null) return
    directRunning = false
    deadlines[direct.slot] = Infinity
    pushResult(via, item)
    if (fatal) {
      // The runtime ends: nothing more is claimed or started here; the host tells the holder.
      Atomics.store(ints, direct.stateIndex, direct.gone)
      queued.length = 0
      flushOutbox(true)
      return
    }
    scheduleFlush()
    queueMicrotask(startNextDirect)
  }

  function complete(id: number, value: unknown) {
    if (current === null || current.id !== id || finished) return
    finished = true
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch (err) {
      const doc = runtimeError('Runtime.SerializationError', toErrorDoc(err).errorMessage)
      failWith(id, doc, false, true)
      return
    }
    const text = json === undefined ? 'null' : json
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long text has its bytes counted.
    if (text.length * 3 > init.maxResponseBytes && Buffer.byteLength(text) > init.maxResponseBytes) {
      // Lambda's synchronous response quota: Invoke answers this function error instead
      // (X-Amz-Function-Error: Unhandled, no trace), and the instance lives on.
      const doc = { errorMessage: `Response payload size exceeded maximum allowed payload size (${init.maxResponseBytes} bytes).`, errorType: 'Function.ResponseSizeTooLarge' }
      const bytes = encoder.encode(JSON.stringify(doc))
      current = null
      post({ type: 'error', id, errorType: doc.errorType, errorMessage: doc.errorMessage, payload: bytes, fatal: false }, [bytes.buffer as ArrayBuffer])
      return
    }
    current = null
    if (currentVia !== null && direct !== null) {
      // A direct call: the text goes into the turn's results as it is.
      postDirect({ id, kind: 'text', text }, false)
      return
    }
    const payload = encoder.encode(text)
    post({ type: 'result', id, payload }, [payload.buffer as ArrayBuffer])
  }

  function failWith(id: number, doc: ErrorDoc, fatal: boolean, force = false) {
    if (current === null || current.id !== id || (finished && !force)) return
    finished = true
    current = null
    console.error(`Invoke Error \t${JSON.stringify(doc)}`)
    const payload = encoder.encode(JSON.stringify(doc))
    post({ type: 'error', id, errorType: doc.errorType, errorMessage: doc.errorMessage, payload, fatal }, [payload.buffer as ArrayBuffer], fatal)
  }

  /** True when only the runtime's own port keeps the loop alive. */
  function loopIsEmpty(): boolean {
    const active = process.getActiveResourcesInfo()
    let ports = 0
    for (const r of active) {
      if (r === 'MessagePort') ports++
      else return false
    }
    return ports <= 1
  }

  /** Lambda's beforeExit: answer once the event loop has nothing left but the runtime. */
  function waitForEmptyLoop(id: number) {
    if (waiting) return
    waiting = true
    let delay = 1
    const check = () => {
      if (current === null || current.id !== id || finished) {
        waiting = false
        return
      }
      // Checked from an immediate: a running timer would still count as active.
      if (loopIsEmpty()) {
        waiting = false
        const r = pendingResult
        pendingResult = null
        complete(id, r === null ? null : r.value)
        return
      }
      setTimeout(() => setImmediate(check), delay)
      if (delay < 16) delay *= 2
    }
    setImmediate(check)
  }

  // context.callbackWaitsForEmptyEventLoop: an own enumerable accessor, as a `{ get …, set … }`
  // literal makes it, but one getter and setter serve every invocation (each finds its own
  // flag), so V8 gives every context the same shape: a new pair per call sent each context
  // through shape changes of its own (5 % of an instance's time on the aws_proxy bench).
  // The flag is a private field stamped on the context (a base constructor that returns its
  // argument lets a class add fields to any object): no key or symbol a handler could see, and
  // no WeakMap entry (its set and the collector's ephemeron work were 7 % of an instance's time).
  const Stamp = function (o: object) {
    return o
  } as unknown as new (o: object) => object
  class WaitFlag extends Stamp {
    #value: unknown = true
    /** The flag holder `o` is, or inherits from (the accessor answers for any receiver). */
    static holder(o: object | null): WaitFlag | null {
      for (; o !== null; o = Object.getPrototypeOf(o) as object | null) if (#value in o) return o as WaitFlag
      return null
    }
    static get(o: WaitFlag): unknown {
      return o.#value
    }
    static set(o: WaitFlag, v: unknown): void {
      o.#value = v
    }
  }
  const waitAccessor: PropertyDescriptor = {
    get(this: object) {
      const f = WaitFlag.holder(this)
      return f === null ? true : WaitFlag.get(f)
    },
    set(this: object, v: unknown) {
      const f = WaitFlag.holder(this)
      if (f !== null) WaitFlag.set(f, v)
    },
    enumerable: true,
    configurable: true,
  }

  async function invoke(msg: RunnerInvoke, via: Via | null) {
    const id = msg.id
    current = msg
    currentVia = via
    finished = false
    pendingResult = null
    currentRequestId = msg.awsRequestId

    let handler = handlerFn
    if (handler === null) {
      try {
        handler = await (loading ?? (loading = load()))
        handlerFn = handler
      } catch (err) {
        loading = null // the next invocation runs the init phase again, as Lambda does
        failWith(id, err as ErrorDoc, false)
        return
      }
    }

    let event: unknown
    try {
      event = typeof msg.packedEvent === 'string' ? unpackEvent(msg.packedEvent) : JSON.parse(decoder.decode(msg.payload))
    } catch (err) {
      failWith(id, runtimeError('Runtime.UnmarshalError', `Unable to parse input as JSON: ${toErrorDoc(err).errorMessage}`), false)
      return
    }

    let called = false
    const once = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => {
      if (called) return
      called = true
      f(...a)
    }
    const done = once((err?: unknown, result?: unknown) => {
      if (err !== undefined && err !== null) failWith(id, toErrorDoc(err), false)
      else complete(id, result)
    })
    const succeed = (result?: unknown) => done(null, result)
    const fail = (err?: unknown) => done(err === undefined || err === null ? 'handled' : err, null)
    const callback = once((err?: unknown, result?: unknown) => {
      if (err !== undefined && err !== null) failWith(id, toErrorDoc(err), false)
      else if (!WaitFlag.get(context)) complete(id, result)
      else {
        pendingResult = { value: result }
        waitForEmptyLoop(id)
      }
    })
    const context = new WaitFlag({}) as WaitFlag & Record<string, unknown>
    Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', waitAccessor)
    context.functionName = init.functionName
    context.functionVersion = init.functionVersion
    context.invokedFunctionArn = msg.invokedFunctionArn
    context.memoryLimitInMB = String(init.memoryLimitInMB)
    context.awsRequestId = msg.awsRequestId
    context.logGroupName = init.logGroupName
    context.logStreamName = init.logStreamName
    context.identity = undefined
    context.clientContext = undefined
    context.getRemainingTimeInMillis = () => Math.max(0, msg.deadline - Date.now())
    context.done = done
    context.succeed = succeed
    context.fail = fail

    let result: unknown
    try {
      result = handler(event, context, callback)
    } catch (err) {
      failWith(id, toErrorDoc(err), false)
      return
    }
    if (typeof result === 'object' && result !== null && typeof (result as PromiseLike<unknown>).then === 'function') {
      ;(result as PromiseLike<unknown>).then(succeed, fail)
    } else {
      // Neither a promise nor (yet) a callback: the answer is null once the loop drains.
      waitForEmptyLoop(id)
    }
  }

  // An error escaping the handler's own flow ends the runtime, as on Lambda.
  process.on('uncaughtException', (err) => {
    if (current !== null) failWith(current.id, toErrorDoc(err), true)
    else rawError('Uncaught Exception', err)
    process.exit(129)
  })
  process.on('unhandledRejection', (reason) => {
    const doc = runtimeError('Runtime.UnhandledPromiseRejection', `${toErrorDoc(reason).errorType}: ${toErrorDoc(reason).errorMessage}`)
    if (current !== null) failWith(current.id, doc, true)
    else rawError('Unhandled Promise Rejection', reason)
    process.exit(128)
  })

  port.on('message', (msg: RunnerInvoke | { readonly type: 'client'; readonly client: number }) => {
    if (msg.type === 'invoke') void invoke(msg, null)
    else if (msg.type === 'client') openClient(msg.client)
  })
}

/** The worker program: `new Worker(RUNNER_SOURCE, { eval: true, … })`. */
export const RUNNER_SOURCE = `(${runnerMain.toString()})(${unpackProxyEvent.toString()})`
