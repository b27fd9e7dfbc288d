// The response cache in Redis (state.redis): entries shared by every gateway process that
// names the same Redis, each expiring by Redis's own TTL (SET … PX), through the thread's
// one connection per URL (state/redis.ts, shared with throttling). Redis unreachable: every
// lookup is a miss and nothing is stored (requests go to the integration), the log says so
// once per outage, and the connection reconnects in the background; the log says when it
// is back too.
import type { Redis } from 'ioredis'
import { acquireRedis, type SharedRedis } from '../state/redis.js'

/** Every key of the response cache starts with this, then "{apiId}/{stage}:". */
export const REDIS_CACHE_PREFIX = 'backplane:cache:'

/** A worker's first lookups may come while its connection is still being made: the longest they wait for it. */
const FIRST_CONNECT_WAIT_MS = 1000

/** The key prefix of one stage's entries. */
export function redisStagePrefix(apiId: string, stage: string): string {
  return `${REDIS_CACHE_PREFIX}${apiId}/${stage}:`
}

export class RedisCacheClient {
  readonly redis: Redis
  /** The thread's connection (state/redis.ts), shared with its other users. */
  readonly #shared: SharedRedis
  #down = false
  /** Connected once: a later disconnection is an outage (misses at once), while the first connect is waited for. */
  #everReady = false
  #closed = false

  constructor(url: string) {
    this.#shared = acquireRedis(url)
    this.redis = this.#shared.client
    this.#everReady = this.#shared.ready
    this.#shared.onState((up, reason) => {
      if (!up) this.#outage(Object.assign(new Error(reason), { code: reason }))
      else this.#back()
    })
    if (this.#shared.down) this.#outage(Object.assign(new Error('connection lost'), { code: 'CONNECTION_LOST' }))
    this.redis.on('ready', () => { this.#everReady = true })
  }

  #back(): void {
    this.#everReady = true
    if (!this.#down || this.#closed) return
    this.#down = false
    process.stderr.write('backplane: response cache: Redis reachable again\n')
  }

  #outage(err: Error & { code?: string }): void {
    if (this.#down || this.#closed) return
    this.#down = true
    // The URL may carry a password: only the error's code is printed.
    process.stderr.write(`backplane: response cache: Redis unreachable (${err.code ?? err.message}); serving cache misses until it is back\n`)
  }

  /** The bytes under `key`, or null when absent or when Redis cannot answer. */
  async get(key: string): Promise<Uint8Array | null> {
    try {
      // A worker's first requests may arrive while its client still connects: wait (bounded) for it.
      if (this.redis.status !== 'ready') {
        if (!this.#everReady) await this.ready(FIRST_CONNECT_WAIT_MS)
        else {
          this.#outage(Object.assign(new Error('connection lost'), { code: 'CONNECTION_LOST' }))
          return null
        }
      }
      return await this.redis.getBuffer(key)
    } catch (err) {
      this.#outage(err as Error)
      return null
    }
  }

  /** Stores `value` under `key` for `ttlMs`; a failure is an outage, not an error. */
  set(key: string, value: Uint8Array, ttlMs: number): void {
    if (this.redis.status !== 'ready') return
    this.redis.set(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength), 'PX', ttlMs).catch((err: Error) => this.#outage(err))
  }

  /** Resolves once connected; rejects after `timeoutMs` (commands are not queued while offline). */
  async ready(timeoutMs: number): Promise<void> {
    if (this.redis.status === 'ready') return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady)
        reject(new Error(`not connected within ${timeoutMs} ms`))
      }, timeoutMs)
      const onReady = () => {
        clearTimeout(timer)
        resolve()
      }
      this.redis.once('ready', onReady)
    })
  }

  /** Deletes every key starting with `prefix` (FlushStageCache); resolves with how many went. */
  async deletePrefix(prefix: string, timeoutMs = 10_000): Promise<number> {
    await this.ready(timeoutMs)
    let cursor = '0'
    let deleted = 0
    // Stage prefixes are [A-Za-z0-9_-] and '/': no glob character to escape.
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) deleted += await this.redis.unlink(...keys)
    } while (cursor !== '0')
    return deleted
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#shared.release()
  }
}

const clients = new Map<string, RedisCacheClient>()

/** This thread's client for `url`, made on first use and shared by every stage (and reload). */
export function redisCacheClient(url: string): RedisCacheClient {
  let c = clients.get(url)
  if (c === undefined) {
    c = new RedisCacheClient(url)
    clients.set(url, c)
  }
  return c
}
