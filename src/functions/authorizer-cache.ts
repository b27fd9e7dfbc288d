// The Lambda authorizer result cache, one per gateway, held by the function host thread.
//
//   worker ─ AuthorizerCacheGet {key} ───────▶ host: entry alive? ─ yes ─▶ reply ok {payload, cacheEntry}
//                                                               └ no ──▶ reply not-found
//   worker (miss) ─ InvokeRequest ──▶ host ──▶ the authorizer function
//   worker (valid result) ─ AuthorizerCacheStore {key, payload, ttlMs} ──▶ host
//
// Why the host thread: authorizer calls already go there, so a cached answer costs one
// message round trip and no function call, and every worker sees the same entries (N
// workers never mean N calls per TTL — DESIGN "State that outlives a request"). A
// SharedArrayBuffer table would save the round trip but needs a hand-made hash table with
// variable-size values and a lock; the policies must be compiled per worker anyway, which
// the worker does once per entry (keyed by cacheEntry), not once per request.
//
// Each worker also mirrors the entries it has read (client.ts): same entry, same expiry, so
// a repeated identity costs no round trip at all. The host tells the mirrors to forget
// through `generation`, a counter in a SharedArrayBuffer every client holds: it moves on a
// reload and whenever an entry is evicted before its expiry, and a mirror whose stamp is
// older starts empty. Entries that merely expire need no word: the mirror has the expiry.
//
// Only results the worker accepted are stored (a malformed result or a function error is
// not cached: the next request calls the function again). Keys are built by the worker:
// API, stage, authorizer (with a hash of its definition) and the identity sources' values.
//
// With `state.redis` a second level is shared by every gateway process naming that Redis:
//
//   lookup: local entry alive? ─ yes ─▶ reply   (the first level: no round trip)
//           └ no ─▶ Redis ready? ─ no ─▶ reply not-found (the function is called)
//                   └ yes ─▶ GET + PTTL (one script, async) ─ found ─▶ kept locally until the
//                                                              Redis entry's own expiry ─▶ reply
//   store:  local entry, and SET … PX ttl in Redis (fire and forget)
//
// Redis keys are bp:authz:{api}/{stage}/{authorizer}:{version}:{identity}, where identity is
// the SHA-256 of the whole local key, so no identity source value (a token) reaches Redis in
// clear, and version hashes the functions config and the local handlers' module files: a
// reload that changes what an authorizer would answer never meets the old entries, while
// gateways running the same configuration share theirs. Redis unreachable: the local level
// serves alone, the log says so once when it is lost and once when it is back, and the
// thread's connection (state/redis.ts) reconnects by itself.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { CompiledFunction } from './config.js'
import type { AuthorizerCacheStamp } from './protocol.js'
import { acquireRedis, type SharedRedis } from '../state/redis.js'

/** Most entries kept; the oldest goes first beyond it (API Gateway bounds its cache too). */
export const MAX_AUTHORIZER_CACHE_ENTRIES = 10_000

/** Every Redis key of the authorizer cache starts with this. */
export const REDIS_AUTHORIZER_PREFIX = 'bp:authz:'

/** GET and PTTL in one atomic round trip: the payload and its remaining life, or nil. */
const REDIS_GET_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('PTTL', KEYS[1])}
`

/**
 * The version part of the Redis keys: a hash of the functions config (names, handlers,
 * environments, timeouts) and of each local handler's module file as it is now.
 */
export function authorizerCacheVersion(functions: Iterable<CompiledFunction>): string {
  const h = createHash('sha256')
  for (const fn of [...functions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    h.update(JSON.stringify(fn)).update('\n')
    if (fn.kind !== 'local') continue
    try {
      h.update(readFileSync(fileURLToPath(fn.moduleUrl)))
    } catch {
      h.update('unreadable')
    }
  }
  return h.digest('hex').slice(0, 16)
}

/** The Redis key of a local key (see the head of this file); null for a key the worker did not build. */
export function redisAuthorizerKey(key: string, version: string): string | null {
  const nl = key.indexOf('\n')
  if (nl === -1) return null
  let head: unknown
  try {
    head = JSON.parse(key.slice(0, nl))
  } catch {
    return null
  }
  if (!Array.isArray(head) || head.length < 3) return null
  const names = (head as unknown[]).slice(0, 3).map((v) => encodeURIComponent(String(v)))
  const identity = createHash('sha256').update(key).digest('base64url')
  return `${REDIS_AUTHORIZER_PREFIX}${names[0]}/${names[1]}/${names[2]}:${version}:${identity}`
}

interface AuthorizerRedisCommands {
  bpAuthzGet(key: string): Promise<[string, number] | null>
}

/** A lookup's answer: the entry (or null) and the stamp the client's mirror keeps. */
export type AuthorizerLookupDone = (hit: { readonly id: number; readonly payload: Uint8Array } | null, stamp: AuthorizerCacheStamp) => void

const encoder = new TextEncoder()
const decoder = new TextDecoder()

class Entry {
  constructor(
    /** Unique per stored result, so workers can keep the policy they compiled from it. */
    readonly id: number,
    readonly payload: Uint8Array,
    /** Epoch ms after which the entry is gone. */
    readonly expiresAt: number,
  ) {}
}

export class AuthorizerResultCache {
  readonly #entries = new Map<string, Entry>()
  #nextId = 1
  /** Int32 slot 0: the generation (see the head of this file); shared with every client. */
  readonly generations = new SharedArrayBuffer(4)
  readonly #generation = new Int32Array(this.generations)

  /** The second level, with `state.redis`. */
  #redis: SharedRedis | null = null
  #version = ''

  /**
   * Shares the entries through Redis at `url` (null: this process only), keyed with the
   * version of `functions`. Called at start and after every reload of the functions.
   */
  share(url: string | null, functions: Iterable<CompiledFunction>): void {
    if (url !== this.#redis?.url) {
      this.#redis?.release()
      this.#redis = url === null ? null : this.#connect(url)
    }
    this.#version = this.#redis === null ? '' : authorizerCacheVersion(functions)
  }

  #connect(url: string): SharedRedis {
    const r = acquireRedis(url)
    r.defineScript('bpAuthzGet', REDIS_GET_SCRIPT, 1)
    const onState = (up: boolean, reason: string): void => {
      if (up) console.error(`authorizer cache: Redis at ${r.where} is reachable again: results are shared through it again`)
      else console.error(`authorizer cache: Redis at ${r.where} is unreachable (${reason}): results are cached in this process only until it is back`)
    }
    if (r.down) onState(false, 'connection lost')
    r.onState(onState)
    return r
  }

  /**
   * The live entry for key: this process's, else Redis's (kept here until its expiry there),
   * else null. `done` runs at once for a local answer, later for Redis's; a reload meanwhile
   * makes it a miss.
   */
  lookup(key: string, now: number, done: AuthorizerLookupDone): void {
    const generation = this.generation
    const hit = this.get(key, now)
    const redis = this.#redis
    const redisKey = hit === null && redis !== null && redis.ready ? redisAuthorizerKey(key, this.#version) : null
    if (redisKey === null) {
      done(hit, { generations: this.generations, generation, expiresAt: hit === null ? 0 : hit.expiresAt })
      return
    }
    const miss = (): void => done(null, { generations: this.generations, generation, expiresAt: 0 })
    ;(redis!.client as unknown as AuthorizerRedisCommands).bpAuthzGet(redisKey).then((v) => {
      if (v === null || this.generation !== generation) return miss()
      const ttlMs = Number(v[1])
      if (!(ttlMs > 0)) return miss()
      const at = Date.now()
      // Kept here until the Redis entry's own expiry: the first level answers the next lookups.
      this.#setLocal(key, encoder.encode(v[0]), ttlMs, at)
      const e = this.get(key, at)
      done(e, { generations: this.generations, generation, expiresAt: e === null ? 0 : e.expiresAt })
    }, miss)
  }

  get generation(): number {
    return Atomics.load(this.#generation, 0)
  }

  /** The live entry for key, or null (an expired one is dropped). */
  get(key: string, now: number): { readonly id: number; readonly payload: Uint8Array; readonly expiresAt: number } | null {
    const e = this.#entries.get(key)
    if (e === undefined) return null
    if (e.expiresAt <= now) {
      this.#entries.delete(key)
      return null
    }
    return e
  }

  /** Stores a result for ttlMs (> 0) here and, with `state.redis`, in Redis; replaces an older one. */
  set(key: string, payload: Uint8Array, ttlMs: number, now: number): void {
    if (!(ttlMs > 0)) return
    this.#setLocal(key, payload, ttlMs, now)
    const redis = this.#redis
    if (redis === null || !redis.ready) return
    const redisKey = redisAuthorizerKey(key, this.#version)
    // A failed store costs the other processes one function call each: nothing to tell.
    if (redisKey !== null) redis.client.set(redisKey, decoder.decode(payload), 'PX', Math.ceil(ttlMs)).catch(() => {})
  }

  #setLocal(key: string, payload: Uint8Array, ttlMs: number, now: number): void {
    this.#entries.delete(key)
    if (this.#entries.size >= MAX_AUTHORIZER_CACHE_ENTRIES) {
      // Expired entries first, then the oldest stored.
      for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k)
      if (this.#entries.size >= MAX_AUTHORIZER_CACHE_ENTRIES) {
        this.#entries.delete(this.#entries.keys().next().value as string)
        // A live entry is gone before its expiry: the workers' mirrors must forget it too.
        Atomics.add(this.#generation, 0, 1)
      }
    }
    this.#entries.set(key, new Entry(this.#nextId++, payload, now + ttlMs))
  }

  get size(): number {
    return this.#entries.size
  }

  /** Forgets every entry of this process (a reload: the authorizers may have changed; Redis's are keyed by version). */
  clear(): void {
    this.#entries.clear()
    Atomics.add(this.#generation, 0, 1)
  }

  close(): void {
    this.#redis?.release()
    this.#redis = null
  }
}
