// Resource policies (x-amazon-apigateway-policy), compile step.
import { Codes, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource } from '../../config/model.js'

/** Safe by construction: a resource policy the gateway does not enforce is refused at load. */
export function compileResourcePolicy(api: ApiSource, _access: AccessSource, problems: ConfigProblem[]): null {
  if (api.resourcePolicy === null) return null
  problems.push({ code: Codes.AUTHORIZATION, file: api.file, pointer: '/x-amazon-apigateway-policy', message: 'resource policies are not enforced yet; the API is refused rather than served without its policy', severity: 'error' })
  return null
}
