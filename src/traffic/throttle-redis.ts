// Throttling's buckets in Redis (`state.redis`), so that several gateway processes enforce
// one limit together. A request's whole chain is one EVALSHA of TAKE_SCRIPT: one round trip,
// atomic in Redis, on Redis's clock (TIME), so every process refills the same way. Each worker
// thread has one connection, shared with its response cache (auto-pipelined: the requests of
// one turn share a write).
//
// When Redis cannot answer — unreachable, restarting, slower than REDIS_COMMAND_TIMEOUT_MS —
// the request is decided on this process's own buckets (the SharedArrayBuffer table), so the
// gateway keeps serving and keeps limiting: each process then enforces the full limit on its
// own. The first thread of the process to lose Redis says so in the log, the last to get it
// back says that; the connection (state/redis.ts, shared with the thread's other users)
// reconnects with at most REDIS_RECONNECT_MAX_DELAY_MS between tries.
//
// What an outage loses: Redis holds only bucket levels. Buckets in a Redis that restarts
// without persistence start full (one extra burst); during the outage, plus at most
// REDIS_RECONNECT_MAX_DELAY_MS after Redis is back, a limit shared by P processes admits up
// to P times it. No request waits longer than REDIS_COMMAND_TIMEOUT_MS for Redis.
import { acquireRedis, describeRedis, REDIS_COMMAND_TIMEOUT_MS, REDIS_RECONNECT_MAX_DELAY_MS, type SharedRedis } from '../state/redis.js'
import { throttleTable, type ThrottleChain } from './throttle.js'

export { describeRedis, REDIS_COMMAND_TIMEOUT_MS, REDIS_RECONNECT_MAX_DELAY_MS }

/** Prefix of the bucket keys in Redis ("bp:throttle:" + the bucket identity). */
export const REDIS_KEY_PREFIX = 'bp:throttle:'

/**
 * KEYS: a chain's buckets in API Gateway's order. ARGV: rate (per second), burst, expiry (ms)
 * of each. Returns 0 when a token was taken from every bucket, else the 1-based position of the
 * first empty bucket (nothing taken). A bucket is a hash {t: tokens, at: ms}; a missing one is
 * full, so a key expires once its bucket would have refilled.
 */
export const TAKE_SCRIPT = `
local clock = redis.call('TIME')
local now = clock[1] * 1000 + clock[2] / 1000
local left = {}
for i = 1, #KEYS do
  local rate = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local tokens = burst
  local v = redis.call('HMGET', KEYS[i], 't', 'at')
  if v[1] then
    tokens = tonumber(v[1])
    local at = tonumber(v[2])
    if now > at then tokens = tokens + (now - at) * rate / 1000 end
    if tokens > burst then tokens = burst end
  end
  if tokens < 1 then return i end
  left[i] = tokens
end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 't', string.format('%.6f', left[i] - 1), 'at', string.format('%.3f', now))
  redis.call('PEXPIRE', KEYS[i], ARGV[3 * i])
end
return 0
`

/** How long a bucket key outlives its last take: until it would be full again, plus a second. */
export function bucketExpiryMs(rateLimit: number, burstLimit: number): number {
  if (rateLimit <= 0) return 86_400_000
  return Math.min(86_400_000, Math.ceil((burstLimit / rateLimit) * 1000) + 1000)
}

/** The arguments of TAKE_SCRIPT for a chain: [numKeys, ...keys, ...(rate, burst, expiry)]. */
export function takeScriptArgs(chain: ThrottleChain): (string | number)[] {
  const keys = chain.specs.map((b) => REDIS_KEY_PREFIX + b.identity)
  const argv = chain.specs.flatMap((b) => [b.limits.rateLimit, b.limits.burstLimit, bucketExpiryMs(b.limits.rateLimit, b.limits.burstLimit)])
  return [keys.length, ...keys, ...argv]
}

interface ThrottleCommands {
  bpThrottleTake(args: (string | number)[]): Promise<number>
}

/** One thread's use of the Redis holding the buckets (the thread's one connection, state/redis.ts). */
export class RedisThrottle {
  readonly url: string
  readonly #redis: SharedRedis
  readonly #client: ThrottleCommands
  /** noteError has said it once for this thread. */
  #errorLogged = false

  constructor(url: string) {
    this.url = url
    this.#redis = acquireRedis(url)
    this.#redis.defineScript('bpThrottleTake', TAKE_SCRIPT)
    this.#client = this.#redis.client as unknown as ThrottleCommands
    // The first thread of the process to lose Redis says so, the last to get it back says that
    // (the table counts the threads without it); each thread counts itself once per outage.
    let counted = false
    const onState = (up: boolean, reason: string): void => {
      if (up === !counted) return
      counted = !up
      if (!up) {
        if (throttleTable().outageStarted()) console.error(`throttling: Redis at ${this.#redis.where} is unreachable (${reason}): this process throttles on its own buckets until it is back`)
      } else if (throttleTable().outageEnded()) {
        console.error(`throttling: Redis at ${this.#redis.where} is reachable again: limits are shared through it again`)
      }
    }
    // Another user of the connection may have seen it lost already.
    if (this.#redis.down) onState(false, 'connection lost')
    this.#redis.onState(onState)
  }

  /** Whether a take can go to Redis now (else it is decided on local buckets). */
  get ready(): boolean {
    return this.#redis.ready
  }

  /** One round trip: 0 when let through, else the 1-based position of the bucket that throttled. */
  take(args: (string | number)[]): Promise<number> {
    return this.#client.bpThrottleTake(args)
  }

  /** A take failed while connected (a timeout, an error answer): said once per thread, the request decided locally. */
  noteError(err: unknown): void {
    if (this.#errorLogged || !this.#redis.ready) return
    this.#errorLogged = true
    console.error(`throttling: Redis at ${this.#redis.where} failed a take (${err instanceof Error ? err.message : String(err)}): such requests are decided on this process's own buckets`)
  }

  close(): void {
    this.#redis.release()
  }
}

/** This thread's connections, by URL (a reload to another URL opens another). */
const clients = new Map<string, RedisThrottle>()

/** The connection of this thread to `url`, opened on first use. */
export function redisThrottleFor(url: string): RedisThrottle {
  let c = clients.get(url)
  if (c === undefined) clients.set(url, (c = new RedisThrottle(url)))
  return c
}
