// Throttling, compile step and run step. It runs after authorization and the API key check:
// usage plan limits are per client, and the client is the API key the request was let in with
// (ctx.apiKey, ctx.usagePlan); a request refused by the authorizer or for its key (401/403)
// takes no token. A throttled request is answered 429 through the THROTTLED gateway response
// ({"message":"Too Many Requests"}, x-amzn-ErrorType TooManyRequestsException) and takes no
// token from any bucket; it reaches neither the quota count, nor validation, nor the
// integration.
//
// The buckets and their order are traffic/throttle.ts's; with `state.redis` the chain is one
// Redis round trip (the step is Pending until it answers), and local buckets decide while
// Redis cannot (traffic/throttle-redis.ts).
import { Codes, type ConfigProblem } from '../errors.js'
import type { AccessSource, ApiSource, GatewaySource, OperationSource } from '../config/model.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { countThrottled } from '../observability/observe.js'
import { ThrottleChain, accountThrottling, methodBucketSpecs, resolveSlots, servesRequests, tableIsShared, throttleTable, type BucketSpec } from '../traffic/throttle.js'
import type { TokenBucketTable } from '../traffic/token-bucket.js'
import { redisThrottleFor, takeScriptArgs, type RedisThrottle } from '../traffic/throttle-redis.js'
import { resumeMethodRequest } from './run.js'
import { StepOutcome, type MethodRequestStep } from './step.js'

/** A chain and its Redis arguments, built once. */
class CompiledChain {
  readonly chain: ThrottleChain
  readonly redisArgs: (string | number)[]
  constructor(chain: ThrottleChain) {
    this.chain = chain
    this.redisArgs = takeScriptArgs(chain)
  }
}

function throttled(ctx: RequestContext): void {
  countThrottled(ctx)
  sendGatewayResponse(ctx, 'THROTTLED')
}

/** A request waiting for Redis. Pooled: its two callbacks are made once, not per request. */
class PendingTake {
  ctx: RequestContext | null = null
  compiled: CompiledChain | null = null
  table: TokenBucketTable | null = null
  redis: RedisThrottle | null = null
  readonly onResult = (r: number): void => {
    const { ctx, compiled } = this
    this.#release()
    if (ctx === null || compiled === null) return
    proceed(ctx, r === 0)
  }

  /** Redis failed (gone, restarting, too slow, an error answer): the local buckets decide. */
  readonly onError = (err: unknown): void => {
    const { ctx, compiled, table, redis } = this
    this.#release()
    if (ctx === null || compiled === null || table === null) return
    redis?.noteError(err)
    proceed(ctx, compiled.chain.take(table) < 0)
  }

  #release(): void {
    this.ctx = null
    this.compiled = null
    this.table = null
    this.redis = null
    pool.push(this)
  }
}
const pool: PendingTake[] = []

/** After Redis answered: the rest of the method request, or 429. Outside the promise chain's reach: a bug costs this request a 500, never the worker. */
function proceed(ctx: RequestContext, admitted: boolean): void {
  try {
    if (admitted) resumeMethodRequest(ctx)
    else throttled(ctx)
  } catch (err) {
    console.error('request failed:', err)
    sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR')
  }
}

/** The run step: one chain lookup, then a few atomic operations (or one Redis round trip). */
export class ThrottleStep implements MethodRequestStep {
  readonly name = 'throttling'
  constructor(
    /** The chain of a request without a key (or with a key whose plan adds no bucket). */
    readonly anonymous: CompiledChain,
    /** Key id → its chain (the key's usage plan buckets first); null when no plan adds any. */
    readonly byKey: ReadonlyMap<string, CompiledChain> | null,
    readonly table: TokenBucketTable,
    /** Set with `state.redis` in a serving thread. */
    readonly redis: RedisThrottle | null,
  ) {}

  run(ctx: RequestContext): StepOutcome {
    let c = this.anonymous
    if (this.byKey !== null && ctx.apiKey !== null) c = this.byKey.get(ctx.apiKey.id) ?? this.anonymous
    if (this.redis !== null && this.redis.ready) {
      const p = pool.pop() ?? new PendingTake()
      p.ctx = ctx
      p.compiled = c
      p.table = this.table
      p.redis = this.redis
      this.redis.take(c.redisArgs).then(p.onResult, p.onError)
      return StepOutcome.Pending
    }
    if (c.chain.take(this.table) < 0) return StepOutcome.Continue
    throttled(ctx)
    return StepOutcome.Answered
  }
}

/** What compiling the step needs (a subset of MethodRequestContext). */
export interface ThrottleCompileContext {
  readonly api: ApiSource
  readonly stage: string
  readonly access: AccessSource
  readonly problems: ConfigProblem[]
  /** The gateway (account-level `throttling`, `state.redis`); null for an API compiled on its own. */
  readonly gateway?: GatewaySource | null
}

/** Workers log a bucket that does not fit once (the main thread refuses such a configuration first). */
let overflowLogged = false

/** The throttle step of a method: every method has one (the account level always applies). */
export function compileThrottleStep(op: OperationSource, cx: ThrottleCompileContext): MethodRequestStep {
  const stage = cx.api.stages.find((s) => s.name === cx.stage)!
  const specs = methodBucketSpecs(cx.api, stage, op, cx.access, accountThrottling(cx.gateway ?? null))
  const table = throttleTable()
  const build = (list: readonly BucketSpec[]): CompiledChain => {
    const slots = resolveSlots(list)
    if (slots.includes(-1)) {
      if (tableIsShared() && !servesRequests()) {
        cx.problems.push({ code: Codes.GATEWAY, file: cx.api.file, pointer: op.pointer, message: `throttling: the bucket table (${table.capacity} buckets, sized when the gateway started) has no room for the buckets of ${op.method} ${op.path} on stage ${cx.stage}: a configuration with this many more buckets takes a restart`, severity: 'error' })
      } else if (servesRequests() && !overflowLogged) {
        overflowLogged = true
        console.error(`throttling: the bucket table is full: some buckets of ${op.method} ${op.path} on stage ${cx.stage} are not enforced until a restart`)
      }
    }
    return new CompiledChain(new ThrottleChain(list, slots))
  }
  const anonymous = build(specs.anonymous)
  let byKey: Map<string, CompiledChain> | null = null
  if (specs.byKey.size > 0) {
    byKey = new Map()
    for (const [keyId, list] of specs.byKey) byKey.set(keyId, build(list))
  }
  const url = cx.gateway?.state?.redis ?? null
  return new ThrottleStep(anonymous, byKey, table, url !== null && servesRequests() ? redisThrottleFor(url) : null)
}
