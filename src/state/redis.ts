// One Redis connection per URL per thread (`state.redis`), shared by every user of that
// thread: throttling's buckets and the response cache in the serving threads, quotas in the
// main thread, the authorizer cache in the function host thread. Each thread holds its own
// (an ioredis client cannot cross threads); within a thread, N users never mean N sockets.
//
// The policy, the same for all users:
//   - Never queue while disconnected (enableOfflineQueue off, no retries): a command fails at
//     once and its user decides locally (local buckets, local counts, a cache miss).
//   - No command waits longer than REDIS_COMMAND_TIMEOUT_MS.
//   - Reconnect for ever, at most REDIS_RECONNECT_MAX_DELAY_MS between attempts.
//   - Auto-pipelining: the commands of one event-loop turn share a write.
// Outages: the connection tells its users once when it is lost (or cannot be made) and once
// when it is back (onState), so each says so in its log once each way; the URL, which may
// carry a password, is never logged (describeRedis gives host:port).
import { createRequire } from 'node:module'
import type { Redis, RedisOptions } from 'ioredis'

/** ioredis, loaded by the first thread that needs it: a gateway without Redis never pays its import (≈ 1 s of start-up per thread on a loaded machine). */
const require = createRequire(import.meta.url)
function loadRedis(): new (url: string, options: RedisOptions) => Redis {
  return (require('ioredis') as { Redis: new (url: string, options: RedisOptions) => Redis }).Redis
}

/**
 * A Redis answer slower than this fails the command: requests are then decided locally.
 * Redis on loopback answers in well under 1 ms; the bound is wide enough that a stalled
 * event loop does not fail a quota sync Redis has applied (it would be sent again).
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500
/** The longest wait between reconnection attempts: the window after Redis is back during which decisions are still local. */
export const REDIS_RECONNECT_MAX_DELAY_MS = 500
/** Bound on opening the TCP connection. */
const CONNECT_TIMEOUT_MS = 1_000

/** host:port of a redis:// URL, for log lines (the URL may carry a password: never logged). */
export function describeRedis(url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port === '' ? '6379' : u.port}`
  } catch {
    return 'redis'
  }
}

/** Told when the connection is lost (up=false, with the reason) and when it is back (up=true). */
export type RedisStateListener = (up: boolean, reason: string) => void

/** A thread's connection to one Redis, shared by its users (acquireRedis / release). */
export class SharedRedis {
  readonly url: string
  /** host:port, for log lines. */
  readonly where: string
  readonly client: Redis
  /** Users holding it; at 0 the connection closes. */
  #users = 0
  /** Lost (or never made) and its users told so; cleared when ready. */
  #down = false
  #closed = false
  readonly #listeners = new Set<RedisStateListener>()

  constructor(url: string) {
    this.url = url
    this.where = describeRedis(url)
    const RedisClient = loadRedis()
    this.client = new RedisClient(url, {
      // Fail at once while disconnected, never queue: the user decides locally instead.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      enableAutoPipelining: true,
      retryStrategy: (times: number) => Math.min(times * 50, REDIS_RECONNECT_MAX_DELAY_MS),
    })
    this.client.on('ready', () => this.#up())
    this.client.on('error', (err: Error & { code?: string }) => this.#lost(err.code ?? err.message))
    this.client.on('close', () => this.#lost('connection closed'))
  }

  /** Whether a command can go to Redis now. */
  get ready(): boolean {
    return this.client.status === 'ready'
  }

  /** Whether the connection is lost now (its users were told). */
  get down(): boolean {
    return this.#down
  }

  /** Listens to losses and recoveries (each said once); returns the unsubscribe. */
  onState(listener: RedisStateListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Defines a Lua command on the client once (each user names its own). */
  defineScript(name: string, lua: string, numberOfKeys?: number): void {
    if (typeof (this.client as unknown as Record<string, unknown>)[name] === 'function') return
    this.client.defineCommand(name, numberOfKeys === undefined ? { lua } : { lua, numberOfKeys })
  }

  /**
   * Resolves true once connected; false as soon as an attempt fails (the server is not
   * there), or after timeoutMs. The client keeps retrying either way.
   */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true)
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer)
        this.client.off('ready', onReady)
        this.client.off('error', onError)
        resolve(ok)
      }
      const onReady = (): void => done(true)
      const onError = (): void => done(false)
      const timer = setTimeout(() => done(false), timeoutMs)
      this.client.once('ready', onReady)
      this.client.once('error', onError)
    })
  }

  #lost(reason: string): void {
    if (this.#down || this.#closed || this.client.status === 'ready') return
    this.#down = true
    for (const l of this.#listeners) l(false, reason)
  }

  #up(): void {
    if (!this.#down) return
    this.#down = false
    for (const l of this.#listeners) l(true, '')
  }

  /** Held by one more user. */
  retain(): this {
    this.#users++
    return this
  }

  /** One user is done with it; the last closes the connection. */
  release(): void {
    if (--this.#users > 0 || this.#closed) return
    this.#closed = true
    connections.delete(this.url)
    this.#listeners.clear()
    this.client.disconnect()
  }
}

/** This thread's connections, by URL (a reload to another URL opens another). */
const connections = new Map<string, SharedRedis>()

/** This thread's connection to `url`, opened on first use; call release() when done with it. */
export function acquireRedis(url: string): SharedRedis {
  let c = connections.get(url)
  if (c === undefined) connections.set(url, (c = new SharedRedis(url)))
  return c.retain()
}

/** Connections open in this thread (tests: one per URL, whatever the number of users). */
export function openRedisConnections(): number {
  return connections.size
}
