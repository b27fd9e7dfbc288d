// Resource policies (x-amazon-apigateway-policy), compile step.
import { Codes, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource } from '../../config/model.js'
import type { RequestContext } from '../../pipeline/context.js'
import type { PolicyDecision } from './policy.js'

/** Safe by construction: a resource policy the gateway does not enforce is refused at load. */
export function compileResourcePolicy(api: ApiSource, _access: AccessSource, problems: ConfigProblem[]): null {
  if (api.resourcePolicy === null) return null
  problems.push({ code: Codes.AUTHORIZATION, file: api.file, pointer: '/x-amazon-apigateway-policy', message: 'resource policies are not enforced yet; the API is refused rather than served without its policy', severity: 'error' })
  return null
}

/**
 * Seam for the authorization kinds (Lambda authorizers today; access-iam implements it):
 * combines an authorizer's policy decision with the API's resource policy, by the developer
 * guide's table "How API Gateway resource policies affect authorization workflow". Returns
 * the decision the caller then answers (ALLOW: go on; DENY: 403 explicit deny; NONE: 403),
 * or null when the resource policy's denial has been answered here.
 *
 * Until resource policies are enforced, compileResourcePolicy refuses every API that has one
 * at load, so a served method has none and the authorizer's decision stands as it is.
 */
export function combineWithResourcePolicy(_ctx: RequestContext, decision: PolicyDecision): PolicyDecision | null {
  return decision
}
