// Throttling's buckets: which ones a configuration has, where they live, and a request's
// chain of them. Every bucket is knowable at load — the account, each method with a
// methodSettings limit, each key of a usage plan with a throttle, each key × method of a
// usage plan stage's per-method throttle — so the main thread builds the table (sized from
// the configuration) before the workers start, and hands its SharedArrayBuffer to every worker
// (WorkerInit.throttleMemory). Compiling a method resolves its chain's slots once; a request
// then takes its tokens with a few atomic operations (token-bucket.ts), no message, no lookup
// by name.
//
// The levels, in the order API Gateway applies them ("Throttle requests to your REST APIs":
// per-client per-method limits of a usage plan's API stage, per-client limits of the usage
// plan, per-method limits of the stage, the account level). The stage's "*\/*" methodSettings
// entry is the default of every method's own bucket ("Per-API, per-stage throttling limits are
// applied at the API method level for a stage"): resolveMethodSetting merges it with the
// method's entry, so a stage of three methods at "*\/*" 100/s admits 100/s to each.
//
// A request takes one token from every bucket of its chain, or from none when one of them is
// empty (it is throttled: 429 THROTTLED, and nothing of it is counted anywhere).
//
// SIGHUP: a reload compiles again and finds the same slot for the same bucket identity, so
// buckets keep their tokens (capped at a lowered burst) and use the new limits from the first
// request compiled with them; a new bucket starts full; a removed one keeps its slot unused
// until a restart. A reload whose new buckets do not fit in the table is refused (restart).
import { createHash } from 'node:crypto'
import type { AccessSource, ApiSource, GatewaySource, OperationSource, StageSource } from '../config/model.js'
import { resolveMethodSetting, stageSettingsOf } from '../config/stage-settings.js'
import { DEFAULT_ACCOUNT_THROTTLING, type ThrottleLimits } from '../config/throttling.js'
import { TokenBucketTable, createTokenBucketMemory, sharedNow } from './token-bucket.js'

/** A bucket's level, in API Gateway's order (lower answers first). */
export const enum ThrottleLevel {
  /** A usage plan API stage's per-method throttle, for one key. */
  ClientMethod = 0,
  /** A usage plan's throttle, for one key. */
  Client = 1,
  /** The stage's methodSettings for this method ("*\/*" merged with its own entry). */
  Method = 2,
  /** The account (top-level `throttling`). */
  Account = 3,
}

/** Names of the levels, for logs and `backplane routes`. */
export const THROTTLE_LEVEL_NAMES: readonly string[] = ['usage plan method', 'usage plan', 'method', 'account']

/** One bucket of a configuration. */
export interface BucketSpec {
  /** Unique and stable across reloads and processes: JSON of its level and names (never a key value). */
  readonly identity: string
  readonly level: ThrottleLevel
  readonly limits: ThrottleLimits
}

/** Slots for a table built from a configuration: at most half full, plus room for reloads. */
const MIN_TABLE_CAPACITY = 1024
/** A table for threads that compile without one handed over (CLI checks, in-process tests). */
const LOCAL_TABLE_CAPACITY = 65_536

/** This thread's table: the shared one once attached, else a local one made on first use. */
let table: TokenBucketTable | null = null
/** Whether this thread serves requests (a worker): only those open Redis connections. */
let serving = false
/** The shared table was handed over (main thread or worker): a full table is a load error. */
let shared = false

/** The account-level limits of a gateway. */
export function accountThrottling(gateway: Pick<GatewaySource, 'throttling'> | null): ThrottleLimits {
  return gateway?.throttling ?? DEFAULT_ACCOUNT_THROTTLING
}

/** The key ids (enabled keys only) through which a usage plan covers API stage api/stage, with that plan. */
function keysOfStage(access: AccessSource, apiId: string, stage: string): Array<{ keyId: string; plan: AccessSource['usagePlans'][number] }> {
  const enabled = new Set(access.apiKeys.filter((k) => k.enabled).map((k) => k.id))
  const out: Array<{ keyId: string; plan: AccessSource['usagePlans'][number] }> = []
  const seen = new Set<string>()
  for (const plan of access.usagePlans) {
    if (!plan.apiStages.some((s) => s.apiId === apiId && s.stage === stage)) continue
    for (const keyId of plan.apiKeys) {
      // The loader refuses a key in two plans of one stage: the first is the only one.
      if (!enabled.has(keyId) || seen.has(keyId)) continue
      seen.add(keyId)
      out.push({ keyId, plan })
    }
  }
  return out
}

/** The buckets of one method of one stage: those of a request without a key, and per key id those of a request let in with it. */
export interface MethodBucketSpecs {
  readonly anonymous: readonly BucketSpec[]
  /** Only keys whose plan adds a bucket; the others use `anonymous`. */
  readonly byKey: ReadonlyMap<string, readonly BucketSpec[]>
}

/** Every bucket that applies to `op` on `stage`, in API Gateway's order. */
export function methodBucketSpecs(api: ApiSource, stage: StageSource, op: OperationSource, access: AccessSource, account: ThrottleLimits): MethodBucketSpecs {
  const base: BucketSpec[] = []
  const s = resolveMethodSetting(stageSettingsOf(stage).methodSettings, op.path, op.method)
  if (s.throttlingRateLimit !== null || s.throttlingBurstLimit !== null) {
    // A MethodSetting with only one of the two has the account's value for the other (GetStage
    // shows throttlingRateLimit 10000.0 beside a burst set alone: LocalStack's AWS-validated
    // snapshot TestStages::test_create_update_stages, update-stage).
    base.push({
      identity: JSON.stringify(['method', api.id, stage.name, op.path, op.method]),
      level: ThrottleLevel.Method,
      limits: { rateLimit: s.throttlingRateLimit ?? account.rateLimit, burstLimit: s.throttlingBurstLimit ?? account.burstLimit },
    })
  }
  base.push({ identity: '["account"]', level: ThrottleLevel.Account, limits: account })
  const byKey = new Map<string, BucketSpec[]>()
  // Usage plans throttle only requests let in with an API key: methods that require one.
  if (op.apiKeyRequired) {
    for (const { keyId, plan } of keysOfStage(access, api.id, stage.name)) {
      const own: BucketSpec[] = []
      const perMethod = plan.apiStages.find((x) => x.apiId === api.id && x.stage === stage.name)?.throttle?.[`${op.path}/${op.method}`]
      if (perMethod !== undefined) own.push({ identity: JSON.stringify(['planMethod', plan.id, keyId, api.id, stage.name, op.path, op.method]), level: ThrottleLevel.ClientMethod, limits: perMethod })
      if (plan.throttle !== null) own.push({ identity: JSON.stringify(['plan', plan.id, keyId]), level: ThrottleLevel.Client, limits: plan.throttle })
      if (own.length > 0) byKey.set(keyId, [...own, ...base])
    }
  }
  return { anonymous: base, byKey }
}

/** Every bucket of a gateway, each once, in a stable order (the table the main thread builds). */
export function gatewayBucketSpecs(gateway: GatewaySource): BucketSpec[] {
  const account = accountThrottling(gateway)
  const out = new Map<string, BucketSpec>()
  for (const api of gateway.apis) {
    for (const stage of api.stages) {
      for (const op of api.operations) {
        const specs = methodBucketSpecs(api, stage, op, gateway.access, account)
        for (const b of specs.anonymous) out.set(b.identity, b)
        for (const list of specs.byKey.values()) for (const b of list) out.set(b.identity, b)
      }
    }
  }
  return [...out.values()]
}

/** The 64-bit hash of a bucket identity, as two int32s (compile time only). */
export function identityHash(identity: string): [number, number] {
  const d = createHash('sha256').update(identity).digest()
  return [d.readInt32LE(0), d.readInt32LE(4)]
}

/**
 * Main thread, before the workers start: the table for `gateway`, every bucket claimed in a
 * stable order, attached to this thread too so that a reload's check claims new buckets in it.
 */
export function createThrottleMemory(gateway: GatewaySource): SharedArrayBuffer {
  const specs = gatewayBucketSpecs(gateway)
  let capacity = MIN_TABLE_CAPACITY
  while (capacity < specs.length * 2 + MIN_TABLE_CAPACITY / 4) capacity *= 2
  const memory = createTokenBucketMemory(capacity)
  const t = new TokenBucketTable(memory)
  for (const b of specs) {
    const [hi, lo] = identityHash(b.identity)
    t.slotOf(hi, lo)
  }
  table = t
  shared = true
  serving = false
  return memory
}

/** A worker, before it compiles anything: the table the main thread made. */
export function attachThrottleMemory(memory: SharedArrayBuffer): void {
  table = new TokenBucketTable(memory)
  shared = true
  serving = true
}

/** This thread's table (a local one when none was handed over). */
export function throttleTable(): TokenBucketTable {
  if (table === null) table = new TokenBucketTable(createTokenBucketMemory(LOCAL_TABLE_CAPACITY))
  return table
}

/** Whether this thread serves requests with the shared table (a worker). */
export function servesRequests(): boolean {
  return serving
}

/** Whether the table is the one handed over by the main thread (its being full is a load error). */
export function tableIsShared(): boolean {
  return shared
}

/**
 * One request's buckets, compiled: slots in ascending order (the lock order) with their
 * limits and levels, and the same buckets in API Gateway's order for Redis.
 */
export class ThrottleChain {
  readonly count: number
  readonly slots: Int32Array
  readonly rates: Float64Array
  readonly bursts: Float64Array
  /** levels[i]: the level of slots[i]. */
  readonly levels: Uint8Array
  /** In API Gateway's order. */
  readonly specs: readonly BucketSpec[]

  constructor(specs: readonly BucketSpec[], slotsOf: readonly number[]) {
    this.specs = specs
    const order = specs.map((_, i) => i).filter((i) => slotsOf[i]! >= 0).sort((a, b) => slotsOf[a]! - slotsOf[b]!)
    this.count = order.length
    this.slots = Int32Array.from(order.map((i) => slotsOf[i]!))
    this.rates = Float64Array.from(order.map((i) => specs[i]!.limits.rateLimit))
    this.bursts = Float64Array.from(order.map((i) => specs[i]!.limits.burstLimit))
    this.levels = Uint8Array.from(order.map((i) => specs[i]!.level))
  }

  /** Takes a token from every bucket, or none: -1 when let through, else the level that throttled (the first in API Gateway's order). */
  take(t: TokenBucketTable, now: number = sharedNow()): number {
    const empty = t.tryTakeAll(this.slots, this.rates, this.bursts, this.count, now)
    if (empty === 0) return -1
    let level = 255
    for (let i = 0; i < this.count; i++) if ((empty & (1 << i)) !== 0 && this.levels[i]! < level) level = this.levels[i]!
    return level
  }
}

/** Identity → slot in `slotsFor`'s table: a compile resolves the account bucket once, not once per method. */
let slotCache = new Map<string, number>()
let slotsFor: TokenBucketTable | null = null

/** Slots of `specs` in this thread's table; -1 for a bucket that does not fit. */
export function resolveSlots(specs: readonly BucketSpec[]): number[] {
  const t = throttleTable()
  if (slotsFor !== t) {
    slotsFor = t
    slotCache = new Map()
  }
  return specs.map((b) => {
    let s = slotCache.get(b.identity)
    if (s === undefined) {
      const [hi, lo] = identityHash(b.identity)
      s = t.slotOf(hi, lo)
      if (s >= 0) slotCache.set(b.identity, s)
    }
    return s
  })
}
