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
// API, stage, authorizer and the identity sources' values.

/** Most entries kept; the oldest goes first beyond it (API Gateway bounds its cache too). */
export const MAX_AUTHORIZER_CACHE_ENTRIES = 10_000

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

  /** The current generation: a mirror stamped with another one is stale. */
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

  /** Stores a result for ttlMs (> 0); replaces an older one. */
  set(key: string, payload: Uint8Array, ttlMs: number, now: number): void {
    if (!(ttlMs > 0)) return
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

  /** Forgets every entry (a reload: the authorizers may have changed). */
  clear(): void {
    this.#entries.clear()
    Atomics.add(this.#generation, 0, 1)
  }
}
