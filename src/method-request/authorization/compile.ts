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
import { compileLambdaAuthorizer, isLambdaAuthorizerScheme, LambdaAuthorizerStep } from './lambda-authorizer.js'

/** What compiling a method's authorization needs besides the operation. */
export interface AuthorizationContext {
  readonly api: ApiSource
  /** The stage the method is compiled for (stage variables in authorizerUri, the cache key). */
  readonly stage: string
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
  let step: MethodRequestStep | null = null
  let authorizerName: string | null = null
  const alternatives = new Set(op.security.map((r) => r.alternative))
  for (const req of op.security) {
    const scheme = cx.api.securitySchemes[req.name]
    if (isApiKeyScheme(scheme)) continue
    const pointer = scheme === undefined ? op.securityPointer : pointerJoin(cx.api.securitySchemesPointer, req.name)
    if (isLambdaAuthorizerScheme(scheme)) {
      // A method has one authorizer, required by every alternative: any other combination
      // (two authorizers, or an alternative without it) cannot be enforced as written.
      if (authorizerName === req.name) continue
      const everywhere = [...alternatives].every((alt) => op.security.some((r) => r.alternative === alt && r.name === req.name))
      if (authorizerName !== null || !everywhere) {
        cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer: op.securityPointer, message: `the security requirements of ${op.method} ${op.path} combine authorizers as alternatives, which API Gateway cannot express (one authorizer per method); the method is refused rather than served open`, severity: 'error' })
        return null
      }
      authorizerName = req.name
      const compiled = compileLambdaAuthorizer(req.name, scheme as Record<string, unknown>, pointer, op, cx)
      if (compiled !== null) step = new LambdaAuthorizerStep(compiled, cx.access.region, cx.access.accountId, cx.api.id, cx.stage)
      continue
    }
    const why = scheme === undefined ? `security requirement "${req.name}" names no security scheme` : `security scheme "${req.name}" is of a kind the gateway cannot enforce`
    cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer, message: `${why}; the method ${op.method} ${op.path} is refused rather than served open`, severity: 'error' })
  }
  return step
}
