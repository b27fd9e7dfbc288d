// The function host: one per gateway, created by the main thread. It owns every function
// instance (local runner workers, remote Invoke API pools) and answers InvokeRequests from
// any thread of the process:
//
//   hot-path worker ─ BroadcastChannel `{name}` ─────────▶ host (main thread) ─▶ runner worker
//                   ◀ BroadcastChannel `{name}:reply:{client}`
//   or a dedicated MessagePort from host.connect() (transferable to a worker), same messages.
//
// Once a local function has a warm instance, a client hands calls to it directly
// (direct.ts: worker ⇄ runner, two messages instead of four); the host still spawns,
// bounds concurrency, retires on reload and answers the timeouts and crashes of those calls.
//
// Placement: the main thread only forwards messages here (no parsing, no user code), so it
// keeps its front-end job; user code runs in the runner workers, apart from the piscina
// workers of the hot path, so a handler that loops, leaks or throws never stalls routing.

import { BroadcastChannel, MessageChannel, type MessagePort } from 'node:worker_threads'
import {
  compileFunctionsConfig,
  DEFAULT_FUNCTION_ACCOUNT,
  DEFAULT_FUNCTION_REGION,
  type CompiledFunction,
  type FunctionsConfig,
} from './config.js'
import { DEFAULT_FUNCTION_HOST_NAME } from './host-name.js'
import { LocalFunction } from './local.js'
import type { HostRequest, InvokeOutcome, InvokeReply, InvokeRequest } from './protocol.js'
import { RemoteFunction } from './remote.js'
import { AuthorizerResultCache } from './authorizer-cache.js'
import { DirectSlots } from './direct-host.js'
import { CancelToken } from './cancel.js'

export { DEFAULT_FUNCTION_HOST_NAME }

export interface FunctionHostOptions {
  /** Directory relative handler paths are resolved against (the config file's directory). */
  readonly baseDir: string
  /** BroadcastChannel name clients reach the host by; unique per host in a process. */
  readonly name?: string
  /** Region of the functions' ARNs and AWS_REGION; default DEFAULT_FUNCTION_REGION. */
  readonly region?: string
  /** Account of the functions' ARNs; default DEFAULT_FUNCTION_ACCOUNT. */
  readonly accountId?: string
  /** Handler console output: to this process's stdout/stderr (default) or dropped. */
  readonly output?: 'inherit' | 'ignore'
  /** state.redis: the authorizer result cache is shared through it (authorizer-cache.ts); null or absent: this process only. */
  readonly redis?: string | null
}

export interface FunctionHost {
  /** The BroadcastChannel name clients pass to connectFunctionHost(). */
  readonly name: string
  /** Invokes from the host's own thread (no message hop). Never rejects. */
  invoke(name: string, payload: Uint8Array, options: { timeoutMs: number; requestId: string }): Promise<InvokeOutcome>
  /** A port for one client: transfer it to a worker and pass it to connectFunctionHost(). */
  connect(): MessagePort
  /**
   * Reloads every local handler module (new instances, fresh module cache) and, when given,
   * applies a new functions config. An invalid config throws ConfigError and changes nothing.
   */
  reload(config?: FunctionsConfig): void
  /** Terminates every instance and closes the channels; pending invocations get a crash. */
  close(): Promise<void>
}

type Fn = LocalFunction | RemoteFunction

/** The reply sink of a request that has none (an authorizer cache store). */
const noReply = (): void => {}

/** Reply channels kept open: one per client thread, far more than a gateway's workers. */
const MAX_REPLY_CHANNELS = 256

class Host implements FunctionHost {
  readonly name: string
  readonly #options: FunctionHostOptions
  readonly #region: string
  readonly #accountId: string
  #functions = new Map<string, Fn>()
  #compiled: ReadonlyMap<string, CompiledFunction>
  readonly #channel: BroadcastChannel
  readonly #replyChannels = new Map<string, BroadcastChannel>()
  readonly #ports = new Set<MessagePort>()
  /** Lambda authorizer results, shared by every client (authorizer-cache.ts). */
  readonly #authorizerCache = new AuthorizerResultCache()
  /** Slots of local instances that take direct calls from clients (direct.ts). */
  readonly #direct: DirectSlots
  /** Host-path invocations from clients, by `{client key}\n{id}`: what InvokeCancel stops. */
  readonly #cancels = new Map<string, CancelToken>()
  #portSeq = 0
  #closed = false

  constructor(config: FunctionsConfig, options: FunctionHostOptions) {
    this.name = options.name ?? DEFAULT_FUNCTION_HOST_NAME
    this.#options = options
    this.#region = options.region ?? DEFAULT_FUNCTION_REGION
    this.#accountId = options.accountId ?? DEFAULT_FUNCTION_ACCOUNT
    this.#compiled = compileFunctionsConfig(config, options.baseDir)
    this.#direct = new DirectSlots(this.name)
    for (const fn of this.#compiled.values()) this.#functions.set(fn.name, this.#create(fn))
    this.#publishDirectory()
    this.#authorizerCache.share(options.redis ?? null, this.#compiled.values())
    this.#channel = new BroadcastChannel(this.name)
    this.#channel.onmessage = (ev: unknown) => this.#onChannelRequest((ev as MessageEvent).data as HostRequest)
  }

  #create(fn: CompiledFunction): Fn {
    if (fn.kind === 'remote') return new RemoteFunction(fn)
    return new LocalFunction(fn, { region: this.#region, accountId: this.#accountId, output: this.#options.output ?? 'inherit', direct: this.#direct })
  }

  /** The local functions clients may invoke directly, after any change of them. */
  #publishDirectory(): void {
    const owners = new Map<string, LocalFunction>()
    for (const [name, fn] of this.#functions) if (fn instanceof LocalFunction) owners.set(name, fn)
    this.#direct.setOwners(owners)
  }

  /** A client asking to invoke directly (reply says how), or leaving. Returns the reply, else null. */
  #directRequest(req: HostRequest, reply: (r: InvokeReply) => void): InvokeReply | null {
    if (req.type === 'direct-bye') {
      this.#direct.removeClient(req.client)
      return null
    }
    if (req.type !== 'direct-hello') return null
    const client = this.#direct.addClient(reply, req.client)
    return { id: req.id, outcome: { kind: 'not-found' }, direct: { client, host: this.name, table: this.#direct.table.buffer, version: this.#direct.version, functions: this.#direct.directory() } }
  }

  invoke(name: string, payload: Uint8Array, options: { timeoutMs: number; requestId: string }, cancel: CancelToken | null = null): Promise<InvokeOutcome> {
    void options.requestId // reserved for execution logs
    if (this.#closed) return Promise.resolve({ kind: 'crash', reason: 'the function host is closed' })
    // `name:qualifier` may be configured as a function of its own; else the qualifier rides along.
    let fn = this.#functions.get(name)
    let qualifier: string | null = null
    if (fn === undefined) {
      const colon = name.indexOf(':')
      if (colon !== -1) {
        fn = this.#functions.get(name.slice(0, colon))
        qualifier = name.slice(colon + 1)
      }
    }
    if (fn === undefined) return Promise.resolve({ kind: 'not-found' })
    return fn.invoke(payload, options.timeoutMs, qualifier, cancel)
  }

  /** A client's invocation, stoppable by its InvokeCancel while it runs here. */
  #invokeFor(key: string, req: InvokeRequest): Promise<InvokeOutcome> {
    const token = new CancelToken()
    const k = key + '\n' + req.id
    this.#cancels.set(k, token)
    return this.invoke(req.name, req.payload, req, token).then((outcome) => {
      this.#cancels.delete(k)
      return outcome
    })
  }

  #cancel(key: string, id: number): void {
    const k = key + '\n' + id
    const token = this.#cancels.get(k)
    if (token === undefined) return
    this.#cancels.delete(k)
    token.cancel()
  }

  /**
   * The authorizer cache's messages: a store is kept (no reply); a lookup is answered without
   * a function call, at once from this process's entries, or after Redis's answer (`send`).
   */
  #cacheRequest(req: HostRequest, send: (reply: InvokeReply) => void): void {
    if (req.type === 'authorizer-cache-store') return this.#authorizerCache.set(req.key, req.payload, req.ttlMs, Date.now())
    if (req.type !== 'authorizer-cache-get') return
    const id = req.id
    this.#authorizerCache.lookup(req.key, Date.now(), (hit, stamp) => {
      if (!this.#closed) send({ id, outcome: hit === null ? { kind: 'not-found' } : { kind: 'ok', payload: hit.payload, cacheEntry: hit.id }, cache: stamp })
    })
  }

  #onChannelRequest(req: HostRequest): void {
    if (req.type !== undefined) {
      if (this.#closed) return
      if (req.type === 'invoke-cancel') return this.#cancel(req.replyTo, req.id)
      if (req.type === 'direct-hello' || req.type === 'direct-bye') {
        const replyTo = req.type === 'direct-hello' ? req.replyTo : ''
        const grant = this.#directRequest(req, (r) => { if (!this.#closed) this.#replyChannel(replyTo).postMessage(r) })
        if (grant !== null && req.type === 'direct-hello') this.#replyChannel(req.replyTo).postMessage(grant)
        return
      }
      if (req.type === 'authorizer-cache-get') this.#cacheRequest(req, (reply) => this.#replyChannel(req.replyTo).postMessage(reply))
      else this.#cacheRequest(req, noReply)
      return
    }
    void this.#invokeFor(req.replyTo, req).then((outcome) => {
      if (this.#closed) return
      const msg: InvokeReply = { id: req.id, outcome }
      this.#replyChannel(req.replyTo).postMessage(msg)
    })
  }

  /** The reply channel of a client, opened on first use. */
  #replyChannel(replyTo: string): BroadcastChannel {
    let reply = this.#replyChannels.get(replyTo)
    if (reply === undefined) {
      // Clients come and go with their threads (piscina may recycle workers): keep the newest.
      if (this.#replyChannels.size >= MAX_REPLY_CHANNELS) {
        const [oldest, ch] = this.#replyChannels.entries().next().value as [string, BroadcastChannel]
        ch.close()
        this.#replyChannels.delete(oldest)
      }
      reply = new BroadcastChannel(replyTo)
      reply.unref()
      this.#replyChannels.set(replyTo, reply)
    }
    return reply
  }

  connect(): MessagePort {
    const { port1, port2 } = new MessageChannel()
    this.#ports.add(port1)
    const key = `port:${this.#portSeq++}`
    port1.on('message', (req: HostRequest) => {
      if (req.type !== undefined) {
        if (req.type === 'invoke-cancel') return this.#cancel(key, req.id)
        if (req.type === 'direct-hello' || req.type === 'direct-bye') {
          const grant = this.#directRequest(req, (r) => { if (!this.#closed) port1.postMessage(r) })
          if (grant !== null && !this.#closed) port1.postMessage(grant)
          return
        }
        this.#cacheRequest(req, (reply) => port1.postMessage(reply))
        return
      }
      void this.#invokeFor(key, req).then((outcome) => {
        if (this.#closed) return
        const msg: InvokeReply = { id: req.id, outcome }
        const transfer = outcome.kind === 'ok' || outcome.kind === 'function-error' ? [outcome.payload.buffer as ArrayBuffer] : []
        port1.postMessage(msg, transfer)
      })
    })
    port1.on('close', () => this.#ports.delete(port1))
    // The port must not keep the process alive by itself: the host's channel decides that.
    port1.unref()
    return port2
  }

  reload(config?: FunctionsConfig): void {
    if (this.#closed) return
    // Reloaded handlers may decide differently: cached authorizer results go.
    this.#authorizerCache.clear()
    if (config === undefined) {
      for (const fn of this.#functions.values()) if (fn instanceof LocalFunction) fn.reload()
      this.#publishDirectory()
      this.#authorizerCache.share(this.#options.redis ?? null, this.#compiled.values())
      return
    }
    const next = compileFunctionsConfig(config, this.#options.baseDir)
    const functions = new Map<string, Fn>()
    for (const c of next.values()) {
      const old = this.#functions.get(c.name)
      if (old instanceof LocalFunction && c.kind === 'local') {
        old.reload(c)
        functions.set(c.name, old)
      } else {
        functions.set(c.name, this.#create(c))
      }
    }
    for (const [name, old] of this.#functions) {
      if (functions.get(name) !== old) void (old instanceof RemoteFunction ? old.close(true) : old.close())
    }
    this.#functions = functions
    this.#compiled = next
    this.#publishDirectory()
    this.#authorizerCache.share(this.#options.redis ?? null, this.#compiled.values())
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#direct.close()
    this.#authorizerCache.close()
    this.#channel.close()
    for (const ch of this.#replyChannels.values()) ch.close()
    this.#replyChannels.clear()
    for (const p of this.#ports) p.close()
    this.#ports.clear()
    await Promise.all([...this.#functions.values()].map((fn) => fn.close()))
  }
}

/** Creates the function host of a gateway (main thread). Throws ConfigError on a bad config. */
export function createFunctionHost(config: FunctionsConfig, options: FunctionHostOptions): FunctionHost {
  return new Host(config, options)
}
