// Quotas and usage in Redis, shared by every gateway process that names the same server
// (state.redis). Workers still count in the process's shared memory; the main thread sends
// what they counted every REDIS_SYNC_MS in one atomic Lua script, which adds it to the
// shared period counter and the per-day usage hash and answers each key's shared total for
// its current period. A process therefore sees the others' requests within two syncs (theirs,
// then its own): the shared quota can be passed by what the processes admit in 2 × REDIS_SYNC_MS.
//
// Keys (ids are [A-Za-z0-9._-], so ':' separates safely):
//   bp:quota:{plan}:{key}:{periodStartDay}  requests in that period (expires a day after it ends)
//   bp:usage:{plan}:{key}                   hash YYYY-MM-DD → requests that day (GetUsage)
//   bp:since:{plan}                         the day the plan's quota first ran (SET NX)
import type { Redis } from 'ioredis'
import { acquireRedis, describeRedis, type SharedRedis } from '../state/redis.js'

/** How often counts go to Redis and shared totals come back. */
export const REDIS_SYNC_MS = 20
/** How long connect() waits for the first connection (a refused one answers at once; a loaded machine may take seconds to finish the handshake). */
const CONNECT_WAIT_MS = 5_000

// ARGV: per key: plan, key, currentPeriodStart, deltaCount, then per delta: day (YYYY-MM-DD),
// periodStart, periodExpireAtMs, count. Returns the current period's total per key.
const SYNC_SCRIPT = `
local out = {}
local i = 1
local n = 0
while i <= #ARGV do
  local base = ARGV[i] .. ':' .. ARGV[i + 1]
  local current = ARGV[i + 2]
  local deltas = tonumber(ARGV[i + 3])
  i = i + 4
  for _ = 1, deltas do
    local count = tonumber(ARGV[i + 3])
    redis.call('HINCRBY', 'bp:usage:' .. base, ARGV[i], count)
    local q = 'bp:quota:' .. base .. ':' .. ARGV[i + 1]
    redis.call('INCRBY', q, count)
    redis.call('PEXPIREAT', q, ARGV[i + 2])
    i = i + 4
  end
  n = n + 1
  out[n] = tonumber(redis.call('GET', 'bp:quota:' .. base .. ':' .. current) or '0')
end
return out
`
const SINCE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return tonumber(redis.call('GET', KEYS[1]))
`

/** One key's part of a sync: what to add, and which period's total to answer. */
export interface RedisSyncEntry {
  readonly planId: string
  readonly keyId: string
  readonly currentPeriodStart: number
  /** [YYYY-MM-DD, periodStartDay, expireAtMs, count] per day with a count. */
  readonly deltas: readonly (readonly [string, number, number, number])[]
}

type ScriptRedis = Redis & {
  bpQuotaSync(...args: (string | number)[]): Promise<number[]>
  bpQuotaSince(key: string, day: number): Promise<number>
}

/** "host:port" of a redis:// URL, for log lines (never its password). */
export const redisAddress = describeRedis

/** Quotas' use of the thread's one connection to `url` (state/redis.ts: no queueing while offline, bounded commands, reconnection for ever). */
export class RedisQuotaClient {
  readonly #shared: SharedRedis
  readonly #redis: ScriptRedis

  constructor(url: string, onState: (up: boolean, reason: string) => void) {
    this.#shared = acquireRedis(url)
    this.#shared.defineScript('bpQuotaSync', SYNC_SCRIPT, 0)
    this.#shared.defineScript('bpQuotaSince', SINCE_SCRIPT, 1)
    this.#redis = this.#shared.client as ScriptRedis
    // Failed syncs say so too; this tells the gateway at once.
    this.#shared.onState(onState)
  }

  /** Waits (bounded) for the connection; false when the server is unreachable (it keeps retrying). */
  async connect(): Promise<boolean> {
    return await this.#shared.whenReady(CONNECT_WAIT_MS)
  }

  /** One atomic sync; rejects when Redis is unreachable (nothing was applied, or all was). */
  async sync(entries: readonly RedisSyncEntry[]): Promise<number[]> {
    if (entries.length === 0) return []
    const args: (string | number)[] = []
    for (const e of entries) {
      args.push(e.planId, e.keyId, e.currentPeriodStart, e.deltas.length)
      for (const d of e.deltas) args.push(d[0], d[1], d[2], d[3])
    }
    return await this.#redis.bpQuotaSync(...args)
  }

  /** The day plan `planId`'s quota first ran: `today` unless another run recorded one before. */
  async since(planId: string, today: number): Promise<number> {
    return await this.#redis.bpQuotaSince(`bp:since:${planId}`, today)
  }

  /** `backplane usage`: the counts of `keyId` on `days` (YYYY-MM-DD). */
  async dayCounts(planId: string, keyId: string, days: readonly string[]): Promise<number[]> {
    if (days.length === 0) return []
    const v = await this.#redis.hmget(`bp:usage:${planId}:${keyId}`, ...days)
    return v.map((x) => (x === null ? 0 : Number(x)))
  }

  /** `backplane usage`: the recorded first day of a plan's quota, or null. */
  async recordedSince(planId: string): Promise<number | null> {
    const v = await this.#redis.get(`bp:since:${planId}`)
    return v === null ? null : Number(v)
  }

  async close(): Promise<void> {
    this.#shared.release()
  }
}
