// The caller's side of the function host, usable from any thread (hot-path workers included).
//
//   const outcome = await invoke('pets', payload, { timeoutMs: 29_000, requestId })
//
// Requests go to the host by BroadcastChannel name (nothing to wire up), or over a
// MessagePort from host.connect(); calls to a local function with warm instances go to them
// directly (direct.ts), those of one event-loop turn in one message per instance, and their
// answers come back on the slots' channels.
// Authorizer cache entries read from the host are mirrored here until their expiry. Replies come back on this client's own channel, matched
// by id. The host enforces the timeouts; the client only guards against a host that never
// answers (gone, or never created), with one sweep timer instead of a timer per call.

import { BroadcastChannel, threadId, type MessagePort } from 'node:worker_threads'
import { COUNT_ONE, HeaderField, MAX_DIRECT_QUEUE, STATE_MASK, SlotField, SlotState, SlotTable, busyDirectWord, slotChannelName, taskTimedOut, wordClient, wordCount, type DirectFunction, type DirectGrant } from './direct.js'
import { DEFAULT_FUNCTION_HOST_NAME } from './host-name.js'
import { IdTable } from '../util/id-table.js'
import { BATCH_CALL_FIELDS } from './protocol.js'
import type { AuthorizerCacheStamp, DirectBatch, DirectResults, HostRequest, InvokeOutcome, InvokeReply, InvokeRequest, SlotDown } from './protocol.js'

/** How long past its timeout a call waits for the host before giving up on it. */
const HOST_GRACE_MS = 2_000
/** How long a function whose direct calls were handed back gets one call per instance (then it is tried with a queue again). */
export const HANDED_BACK_MS = 1_000
/** Period of the sweep for unanswered calls. */
const SWEEP_MS = 500

export interface InvokeOptions {
  /** The integration timeout (timeoutInMillis). */
  readonly timeoutMs: number
  /** The gateway request (RequestRecord.id) the call is for, so cancelRequest() can stop it. */
  readonly requestKey?: number
  /** API Gateway's request id, for log lines. */
  readonly requestId: string
}

export interface FunctionClient {
  /** Invokes a function by name (`name` or `name:qualifier`). Never rejects. */
  /** `payload`: the JSON bytes, or a DirectPayload (sent in its direct form to a local instance, as JSON otherwise). */
  invoke(name: string, payload: Uint8Array | DirectPayload, options: InvokeOptions): Promise<InvokeOutcome>
  /**
   * Looks a Lambda authorizer result up in the host's shared cache: ok (with cacheEntry)
   * on a hit, not-found on a miss. Never rejects.
   */
  lookupAuthorizerResult(key: string): Promise<InvokeOutcome>
  /**
   * The host's entry for key as this client last read it, while it lives (same expiry) and
   * the host has cleared or evicted nothing since: no message at all. Else null (ask the host).
   */
  mirroredAuthorizerResult(key: string, now: number): MirroredAuthorizerResult | null
  /** Keeps an authorizer result in the host's cache for ttlMs (fire and forget). */
  storeAuthorizerResult(key: string, payload: Uint8Array, ttlMs: number): void
  /**
   * The request `requestKey` went away: its call ends now as a crash, and the host stops what
   * it can (a queued invocation never starts, a remote one is aborted).
   */
  cancelRequest(requestKey: number): void
  /** Invocations this client handed to a runner itself (direct.ts), for tests and metrics. */
  readonly directInvocations: number
  /** Stops listening; pending calls get a crash outcome. */
  close(): void
}

/** A payload with a form a local instance reads faster than JSON (packed-event.ts PackedProxyEvent). */
export interface DirectPayload {
  /** The text a runner reads (DirectCall.packedEvent). */
  readonly packed: string
  /** The JSON payload, for the host and remote functions (made only when one needs it). */
  json(): Uint8Array
}

/** An entry of the host's authorizer cache, as the client's mirror holds it. */
export class MirroredAuthorizerResult {
  constructor(
    readonly payload: Uint8Array,
    /** The host's entry id (the worker compiles each entry once by it). */
    readonly cacheEntry: number,
    /** The host entry's own expiry (epoch ms). */
    readonly expiresAt: number,
  ) {}
}

/** Mirrored entries kept; beyond it the mirror starts over (a miss costs one round trip). */
const MAX_MIRRORED = 1_000

/** How long a cache lookup may take before the host is presumed gone (it answers at once). */
const LOOKUP_TIMEOUT_MS = 1_000

class Pending {
  /** An invocation's call, kept until it is sent (and, sent directly, until answered: the host may have to run it). */
  name = ''
  payload: Uint8Array | null = null
  /** Instead of payload: a payload with a direct form. */
  direct: DirectPayload | null = null
  timeoutMs = 0
  requestId = ''
  /** Waiting in the client's batch for the end of the turn. */
  inBatch = false
  /** The slot it was sent to directly and that instance's epoch; -1: not sent directly. */
  slot = -1
  epoch = 0
  constructor(
    readonly id: number,
    readonly resolve: (o: InvokeOutcome) => void,
    /** Epoch ms after which the host is presumed gone. */
    readonly giveUpAt: number,
    /** InvokeOptions.requestKey, when given. */
    readonly requestKey: number | undefined,
  ) {}
}

let clientSeq = 0

class Client implements FunctionClient {
  /** Calls in flight by id (not a Map: see IdTable). */
  readonly #pending = new IdTable<Pending>()
  #nextId = 1
  #sweeper: NodeJS.Timeout | null = null
  readonly #send: (req: HostRequest, transfer: ArrayBuffer[]) => void
  readonly #replyTo: string
  readonly #listener: { ref(): void; unref(): void; close(): void }
  #closed = false
  /** Keys of the authorizer cache lookups in flight, by id: their replies fill the mirror. */
  readonly #lookups = new Map<number, string>()
  readonly #mirror = new Map<string, MirroredAuthorizerResult>()
  /** The host's generation counter (null until a first lookup brings it) and the mirror's stamp. */
  #generations: Int32Array | null = null
  #mirrorGeneration = -1
  /** Direct invocations (direct.ts): the host's grant, once asked (null until it answers). */
  #grant: DirectGrant | null = null
  #table: SlotTable | null = null
  /** Id of the DirectHello in flight, or 0. */
  #helloId = 0
  #asked = false
  /** The channel shared with the runner in each slot, opened on first use. */
  readonly #slotChannels: BroadcastChannel[] = []
  #directCount = 0
  /** Functions (by the name invoked) whose direct calls were handed back lately: until when they get one call per instance. */
  readonly #handedBackUntil = new Map<string, number>()
  /** Calls made with a requestKey: key → call id, and whether the host runs it. */
  readonly #byRequest = new Map<number, number>()
  readonly #hostCalls = new Set<number>()
  /** Invocations of this turn, sent together when it ends (#flush). */
  #batch: Pending[] = []
  #flushScheduled = false

  get directInvocations(): number {
    return this.#directCount
  }

  constructor(target: string | MessagePort) {
    const onReply = (msg: InvokeReply) => this.#onReply(msg)
    if (typeof target === 'string') {
      this.#replyTo = `${target}:reply:${threadId}:${clientSeq++}`
      const requests = new BroadcastChannel(target)
      const replies = new BroadcastChannel(this.#replyTo)
      replies.onmessage = (ev: unknown) => onReply((ev as MessageEvent).data as InvokeReply)
      requests.unref()
      replies.unref()
      this.#send = (req) => requests.postMessage(req)
      this.#listener = {
        ref: () => replies.ref(),
        unref: () => replies.unref(),
        close: () => {
          requests.close()
          replies.close()
        },
      }
    } else {
      this.#replyTo = ''
      target.on('message', onReply)
      target.unref()
      this.#send = (req, transfer) => target.postMessage(req, transfer)
      this.#listener = { ref: () => target.ref(), unref: () => target.unref(), close: () => target.close() }
    }
  }

  invoke(name: string, payload: Uint8Array | DirectPayload, options: InvokeOptions): Promise<InvokeOutcome> {
    if (this.#closed) return Promise.resolve({ kind: 'crash', reason: 'the function client is closed' })
    const id = this.#nextId++
    if (options.requestKey !== undefined) this.#byRequest.set(options.requestKey, id)
    return new Promise<InvokeOutcome>((resolve) => {
      const p = this.#track(id, resolve, options.timeoutMs, options.requestKey)
      p.name = name
      if (payload instanceof Uint8Array) p.payload = payload
      else p.direct = payload
      p.timeoutMs = options.timeoutMs
      p.requestId = options.requestId
      p.inBatch = true
      this.#batch.push(p)
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(this.#flush)
      }
    })
  }

  /** The turn's invocations: to runners directly where an instance takes them, else to the host. */
  readonly #flush = (): void => {
    this.#flushScheduled = false
    const batch = this.#batch
    this.#batch = []
    for (let i = 0; i < batch.length; i++) {
      const first = batch[i]!
      if (!first.inBatch) continue // went out with an earlier call of the same function
      first.inBatch = false
      if (this.#pending.get(first.id) !== first) continue // cancelled before it went out
      const group: Pending[] = [first]
      for (let j = i + 1; j < batch.length; j++) {
        const p = batch[j]!
        if (p.inBatch && p.name === first.name) {
          p.inBatch = false
          if (this.#pending.get(p.id) === p) group.push(p)
        }
      }
      const sent = this.#invokeDirect(first.name, group)
      for (let j = sent; j < group.length; j++) this.#sendToHost(group[j]!)
    }
  }

  #sendToHost(p: Pending): void {
    p.slot = -1
    if (p.requestKey !== undefined) this.#hostCalls.add(p.id)
    const req: InvokeRequest = { id: p.id, replyTo: this.#replyTo, name: p.name, payload: p.payload ?? p.direct!.json(), timeoutMs: p.timeoutMs, requestId: p.requestId }
    p.payload = null
    p.direct = null
    this.#send(req, [])
  }

  lookupAuthorizerResult(key: string): Promise<InvokeOutcome> {
    if (this.#closed) return Promise.resolve({ kind: 'crash', reason: 'the function client is closed' })
    const id = this.#nextId++
    this.#lookups.set(id, key)
    return new Promise<InvokeOutcome>((resolve) => {
      this.#track(id, resolve, LOOKUP_TIMEOUT_MS)
      this.#send({ type: 'authorizer-cache-get', id, replyTo: this.#replyTo, key }, [])
    })
  }

  cancelRequest(requestKey: number): void {
    const id = this.#byRequest.get(requestKey)
    if (id === undefined) return
    this.#byRequest.delete(requestKey)
    if (this.#hostCalls.delete(id)) this.#send({ type: 'invoke-cancel', id, replyTo: this.#replyTo }, [])
    // A direct call runs to its end in its runner; its answer finds no pending call.
    this.#onReply({ id, outcome: { kind: 'crash', reason: 'the request went away' } })
  }

  /** The call ended: nothing to cancel any more. */
  #forgetRequest(id: number, requestKey: number | undefined): void {
    if (requestKey === undefined) return
    if (this.#byRequest.get(requestKey) === id) this.#byRequest.delete(requestKey)
    this.#hostCalls.delete(id)
  }

  /** Asks the host for the slot table (once, and again after a directory change). */
  #hello(): void {
    if (this.#helloId !== 0 || this.#closed) return
    this.#asked = true
    const id = this.#nextId++
    this.#helloId = id
    this.#track(id, () => {}, LOOKUP_TIMEOUT_MS)
    this.#send({ type: 'direct-hello', id, replyTo: this.#replyTo, client: this.#grant?.client ?? null }, [])
  }

  /**
   * Sends what it can of `group` (calls of one function, in order) to its instances directly,
   * lowest slot first, each holding at most MAX_DIRECT_QUEUE (1 after a hand-back); returns how many went (the first ones).
   */
  #invokeDirect(name: string, group: readonly Pending[]): number {
    const grant = this.#grant
    const table = this.#table
    if (grant === null || table === null) {
      if (!this.#asked) this.#hello()
      return 0
    }
    if (grant.client === null) return 0
    const ints = table.ints
    if (Atomics.load(ints, HeaderField.DirectoryVersion) !== grant.version) {
      this.#hello()
      return 0
    }
    let fn: DirectFunction | undefined = grant.functions[name]
    let arn: string
    if (fn !== undefined) arn = fn.arn
    else {
      const colon = name.indexOf(':')
      if (colon === -1) return 0
      fn = grant.functions[name.slice(0, colon)]
      if (fn === undefined) return 0
      arn = `${fn.arn}:${name.slice(colon + 1)}`
    }
    const n = group.length
    let next = 0
    // Fill the lowest instance before waking the next: every message wakes a thread (the most
    // a call costs on a shared core), and a warm instance that answers within its turn runs its
    // calls one after another faster than threads taking turns on a core. A function whose calls
    // were handed back lately (one outlasted its turn) gets one call per instance instead: calls
    // queued behind it would only come back.
    const limit = this.#handedBackUntil.size !== 0 && (this.#handedBackUntil.get(name) ?? 0) > Date.now() ? 1 : MAX_DIRECT_QUEUE
    for (let i = 0; i < fn.count && next < n; i++) {
      const slot = fn.base + i
      const got = this.#acquire(ints, slot, grant.client, Math.min(n - next, limit), limit)
      if (got === 0) continue
      const epoch = Atomics.load(ints, SlotTable.at(slot, SlotField.Epoch))
      let bytes = 0
      for (let j = 0; j < got; j++) {
        const p = group[next + j]!
        if (p.direct === null) bytes += p.payload!.byteLength
      }
      const head = 8 * (1 + BATCH_CALL_FIELDS * got)
      const packed = new ArrayBuffer(head + bytes)
      const fields = new Float64Array(packed, 0, 1 + BATCH_CALL_FIELDS * got)
      const body = new Uint8Array(packed)
      fields[0] = got
      let at = head
      let text = ''
      for (let j = 0; j < got; j++) {
        const p = group[next++]!
        p.slot = slot
        p.epoch = epoch
        const f = 1 + BATCH_CALL_FIELDS * j
        fields[f] = p.id
        fields[f + 1] = p.giveUpAt - HOST_GRACE_MS
        fields[f + 2] = p.timeoutMs
        if (p.direct === null) {
          const payload = p.payload!
          fields[f + 3] = payload.byteLength
          fields[f + 4] = 0
          body.set(payload, at)
          at += payload.byteLength
        } else {
          fields[f + 3] = p.direct.packed.length
          fields[f + 4] = 1
          text += p.direct.packed
        }
      }
      this.#slotChannel(grant, slot).postMessage({ type: 'batch', arn, packed, text } satisfies DirectBatch)
      this.#directCount += got
    }
    return next
  }

  /** Room for up to `want` calls in a slot, holding at most `limit`: claimed when idle, or added to while this client holds it; how many it got. */
  #acquire(ints: Int32Array, slot: number, client: number, want: number, limit: number): number {
    const at = SlotTable.at(slot, SlotField.State)
    for (;;) {
      const word = Atomics.load(ints, at)
      if (word === SlotState.Idle) {
        if ((Atomics.load(ints, SlotTable.at(slot, SlotField.Ready)) & (1 << client)) === 0) return 0
        if (Atomics.compareExchange(ints, at, SlotState.Idle, SlotState.Claiming) !== SlotState.Idle) continue
        if (Atomics.load(ints, SlotTable.at(slot, SlotField.Retire)) !== 0) {
          // Retiring after a reload: not ours to use; the host's watchdog ends it.
          Atomics.compareExchange(ints, at, SlotState.Claiming, SlotState.Idle)
          return 0
        }
        // The previous holder's calls are all answered; none of this client's has started.
        Atomics.store(ints, SlotTable.at(slot, SlotField.Client), client)
        Atomics.store(ints, SlotTable.at(slot, SlotField.Call), 0)
        Atomics.store(ints, SlotTable.at(slot, SlotField.Answered), 0)
        const k = Math.min(want, limit)
        // The host took the slot meanwhile (the runner died): not this one.
        if (Atomics.compareExchange(ints, at, SlotState.Claiming, busyDirectWord(client, k)) !== SlotState.Claiming) return 0
        return k
      }
      if ((word & STATE_MASK) !== SlotState.BusyDirect || wordClient(word) !== client) return 0
      if (Atomics.load(ints, SlotTable.at(slot, SlotField.Retire)) !== 0) return 0
      const room = limit - wordCount(word)
      if (room <= 0) return 0
      const k = Math.min(room, want)
      if (Atomics.compareExchange(ints, at, word, word + k * COUNT_ONE) === word) return k
    }
  }

  #slotChannel(grant: DirectGrant, slot: number): BroadcastChannel {
    let ch = this.#slotChannels[slot]
    if (ch === undefined) {
      ch = new BroadcastChannel(slotChannelName(grant.host, slot, grant.client!))
      ch.onmessage = (ev: unknown) => this.#onRunnerMessage((ev as MessageEvent).data as DirectResults)
      ch.unref()
      this.#slotChannels[slot] = ch
    }
    return ch
  }

  /** A runner's answers to direct calls, as the host would have put them. */
  #onRunnerMessage(msg: DirectResults): void {
    if (msg.type !== 'results') return
    if (msg.packed !== null) {
      const fields = new Float64Array(msg.packed, 0, 1)
      const k = fields[0]!
      const head = new Float64Array(msg.packed, 0, 1 + 2 * k)
      let at = 8 * (1 + 2 * k)
      for (let j = 0; j < k; j++) {
        const length = head[2 + 2 * j]!
        this.#onReply({ id: head[1 + 2 * j]!, outcome: { kind: 'ok', payload: new Uint8Array(msg.packed, at, length) } })
        at += length
      }
    }
    if (msg.others === null) return
    for (const item of msg.others) {
      switch (item.kind) {
        case 'result':
          this.#onReply({ id: item.id, outcome: { kind: 'ok', payload: item.payload } })
          break
        case 'error':
          this.#onReply({ id: item.id, outcome: { kind: 'function-error', errorType: item.errorType, errorMessage: item.errorMessage, payload: item.payload } })
          break
        case 'expired':
          this.#onReply({ id: item.id, outcome: { kind: 'timeout', source: 'integration', afterMs: item.afterMs, errorMessage: taskTimedOut(item.afterMs) } })
          break
        case 'returned': {
          // Never started there: the host runs it on the next free instance.
          const p = this.#pending.get(item.id)
          if (p === undefined || p.slot === -1) break
          this.#handedBackUntil.set(p.name, Date.now() + HANDED_BACK_MS)
          this.#sendToHost(p)
          break
        }
      }
    }
  }

  /**
   * The instance of a slot this client held is gone: the call it ran gets the host's outcome;
   * calls after it never started (the host runs them); calls before it whose answer died with
   * the thread are a crash. Answers posted before (ids up to `answered`) are still on their way.
   */
  #onSlotDown(running: number, outcome: InvokeOutcome, down: SlotDown): void {
    for (const [, p] of this.#pending.entries()) {
      if (p.slot !== down.slot || p.epoch !== down.epoch || p.id <= down.answered) continue
      if (p.id === running) this.#onReply({ id: p.id, outcome })
      else if (p.id > running) this.#sendToHost(p)
      else this.#onReply({ id: p.id, outcome: { kind: 'crash', reason: 'the function instance stopped before its answer was sent' } })
    }
  }

  mirroredAuthorizerResult(key: string, now: number): MirroredAuthorizerResult | null {
    const gens = this.#generations
    if (gens === null || this.#mirror.size === 0) return null
    if (Atomics.load(gens, 0) !== this.#mirrorGeneration) {
      // The host cleared or evicted since: what this mirror holds may be gone there.
      this.#mirror.clear()
      return null
    }
    const m = this.#mirror.get(key)
    if (m === undefined) return null
    if (m.expiresAt <= now) {
      this.#mirror.delete(key)
      return null
    }
    return m
  }

  /** A lookup's reply: a hit goes into the mirror, stamped with the generation it was read in. */
  #mirrorReply(key: string, outcome: InvokeOutcome, stamp: AuthorizerCacheStamp): void {
    if (this.#generations === null) this.#generations = new Int32Array(stamp.generations)
    if (outcome.kind !== 'ok' || outcome.cacheEntry === undefined) return
    // Cleared or evicted while the reply travelled: the entry may be gone already.
    if (Atomics.load(this.#generations, 0) !== stamp.generation) return
    if (this.#mirrorGeneration !== stamp.generation || this.#mirror.size >= MAX_MIRRORED) {
      this.#mirror.clear()
      this.#mirrorGeneration = stamp.generation
    }
    this.#mirror.set(key, new MirroredAuthorizerResult(outcome.payload, outcome.cacheEntry, stamp.expiresAt))
  }

  storeAuthorizerResult(key: string, payload: Uint8Array, ttlMs: number): void {
    if (!this.#closed) this.#send({ type: 'authorizer-cache-store', key, payload, ttlMs }, [])
  }

  #track(id: number, resolve: (o: InvokeOutcome) => void, timeoutMs: number, requestKey?: number): Pending {
    if (this.#pending.size === 0) {
      this.#listener.ref()
      this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS)
      this.#sweeper.unref()
    }
    const p = new Pending(id, resolve, Date.now() + timeoutMs + HOST_GRACE_MS, requestKey)
    this.#pending.set(id, p)
    return p
  }

  #onReply(msg: InvokeReply): void {
    if (msg.slotDown !== undefined) return this.#onSlotDown(msg.id, msg.outcome, msg.slotDown)
    if (msg.direct !== undefined && msg.id === this.#helloId) {
      this.#helloId = 0
      this.#grant = msg.direct
      if (this.#table === null || this.#table.buffer !== msg.direct.table) this.#table = new SlotTable(msg.direct.table)
    }
    const p = this.#pending.get(msg.id)
    if (p === undefined) return
    this.#pending.delete(msg.id)
    if (p.requestKey !== undefined) this.#forgetRequest(msg.id, p.requestKey)
    if (this.#pending.size === 0) this.#idle()
    if (this.#lookups.size !== 0) {
      const key = this.#lookups.get(msg.id)
      if (key !== undefined) {
        this.#lookups.delete(msg.id)
        if (msg.cache !== undefined) this.#mirrorReply(key, msg.outcome, msg.cache)
      }
    }
    p.resolve(msg.outcome)
  }

  #sweep(): void {
    const now = Date.now()
    for (const [id, p] of this.#pending.entries()) {
      if (p.giveUpAt <= now) {
        if (id === this.#helloId) this.#helloId = 0
        this.#pending.delete(id)
        if (p.requestKey !== undefined) this.#forgetRequest(id, p.requestKey)
        this.#lookups.delete(id)
        p.resolve({ kind: 'crash', reason: 'the function host did not answer' })
      }
    }
    if (this.#pending.size === 0) this.#idle()
  }

  #idle(): void {
    this.#listener.unref()
    if (this.#sweeper !== null) clearInterval(this.#sweeper)
    this.#sweeper = null
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#grant !== null && this.#grant.client !== null) this.#send({ type: 'direct-bye', client: this.#grant.client }, [])
    for (const ch of this.#slotChannels) ch?.close()
    this.#idle()
    this.#listener.close()
    for (const [, p] of this.#pending.entries()) p.resolve({ kind: 'crash', reason: 'the function client is closed' })
    this.#pending.clear()
    this.#lookups.clear()
    this.#mirror.clear()
  }
}

/**
 * A client of the host named `target` (its BroadcastChannel name), or of the port
 * host.connect() gave. One per thread is enough; it multiplexes every call.
 */
export function connectFunctionHost(target: string | MessagePort = DEFAULT_FUNCTION_HOST_NAME): FunctionClient {
  return new Client(target)
}

const defaultClients = new Map<string, FunctionClient>()

/**
 * Invokes a function through the host named `host` (default DEFAULT_FUNCTION_HOST_NAME),
 * with this thread's shared client for that host. Never rejects.
 */
export function invoke(name: string, payload: Uint8Array | DirectPayload, options: InvokeOptions & { readonly host?: string }): Promise<InvokeOutcome> {
  const host = options.host ?? DEFAULT_FUNCTION_HOST_NAME
  let client = defaultClients.get(host)
  if (client === undefined) {
    client = connectFunctionHost(host)
    defaultClients.set(host, client)
  }
  return client.invoke(name, payload, options)
}
