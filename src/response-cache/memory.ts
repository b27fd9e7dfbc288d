// Response cache, main thread: the shared memory of every stage cache in this process,
// handed to the workers on the gateway they compile (GatewaySource.responseCacheMemory;
// a SharedArrayBuffer stays shared through workerData and the config channel). Also what
// FlushStageCache reaches through the admin listener.
//
// Reload: a stage whose cache stays enabled with the same memory bound keeps its memory,
// and so its entries (until their TTL, or a flush); a new bound gets a new, empty cache, as
// API Gateway "changes caching capacity by removing the existing cache instance and
// creating a new one … All existing cached data is deleted"; a stage whose cache is turned
// off loses it. With state.redis the entries live in Redis and no memory is made.
import type { GatewaySource } from '../config/model.js'
import { stageSettingsOf } from '../config/stage-settings.js'
import { stageCacheKey } from './compile.js'
import { SharedStore, createSharedStoreMemory } from './shared-store.js'
import { RedisCacheClient, redisStagePrefix } from './redis-store.js'

export class ResponseCacheMemory {
  #stores = new Map<string, SharedStore>()
  #redisUrl: string | null = null
  #redis: RedisCacheClient | null = null

  /** `gateway` with the memory of each of its cache-enabled stages, kept from the previous configuration where the bound is the same. */
  attach(gateway: GatewaySource): GatewaySource {
    const next = new Map<string, SharedStore>()
    this.#redisUrl = gateway.state.redis
    if (this.#redisUrl === null) {
      for (const api of gateway.apis) {
        for (const stage of api.stages) {
          const cache = stageSettingsOf(stage).cache
          if (!cache.enabled) continue
          const key = stageCacheKey(api.id, stage.name)
          const old = this.#stores.get(key)
          next.set(key, old !== undefined && old.memory.byteLength === cache.bytes ? old : new SharedStore(createSharedStoreMemory(cache.bytes)))
        }
      }
    }
    this.#stores = next
    const memory: Record<string, SharedArrayBuffer> = {}
    for (const [k, s] of next) memory[k] = s.memory
    return { ...gateway, responseCacheMemory: Object.freeze(memory) }
  }

  /**
   * FlushStageCache: drops every entry of one stage's cache. Resolves with null when done,
   * or the reason it could not be (no such cache).
   */
  async flush(apiId: string, stage: string): Promise<string | null> {
    if (this.#redisUrl !== null) {
      if (this.#redis === null) this.#redis = new RedisCacheClient(this.#redisUrl)
      await this.#redis.deletePrefix(redisStagePrefix(apiId, stage))
      return null
    }
    const store = this.#stores.get(stageCacheKey(apiId, stage))
    if (store === undefined) return `stage ${stage} of API ${apiId} has no cache (cacheClusterEnabled is not true)`
    store.clear()
    return null
  }

  close(): void {
    this.#redis?.close()
    this.#redis = null
  }
}
