// Authorization, compile step: the method's security requirements (operation-level or root
// `security`, naming securitySchemes / securityDefinitions with x-amazon-apigateway-authtype
// and x-amazon-apigateway-authorizer) → one prebuilt step, or a problem at load.
//
// Safe by construction: a requirement the gateway cannot enforce is refused at load with the
// file, the JSON pointer and the reason. A method is never served open because its
// protection is of a kind this file does not know.
//
// Kinds: Lambda authorizers TOKEN / REQUEST (lambda-authorizer.ts), COGNITO_USER_POOLS
// (cognito.ts), AWS_IAM (iam.ts: an awsSigv4 scheme or x-amazon-apigateway-auth); methods
// without an authorization type still pass the API's resource policy (resource-policy.ts).
import { Codes, pointerJoin, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource, OperationSource } from '../../config/model.js'
import { isApiKeyScheme } from '../../config/normalize.js'
import { isRecord } from '../../util/is-record.js'
import type { MethodRequestStep } from '../step.js'
import { compileLambdaAuthorizer, isLambdaAuthorizerScheme, LambdaAuthorizerStep } from './lambda-authorizer.js'
import { compileCognitoStep, isCognitoAuthorizer } from './cognito.js'
import { IamStep, compilePrincipals, isIamScheme } from './iam.js'
import { ResourcePolicyStep, type CompiledResourcePolicy } from './resource-policy.js'
import type { WarmTokens } from './authorizer-cache.js'

/** What compiling a method's authorization needs besides the operation. */
export interface AuthorizationContext {
  readonly api: ApiSource
  /** The stage the method is compiled for (stage variables in authorizerUri, the cache key). */
  readonly stage: string
  readonly access: AccessSource
  /** The API's resource policy, compiled once per API (resource-policy.ts), or null. */
  readonly resourcePolicy: CompiledResourcePolicy | null
  readonly problems: ConfigProblem[]
  /** The stage's warm-token memos of TOKEN authorizers, shared by its methods (lambda-authorizer.ts); absent: one per method. */
  readonly warmTokens?: Map<string, WarmTokens>
}

/** True for the Swagger `api_key` scheme: a key requirement, not an authorizer (method-request/api-key.ts). */
export { isApiKeyScheme }

function refuse(cx: AuthorizationContext, op: OperationSource, pointer: string, why: string): void {
  cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer, message: `${why}; the method ${op.method} ${op.path} is refused rather than served open`, severity: 'error' })
}

function iamStep(cx: AuthorizationContext): IamStep {
  return new IamStep(compilePrincipals(cx.access, cx.problems), cx.access.region, cx.access.accountId, cx.resourcePolicy)
}

/** The authorization step of a method, or null when it has none (authorizationType NONE, no resource policy). */
export function compileAuthorization(op: OperationSource, cx: AuthorizationContext): MethodRequestStep | null {
  let step: MethodRequestStep | null = null
  let authorizerName: string | null = null
  let refused = false
  const alternatives = new Set(op.security.map((r) => r.alternative))
  for (const req of op.security) {
    const scheme = cx.api.securitySchemes[req.name]
    if (isApiKeyScheme(scheme)) continue
    const pointer = scheme === undefined ? op.securityPointer : pointerJoin(cx.api.securitySchemesPointer, req.name)
    if (scheme === undefined || !isRecord(scheme)) {
      refuse(cx, op, pointer, scheme === undefined ? `security requirement "${req.name}" names no security scheme` : `security scheme "${req.name}" must be an object`)
      refused = true
      continue
    }
    const authorizer = scheme['x-amazon-apigateway-authorizer']
    const lambda = isLambdaAuthorizerScheme(scheme)
    const cognito = !lambda && isCognitoAuthorizer(authorizer)
    const iam = !lambda && !cognito && authorizer === undefined && isIamScheme(scheme['x-amazon-apigateway-authtype'])
    if (!lambda && !cognito && !iam) {
      refuse(cx, op, pointer, `security scheme "${req.name}" is of a kind the gateway cannot enforce`)
      refused = true
      continue
    }
    // A method has one authorizer, required by every alternative: any other combination
    // (two authorizers, or an alternative without it) cannot be enforced as written.
    if (authorizerName === req.name) continue
    const everywhere = [...alternatives].every((alt) => op.security.some((r) => r.alternative === alt && r.name === req.name))
    if (authorizerName !== null || !everywhere) {
      cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer: op.securityPointer, message: `the security requirements of ${op.method} ${op.path} combine authorizers as alternatives, which API Gateway cannot express (one authorizer per method); the method is refused rather than served open`, severity: 'error' })
      return null
    }
    authorizerName = req.name
    if (lambda) {
      const compiled = compileLambdaAuthorizer(req.name, scheme, pointer, op, cx)
      if (compiled !== null) step = new LambdaAuthorizerStep(compiled, cx.access.region, cx.access.accountId, cx.api.id, cx.stage, cx.resourcePolicy, cx.warmTokens ?? null)
      else refused = true
    } else if (cognito) {
      const s = compileCognitoStep(op, req, scheme, pointer, cx)
      if (s !== null) step = s
      else refused = true
    } else {
      step = iamStep(cx)
    }
  }
  // x-amazon-apigateway-auth { type: AWS_IAM } (normalize.ts reads it; NONE is null, other types are refused there).
  if (op.authType === 'AWS_IAM') {
    if (authorizerName !== null && !(step instanceof IamStep)) {
      refuse(cx, op, pointerJoin(op.pointer, 'x-amazon-apigateway-auth'), `x-amazon-apigateway-auth AWS_IAM and security "${authorizerName}" both apply, but API Gateway applies one authorizer per method`)
      refused = true
    } else if (step === null) {
      step = iamStep(cx)
    }
  }
  if (refused) return null
  if (step === null && cx.resourcePolicy !== null) return new ResourcePolicyStep(cx.resourcePolicy)
  return step
}
