// API keys, compile step and run step. A method that requires a key (apiKeyRequired: a
// security requirement naming the `api_key` scheme) lets a request in only with the value of
// an enabled key that a usage plan of this API stage lists. The key comes from the x-api-key
// header (x-amazon-apigateway-api-key-source HEADER, the default) or from the Lambda
// authorizer's usageIdentifierKey (AUTHORIZER). Anything else — no key, an unknown, disabled
// or uncovered one — is answered 403 {"message":"Forbidden"} through INVALID_API_KEY
// ("Choose an API key source in API Gateway": no match → 403 Forbidden).
//
// The lookup is one Map.get per request: the stage's valid key values are collected at
// compile time. Key values are secrets: never logged, never put in a message.
import { Codes, type ConfigProblem } from '../errors.js'
import type { AccessSource, ApiKeySource, ApiSource, OperationSource, UsagePlanSource } from '../config/model.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { isRecord } from '../util/is-record.js'
import { StepOutcome, type MethodRequestStep } from './step.js'

/** The header API Gateway reads keys from (HEADER source), as the front stores names: lower-case. */
export const API_KEY_HEADER = 'x-api-key'

/** A key valid on one API stage, with the usage plans through which it is (issue 9 throttles by them). */
export interface StageApiKey {
  readonly key: ApiKeySource
  /** The usage plans listing this key that cover this API stage: exactly one (the loader refuses a key in two plans of one stage). */
  readonly plans: readonly UsagePlanSource[]
}

/** Key value → key, for one API stage: only enabled keys of usage plans covering it. */
export type StageApiKeys = ReadonlyMap<string, StageApiKey>

/** One table per (access, API, stage): every method of the stage shares it. */
const stageTables = new WeakMap<AccessSource, Map<string, StageApiKeys>>()

/** The keys valid on API stage `apiId`/`stage`: enabled, and listed by a usage plan that covers the stage. */
export function compileStageApiKeys(access: AccessSource, apiId: string, stage: string): StageApiKeys {
  let byStage = stageTables.get(access)
  if (byStage === undefined) stageTables.set(access, (byStage = new Map()))
  const cacheKey = `${apiId}\n${stage}`
  const cached = byStage.get(cacheKey)
  if (cached !== undefined) return cached
  const byId = new Map(access.apiKeys.map((k) => [k.id, k]))
  const plansOf = new Map<string, UsagePlanSource[]>()
  for (const plan of access.usagePlans) {
    if (!plan.apiStages.some((s) => s.apiId === apiId && s.stage === stage)) continue
    for (const id of plan.apiKeys) {
      const list = plansOf.get(id)
      if (list === undefined) plansOf.set(id, [plan])
      else if (!list.includes(plan)) list.push(plan)
    }
  }
  const table = new Map<string, StageApiKey>()
  for (const [id, plans] of plansOf) {
    const key = byId.get(id)
    if (key !== undefined && key.enabled) table.set(key.value, Object.freeze({ key, plans: Object.freeze(plans) }))
  }
  byStage.set(cacheKey, table)
  return table
}

/** The run step: one Map lookup; 403 INVALID_API_KEY when it misses. */
export class ApiKeyStep implements MethodRequestStep {
  readonly name = 'api-key'
  constructor(
    /** Where the key comes from: the x-api-key header or the authorizer's usageIdentifierKey. */
    readonly source: 'HEADER' | 'AUTHORIZER',
    /** The stage's valid keys by value. */
    readonly keys: StageApiKeys,
  ) {}

  run(ctx: RequestContext): StepOutcome {
    const value = this.source === 'HEADER' ? ctx.header(API_KEY_HEADER) : ctx.authorizer === null ? null : ctx.authorizer.usageIdentifierKey
    const entry = value === null ? undefined : this.keys.get(value)
    if (entry === undefined) {
      sendGatewayResponse(ctx, 'INVALID_API_KEY')
      return StepOutcome.Answered
    }
    ctx.apiKey = entry.key
    ctx.usagePlan = entry.plans[0]
    return StepOutcome.Continue
  }
}

/** True when one of the method's security requirements names a Lambda authorizer (token or request): the only source of usageIdentifierKey. */
function hasLambdaAuthorizer(op: OperationSource, api: ApiSource): boolean {
  return op.security.some((req) => {
    const scheme = api.securitySchemes[req.name]
    const authorizer = isRecord(scheme) ? scheme['x-amazon-apigateway-authorizer'] : undefined
    const type = isRecord(authorizer) && typeof authorizer.type === 'string' ? authorizer.type.toLowerCase() : ''
    return type === 'token' || type === 'request'
  })
}

/** The API key step of a method, or null when it requires no key. */
export function compileApiKeyStep(op: OperationSource, cx: { readonly api: ApiSource; readonly stage: string; readonly access: AccessSource; readonly problems: ConfigProblem[] }): MethodRequestStep | null {
  if (!op.apiKeyRequired) return null
  if (cx.api.apiKeySource === 'AUTHORIZER' && !hasLambdaAuthorizer(op, cx.api)) {
    cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer: op.securityPointer === '' ? op.pointer : op.securityPointer, message: `${op.method} ${op.path} requires an API key from its authorizer (x-amazon-apigateway-api-key-source AUTHORIZER) but has no Lambda authorizer to return a usageIdentifierKey: every request to it gets 403 Forbidden`, severity: 'warning' })
  }
  return new ApiKeyStep(cx.api.apiKeySource, compileStageApiKeys(cx.access, cx.api.id, cx.stage))
}
