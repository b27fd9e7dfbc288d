// Authorization, compile step: the method's security requirements (operation-level or root
// `security`, naming securitySchemes / securityDefinitions with x-amazon-apigateway-authtype
// and x-amazon-apigateway-authorizer) → one prebuilt step, or a problem at load.
//
// Safe by construction: a requirement the gateway cannot enforce is refused at load with the
// file, the JSON pointer and the reason. A method is never served open because its
// protection is of a kind this file does not know.
import { Codes, pointerJoin, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource, OperationSource } from '../../config/model.js'
import { isApiKeyScheme } from '../../config/normalize.js'
import type { MethodRequestStep } from '../step.js'

/** What compiling a method's authorization needs besides the operation. */
export interface AuthorizationContext {
  readonly api: ApiSource
  readonly access: AccessSource
  readonly problems: ConfigProblem[]
}

/** True for the Swagger `api_key` scheme: a key requirement, not an authorizer (method-request/api-key.ts). */
export { isApiKeyScheme }

/** The authorization step of a method, or null when it has none (authorizationType NONE). */
export function compileAuthorization(op: OperationSource, cx: AuthorizationContext): MethodRequestStep | null {
  if (op.authType === 'AWS_IAM') {
    cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer: pointerJoin(op.pointer, 'x-amazon-apigateway-auth'), message: `IAM authorization (x-amazon-apigateway-auth AWS_IAM) is not enforced yet; the method ${op.method} ${op.path} is refused rather than served open`, severity: 'error' })
  }
  for (const req of op.security) {
    const scheme = cx.api.securitySchemes[req.name]
    if (isApiKeyScheme(scheme)) continue
    const pointer = scheme === undefined ? op.securityPointer : pointerJoin(cx.api.securitySchemesPointer, req.name)
    const why = scheme === undefined ? `security requirement "${req.name}" names no security scheme` : `security scheme "${req.name}" is of a kind the gateway cannot enforce`
    cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer, message: `${why}; the method ${op.method} ${op.path} is refused rather than served open`, severity: 'error' })
  }
  return null
}
