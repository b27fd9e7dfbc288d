// The caller's side of the function host, usable from any thread (hot-path workers included).
//
//   const outcome = await invoke('pets', payload, { timeoutMs: 29_000, requestId })
//
// Requests go to the host by BroadcastChannel name (nothing to wire up), or over a
// MessagePort from host.connect(). Replies come back on this client's own channel, matched
// by id. The host enforces the timeouts; the client only guards against a host that never
// answers (gone, or never created), with one sweep timer instead of a timer per call.

import { BroadcastChannel, threadId, type MessagePort } from 'node:worker_threads'
import { DEFAULT_FUNCTION_HOST_NAME } from './host-name.js'
import type { AuthorizerCacheStamp, HostRequest, InvokeOutcome, InvokeReply, InvokeRequest } from './protocol.js'

/** How long past its timeout a call waits for the host before giving up on it. */
const HOST_GRACE_MS = 2_000
/** Period of the sweep for unanswered calls. */
const SWEEP_MS = 500

export interface InvokeOptions {
  /** The integration timeout (timeoutInMillis). */
  readonly timeoutMs: number
  /** API Gateway's request id, for log lines. */
  readonly requestId: string
}

export interface FunctionClient {
  /** Invokes a function by name (`name` or `name:qualifier`). Never rejects. */
  invoke(name: string, payload: Uint8Array, options: InvokeOptions): Promise<InvokeOutcome>
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
  /** Stops listening; pending calls get a crash outcome. */
  close(): void
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
  constructor(
    readonly resolve: (o: InvokeOutcome) => void,
    /** Epoch ms after which the host is presumed gone. */
    readonly giveUpAt: number,
  ) {}
}

let clientSeq = 0

class Client implements FunctionClient {
  readonly #pending = new Map<number, Pending>()
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

  invoke(name: string, payload: Uint8Array, options: InvokeOptions): Promise<InvokeOutcome> {
    if (this.#closed) return Promise.resolve({ kind: 'crash', reason: 'the function client is closed' })
    const id = this.#nextId++
    return new Promise<InvokeOutcome>((resolve) => {
      this.#track(id, resolve, options.timeoutMs)
      const req: InvokeRequest = { id, replyTo: this.#replyTo, name, payload, timeoutMs: options.timeoutMs, requestId: options.requestId }
      this.#send(req, [])
    })
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

  #track(id: number, resolve: (o: InvokeOutcome) => void, timeoutMs: number): void {
    if (this.#pending.size === 0) {
      this.#listener.ref()
      this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS)
      this.#sweeper.unref()
    }
    this.#pending.set(id, new Pending(resolve, Date.now() + timeoutMs + HOST_GRACE_MS))
  }

  #onReply(msg: InvokeReply): void {
    const p = this.#pending.get(msg.id)
    if (p === undefined) return
    this.#pending.delete(msg.id)
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
    for (const [id, p] of this.#pending) {
      if (p.giveUpAt <= now) {
        this.#pending.delete(id)
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
    this.#idle()
    this.#listener.close()
    for (const p of this.#pending.values()) p.resolve({ kind: 'crash', reason: 'the function client is closed' })
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
export function invoke(name: string, payload: Uint8Array, options: InvokeOptions & { readonly host?: string }): Promise<InvokeOutcome> {
  const host = options.host ?? DEFAULT_FUNCTION_HOST_NAME
  let client = defaultClients.get(host)
  if (client === undefined) {
    client = connectFunctionHost(host)
    defaultClients.set(host, client)
  }
  return client.invoke(name, payload, options)
}
