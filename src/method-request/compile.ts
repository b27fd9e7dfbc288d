// Method request, compile step: a method's steps in API Gateway's order, prebuilt once
// per stage — decompression (every API), authorization, API key, throttling, request validation, usage plan quota.
import type { AccessSource, ApiSource, GatewaySource, OperationSource } from '../config/model.js'
import type { ConfigProblem } from '../errors.js'
import type { MethodRequestStep } from './step.js'
import { DECOMPRESSION_STEP } from './decompression.js'
import { compileAuthorization } from './authorization/compile.js'
import { compileApiKeyStep } from './api-key.js'
import { compileQuotaStep } from './quota-step.js'
import { compileThrottleStep } from './throttle-step.js'
import { ValidationStep } from './validation-step.js'
import type { CompiledValidation } from './validation.js'
import type { CompiledResourcePolicy } from './authorization/resource-policy.js'
import type { WarmTokens } from './authorization/authorizer-cache.js'

export interface MethodRequestContext {
  readonly api: ApiSource
  /** The stage this method is compiled for (usage plans name API stages). */
  readonly stage: string
  readonly access: AccessSource
  /** The API's resource policy (x-amazon-apigateway-policy), compiled once per API, or null. */
  readonly resourcePolicy: CompiledResourcePolicy | null
  readonly problems: ConfigProblem[]
  /** The whole gateway (account-level throttling, state.redis); null when an API is compiled on its own. */
  readonly gateway?: GatewaySource | null
  /** The stage's warm-token memos of TOKEN authorizers (authorization/lambda-authorizer.ts), one map per stage. */
  readonly warmTokens?: Map<string, WarmTokens>
}

export function compileMethodRequest(op: OperationSource, validation: CompiledValidation | null, cx: MethodRequestContext): readonly MethodRequestStep[] {
  const steps: MethodRequestStep[] = []
  // "By default, API Gateway supports decompression of the method request payload" (the
  // guide, "Payload compression for REST APIs"): every method decompresses.
  steps.push(DECOMPRESSION_STEP)
  const auth = compileAuthorization(op, cx)
  if (auth !== null) steps.push(auth)
  const key = compileApiKeyStep(op, cx)
  if (key !== null) steps.push(key)
  steps.push(compileThrottleStep(op, cx))
  if (validation !== null) steps.push(new ValidationStep(validation))
  // The quota is taken last (order: api-key, throttle-step, validation, quota-step): a request answered
  // by a gateway response before its integration (throttled, invalid) uses no quota.
  const quota = key === null ? null : compileQuotaStep(cx)
  if (quota !== null) steps.push(quota)
  return Object.freeze(steps)
}
