// The main thread's side of quotas: makes the shared table (quota-table.ts), sets each
// (plan, key) slot up from the durable store before a worker serves with it, and flushes
// what the workers counted:
//   - no Redis: into SQLite under state.dir every USAGE_FLUSH_MS and at stop (loss window of
//     a kill -9: USAGE_FLUSH_MS of usage);
//   - state.redis: into Redis every REDIS_SYNC_MS (quota-redis.ts). While Redis is
//     unreachable the gateway keeps serving on its local counts, says so once in its log
//     (and once when Redis is back), keeps what it counted meanwhile (copied to SQLite every
//     USAGE_FLUSH_MS, so a kill -9 loses at most that) and adds it when Redis is back.
// Nothing here runs per request. The store opens only when some usage plan has a quota.
import type { GatewaySource } from '../config/model.js'
import type { QuotaSettingsSource } from '../config/quota-settings.js'
import { QUOTA_SLOTS, QuotaTable, createQuotaMemory, type DrainedUsage } from './quota-table.js'
import { quotaNow, startTestClock } from './quota-clock.js'
import { DAY_MS, dayNumber, dayString, periodOf } from './quota.js'
import { USAGE_FLUSH_MS, UsageStore, type UsageDelta } from './usage-store.js'
import { REDIS_SYNC_MS, RedisQuotaClient, redisAddress, type RedisSyncEntry } from './quota-redis.js'

/** Redis: a pair that counted here within this long is synced every REDIS_SYNC_MS, the others every USAGE_FLUSH_MS. */
const ACTIVE_KEY_MS = 5_000

/** One (plan, key) pair with a quota, as the latest configuration has it. */
interface SlotInfo {
  readonly slot: number
  readonly planId: string
  readonly keyId: string
  quota: QuotaSettingsSource
}

/** The (plan, key) pairs of a configuration whose plan has a quota. */
function quotaPairs(gateway: GatewaySource): { planId: string; keyId: string; quota: QuotaSettingsSource }[] {
  const out: { planId: string; keyId: string; quota: QuotaSettingsSource }[] = []
  for (const plan of gateway.access.usagePlans) {
    if (plan.quota === null) continue
    for (const keyId of plan.apiKeys) out.push({ planId: plan.id, keyId, quota: plan.quota })
  }
  return out
}

export interface QuotaStateOptions {
  /** Log lines (stderr of the CLI). */
  readonly log: (line: string) => void
  /** Where BACKPLANE_TEST_CLOCK_FILE is read (default process.env). */
  readonly env?: NodeJS.ProcessEnv
}

export class QuotaState {
  /** Handed to every worker (WorkerInit.quota). */
  readonly memory: SharedArrayBuffer
  readonly table: QuotaTable
  readonly #dir: string
  readonly #redisUrl: string | null
  readonly #log: (line: string) => void
  readonly #slots = new Map<string, SlotInfo>()
  #store: UsageStore | null = null
  #redis: RedisQuotaClient | null = null
  /** Redis: counted here, not yet in Redis (identity "plan\nkey" → day → count). */
  readonly #pending = new Map<string, { planId: string; keyId: string; days: Map<number, number> }>()
  #redisDown = false
  #pendingSaved = false
  #lastPendingSave = 0
  #timer: NodeJS.Timeout | null = null
  #stopClock: (() => void) | null = null
  #closed = false
  #storeFailed = false
  readonly #drained: DrainedUsage = { day: 0, count: 0, prevDay: 0, prevCount: 0 }

  private constructor(gateway: GatewaySource, opts: QuotaStateOptions) {
    this.memory = createQuotaMemory()
    this.table = new QuotaTable(this.memory)
    this.#dir = gateway.state.dir
    this.#redisUrl = gateway.state.redis
    this.#log = opts.log
  }

  /** Makes the table and sets up every pair of `gateway` before the workers start. */
  static async create(gateway: GatewaySource, opts: QuotaStateOptions): Promise<QuotaState> {
    const s = new QuotaState(gateway, opts)
    s.#stopClock = await startTestClock(s.table, opts.env ?? process.env, opts.log, () => (s.#redis !== null ? s.#syncRedis() : s.#flushLocal()))
    if (quotaPairs(gateway).length > 0) await s.#open()
    s.adopt(gateway)
    if (s.#redis !== null) await s.#syncRedis()
    return s
  }

  async #open(): Promise<void> {
    if (this.#store !== null) return
    this.#store = new UsageStore(this.#dir)
    if (this.#redisUrl !== null) {
      const address = redisAddress(this.#redisUrl)
      this.#redis = new RedisQuotaClient(this.#redisUrl, (up, reason) => {
        if (!up && !this.#redisDown && !this.#closed) {
          this.#redisDown = true
          this.#log(`state: Redis at ${address} is unreachable (${reason}): quotas are counted locally until it is back`)
        }
      })
      if (!(await this.#redis.connect()) && !this.#redisDown) {
        this.#redisDown = true
        this.#log(`state: Redis at ${address} is unreachable: quotas are counted locally until it is back`)
      }
      // What a previous run counted while Redis was away goes out with the first sync.
      // Cleared from the store once Redis has them (#pendingSaved), so they are never added twice.
      for (const d of this.#store.pending()) {
        this.#addPending(d.planId, d.keyId, d.day, d.count)
        this.#pendingSaved = true
      }
      this.#timer = setInterval(() => void this.#syncRedis(), REDIS_SYNC_MS)
    } else {
      this.#timer = setInterval(() => this.#flushLocal(), USAGE_FLUSH_MS)
    }
    this.#timer.unref()
  }

  /**
   * Claims and sets up the pairs of a (re)loaded configuration before any worker compiles it;
   * pairs seen before keep their counts. Throws when the table is full.
   */
  adopt(gateway: GatewaySource): void {
    const pairs = quotaPairs(gateway)
    if (pairs.length === 0) return
    if (this.#store === null) {
      // A reload added the first quota: open synchronously enough for the local store; Redis connects in the background.
      void this.#open()
    }
    const today = dayNumber(quotaNow(this.table))
    for (const p of pairs) {
      const id = `${p.planId}\n${p.keyId}`
      const known = this.#slots.get(id)
      if (known !== undefined) {
        const periodChanged = known.quota.period !== p.quota.period
        known.quota = p.quota
        if (periodChanged) {
          // The counter restarts on the new period's bounds, from what the store has for them.
          // Counted so far goes out first (init zeroes the slot).
          if (this.#redis === null) this.#flushLocal()
          else for (const d of this.#drainAll()) this.#addPending(d.planId, d.keyId, d.day, d.count)
          const { start, end } = periodOf(p.quota.period, today)
          const used = this.#redis === null ? this.#store!.usedBetween(p.planId, p.keyId, start, end) : 0
          this.table.init(known.slot, today, p.quota.period, used, this.#redis === null ? this.#store!.since(p.planId, today)! : today)
          if (this.#redis !== null) this.#redis.since(p.planId, today).then((d) => this.table.setSince(known.slot, d), () => {})
        }
        continue
      }
      const slot = this.table.claim(p.planId, p.keyId)
      if (slot < 0) throw new Error(`more than ${QUOTA_SLOTS} (usage plan, API key) pairs with a quota: the quota table is full`)
      const store = this.#store!
      const { start, end } = periodOf(p.quota.period, today)
      // Redis answers the shared total and the plan's first day with the first sync.
      const used = this.#redis === null ? store.usedBetween(p.planId, p.keyId, start, end) : 0
      const since = this.#redis === null ? store.since(p.planId, today)! : today
      this.table.init(slot, today, p.quota.period, used, since)
      this.#slots.set(id, { slot, planId: p.planId, keyId: p.keyId, quota: p.quota })
      if (this.#redis !== null) {
        const redis = this.#redis
        redis.since(p.planId, today).then((d) => this.table.setSince(slot, d), () => {})
      }
    }
  }

  /** Takes what the workers counted: one delta per (pair, day). */
  #drainAll(): UsageDelta[] {
    const out: UsageDelta[] = []
    for (const s of this.#slots.values()) {
      const d = this.table.drain(s.slot, this.#drained)
      if (d.prevCount > 0) out.push({ planId: s.planId, keyId: s.keyId, day: d.prevDay, count: d.prevCount })
      if (d.count > 0) out.push({ planId: s.planId, keyId: s.keyId, day: d.day, count: d.count })
    }
    return out
  }

  #flushLocal(): void {
    if (this.#store === null) return
    const deltas = this.#drainAll()
    try {
      this.#store.add(deltas)
      if (this.#storeFailed) this.#log(`state: usage is written to ${this.#dir} again`)
      this.#storeFailed = false
    } catch (err) {
      // Kept in memory and retried at the next flush.
      for (const d of deltas) this.table.undrain(this.#slots.get(`${d.planId}\n${d.keyId}`)!.slot, d.day, d.count)
      if (!this.#storeFailed) this.#log(`state: cannot write usage to ${this.#dir}: ${(err as Error).message} (kept in memory, retried every ${USAGE_FLUSH_MS} ms)`)
      this.#storeFailed = true
    }
  }

  #addPending(planId: string, keyId: string, day: number, count: number): void {
    const id = `${planId}\n${keyId}`
    let p = this.#pending.get(id)
    if (p === undefined) this.#pending.set(id, (p = { planId, keyId, days: new Map() }))
    p.days.set(day, (p.days.get(day) ?? 0) + count)
  }

  #pendingDeltas(): UsageDelta[] {
    const out: UsageDelta[] = []
    for (const p of this.#pending.values()) for (const [day, count] of p.days) out.push({ planId: p.planId, keyId: p.keyId, day, count })
    return out
  }

  #syncing = false
  /** Redis: when each pair last counted here ("plan\nkey" → Date.now()). */
  readonly #activeAt = new Map<string, number>()
  #lastFullSync = 0

  /** One Redis sync: the pending counts out, the shared totals in. Never overlaps itself. */
  async #syncRedis(): Promise<void> {
    if (this.#syncing || this.#redis === null) return
    this.#syncing = true
    try {
      for (const d of this.#drainAll()) this.#addPending(d.planId, d.keyId, d.day, d.count)
      const today = dayNumber(quotaNow(this.table))
      const entries: RedisSyncEntry[] = []
      const identities: (SlotInfo | null)[] = []
      const sent = new Set<string>()
      const deltasOf = (id: string, period: QuotaSettingsSource['period']) => {
        const p = this.#pending.get(id)
        const out: [string, number, number, number][] = []
        if (p !== undefined) for (const [day, count] of p.days) {
          const { start, end } = periodOf(period, day)
          out.push([dayString(day), start, (end + 1) * DAY_MS, count])
        }
        return out
      }
      // Keys counted here lately get the shared total every sync; the others once a second.
      const now = Date.now()
      const full = now - this.#lastFullSync >= USAGE_FLUSH_MS
      if (full) this.#lastFullSync = now
      for (const id of this.#pending.keys()) this.#activeAt.set(id, now)
      for (const [id, s] of this.#slots) {
        if (!full && now - (this.#activeAt.get(id) ?? -Infinity) > ACTIVE_KEY_MS) continue
        sent.add(id)
        entries.push({ planId: s.planId, keyId: s.keyId, currentPeriodStart: periodOf(s.quota.period, today).start, deltas: deltasOf(id, s.quota.period) })
        identities.push(s)
      }
      // Pairs a previous configuration (or run) counted for and this one no longer has: their usage still goes out (as DAY periods).
      for (const [id, p] of this.#pending) {
        if (sent.has(id)) continue
        entries.push({ planId: p.planId, keyId: p.keyId, currentPeriodStart: today, deltas: deltasOf(id, 'DAY') })
        identities.push(null)
      }
      let totals: number[]
      try {
        totals = await this.#redis.sync(entries)
      } catch (err) {
        if (!this.#redisDown) {
          this.#redisDown = true
          this.#log(`state: Redis at ${redisAddress(this.#redisUrl!)} is unreachable (${(err as Error).message}): quotas are counted locally until it is back`)
        }
        // Kept: a kill -9 during the outage loses at most USAGE_FLUSH_MS of it.
        if (this.#store !== null && now - this.#lastPendingSave >= USAGE_FLUSH_MS) {
          this.#lastPendingSave = now
          try {
            this.#store.replacePending(this.#pendingDeltas())
            this.#pendingSaved = true
          } catch { /* the next save retries */ }
        }
        return
      }
      let added = 0
      for (const p of this.#pending.values()) for (const c of p.days.values()) added += c
      this.#pending.clear()
      if (this.#pendingSaved && this.#store !== null) {
        this.#store.replacePending([])
        this.#pendingSaved = false
      }
      if (this.#redisDown) {
        this.#redisDown = false
        this.#log(`state: Redis at ${redisAddress(this.#redisUrl!)} is reachable again: ${added} requests counted meanwhile were added`)
      }
      for (let i = 0; i < identities.length; i++) {
        const s = identities[i]
        if (s !== null && s !== undefined) this.table.syncUsed(s.slot, entries[i]!.currentPeriodStart, totals[i]!)
      }
    } finally {
      this.#syncing = false
    }
  }

  /** At stop, after the last request: the last counts go out (to Redis, else or meanwhile to SQLite). */
  async close(): Promise<void> {
    if (this.#closed) return
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#stopClock?.()
    if (this.#redis !== null) {
      while (this.#syncing) await new Promise((r) => setTimeout(r, 5))
      await this.#syncRedis()
      this.#closed = true
      if (this.#pending.size > 0 && this.#store !== null) this.#store.replacePending(this.#pendingDeltas())
      await this.#redis.close()
    } else {
      this.#closed = true
      this.#flushLocal()
    }
    this.#store?.close()
  }
}
