// Usage plan quotas, compile step and run step. A request let in with an API key (the ApiKeyStep
// set ctx.apiKey and ctx.usagePlan) whose plan has a quota takes one request of the key's
// quota period; once the period's limit is used up it is answered 429 {"message":"Limit
// Exceeded"} through QUOTA_EXCEEDED (x-amzn-ErrorType LimitExceededException: the guide's
// "Gateway response types" table). A refused request is not counted. The counters live in
// shared memory (traffic/quota-table.ts): exact across workers, no message per request.
import type { AccessSource, ApiKeySource } from '../config/model.js'
import type { QuotaPeriod } from '../config/quota-settings.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { QuotaTable } from '../traffic/quota-table.js'
import { quotaNow } from '../traffic/quota-clock.js'
import { dayNumber } from '../traffic/quota.js'
import { compileStageApiKeys } from './api-key.js'
import { countQuotaExceeded } from '../observability/observe.js'
import { StepOutcome, type MethodRequestStep } from './step.js'

/** The worker's quota table (WorkerInit.quota), installed before the gateway compiles; null in the main thread. */
let table: QuotaTable | null = null

/** Called once per worker with WorkerInit.quota, before compileGateway. */
export function installQuotaMemory(memory: SharedArrayBuffer | undefined): void {
  table = memory === undefined ? null : new QuotaTable(memory)
}

/** One key's quota on this stage: its slot and its plan's settings. */
interface QuotaRef {
  readonly slot: number
  readonly period: QuotaPeriod
  readonly limit: number
  readonly offset: number
}

/** One table per (access, API, stage): every method of the stage shares it. */
const stageRefs = new WeakMap<AccessSource, Map<string, ReadonlyMap<ApiKeySource, QuotaRef>>>()

function compileStageQuotas(access: AccessSource, apiId: string, stage: string, t: QuotaTable): ReadonlyMap<ApiKeySource, QuotaRef> {
  let byStage = stageRefs.get(access)
  if (byStage === undefined) stageRefs.set(access, (byStage = new Map()))
  const cacheKey = `${apiId}\n${stage}`
  const cached = byStage.get(cacheKey)
  if (cached !== undefined) return cached
  const refs = new Map<ApiKeySource, QuotaRef>()
  for (const { key, plans } of compileStageApiKeys(access, apiId, stage).values()) {
    const plan = plans[0]!
    if (plan.quota === null) continue
    const slot = t.claim(plan.id, key.id)
    // The main thread claimed every pair first (traffic/quota-state.ts) and refuses a full table.
    if (slot < 0) throw new Error(`quota table full: usage plan ${plan.id}, API key ${key.id}`)
    refs.set(key, Object.freeze({ slot, period: plan.quota.period, limit: plan.quota.limit, offset: plan.quota.offset }))
  }
  byStage.set(cacheKey, refs)
  return refs
}

/** The run step: one Map lookup and one short critical section. */
export class QuotaStep implements MethodRequestStep {
  readonly name = 'quota'
  constructor(
    readonly table: QuotaTable,
    /** The stage's keys whose usage plan has a quota. */
    readonly refs: ReadonlyMap<ApiKeySource, QuotaRef>,
  ) {}

  run(ctx: RequestContext): StepOutcome {
    const ref = ctx.apiKey === null ? undefined : this.refs.get(ctx.apiKey)
    if (ref === undefined) return StepOutcome.Continue
    if (this.table.take(ref.slot, dayNumber(quotaNow(this.table)), ref.period, ref.limit, ref.offset)) return StepOutcome.Continue
    countQuotaExceeded(ctx)
    sendGatewayResponse(ctx, 'QUOTA_EXCEEDED')
    return StepOutcome.Answered
  }
}

/**
 * The quota step of a method that requires an API key, or null: no key required, no plan of
 * this stage with a quota, or no table (the main thread compiles only to report problems).
 */
export function compileQuotaStep(cx: { readonly api: { readonly id: string }; readonly stage: string; readonly access: AccessSource }): MethodRequestStep | null {
  if (table === null) return null
  const refs = compileStageQuotas(cx.access, cx.api.id, cx.stage, table)
  return refs.size === 0 ? null : new QuotaStep(table, refs)
}
