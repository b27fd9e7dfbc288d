// Authorization, compile step: the method's security requirements (operation-level or root
// `security`, naming securitySchemes / securityDefinitions with x-amazon-apigateway-authtype
// and x-amazon-apigateway-authorizer) → one prebuilt step, or a problem at load.
//
// Safe by construction: a requirement the gateway cannot enforce is refused at load with the
// file, the JSON pointer and the reason. A method is never served open because its
// protection is of a kind this file does not know.
//
// Kinds: COGNITO_USER_POOLS (cognito.ts), AWS_IAM (iam.ts); methods without an
// authorization type still pass the API's resource policy (resource-policy.ts).
import { Codes, pointerJoin, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource, OperationSource } from '../../config/model.js'
import { isRecord } from '../../util/is-record.js'
import type { MethodRequestStep } from '../step.js'
import { compileCognitoStep, isCognitoAuthorizer } from './cognito.js'
import { IamStep, compilePrincipals, isIamScheme } from './iam.js'
import { ResourcePolicyStep, type CompiledResourcePolicy } from './resource-policy.js'

/** What compiling a method's authorization needs besides the operation. */
export interface AuthorizationContext {
  readonly api: ApiSource
  readonly access: AccessSource
  /** The API's resource policy, compiled once per API (resource-policy.ts), or null. */
  readonly resourcePolicy: CompiledResourcePolicy | null
  readonly problems: ConfigProblem[]
}

/** True for the Swagger `api_key` scheme: a key requirement, not an authorizer (method-request/api-key.ts). */
export function isApiKeyScheme(scheme: unknown): boolean {
  return isRecord(scheme) && scheme.type === 'apiKey' && scheme['x-amazon-apigateway-authorizer'] === undefined && scheme['x-amazon-apigateway-authtype'] === undefined
}

function refuse(cx: AuthorizationContext, op: OperationSource, pointer: string, why: string): void {
  cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer, message: `${why}; the method ${op.method} ${op.path} is refused rather than served open`, severity: 'error' })
}

/** The authorization step of a method, or null when it has none (authorizationType NONE, no resource policy). */
export function compileAuthorization(op: OperationSource, cx: AuthorizationContext): MethodRequestStep | null {
  let step: MethodRequestStep | null = null
  let named: string | null = null
  let refused = false
  for (const req of op.security) {
    const scheme = cx.api.securitySchemes[req.name]
    if (isApiKeyScheme(scheme)) continue
    const pointer = scheme === undefined ? op.securityPointer : pointerJoin(cx.api.securitySchemesPointer, req.name)
    if (scheme === undefined || !isRecord(scheme)) {
      refuse(cx, op, pointer, scheme === undefined ? `security requirement "${req.name}" names no security scheme` : `security scheme "${req.name}" must be an object`)
      refused = true
      continue
    }
    // API Gateway gives a method one authorization type: alternatives between authorizers cannot be honoured.
    if (named !== null && named !== req.name) {
      refuse(cx, op, op.securityPointer, `security names both "${named}" and "${req.name}", but API Gateway applies one authorizer per method`)
      refused = true
      continue
    }
    named = req.name
    const authorizer = scheme['x-amazon-apigateway-authorizer']
    const authtype = scheme['x-amazon-apigateway-authtype']
    if (isCognitoAuthorizer(authorizer)) {
      const s = compileCognitoStep(op, req, scheme, pointer, cx)
      if (s === null) refused = true
      else step = s
    } else if (authorizer === undefined && isIamScheme(authtype)) {
      step = new IamStep(compilePrincipals(cx.access, cx.problems), cx.access.region, cx.access.accountId, cx.resourcePolicy)
    } else {
      refuse(cx, op, pointer, `security scheme "${req.name}" is of a kind the gateway cannot enforce`)
      refused = true
    }
  }
  // x-amazon-apigateway-auth: AWS_IAM by the operation's own extension (NONE: nothing to add).
  if (op.authType !== null && op.authType !== 'NONE') {
    const pointer = pointerJoin(op.pointer, 'x-amazon-apigateway-auth')
    if (op.authType !== 'AWS_IAM') {
      refuse(cx, op, pointer, `x-amazon-apigateway-auth type ${op.authType} is not one the gateway can enforce (NONE, AWS_IAM)`)
      refused = true
    } else if (named !== null && !(step instanceof IamStep)) {
      refuse(cx, op, pointer, `x-amazon-apigateway-auth AWS_IAM and security "${named}" both apply, but API Gateway applies one authorizer per method`)
      refused = true
    } else if (step === null) {
      step = new IamStep(compilePrincipals(cx.access, cx.problems), cx.access.region, cx.access.accountId, cx.resourcePolicy)
    }
  }
  if (refused) return null
  if (step === null && cx.resourcePolicy !== null) return new ResourcePolicyStep(cx.resourcePolicy)
  return step
}
