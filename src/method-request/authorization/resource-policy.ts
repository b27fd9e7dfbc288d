// Resource policies (x-amazon-apigateway-policy): compile step, and the one function that
// combines a method's authorization outcome with the API's resource policy.
//
// API Gateway developer guide:
// - "x-amazon-apigateway-policy": on import, "execute-api:/*" is converted to
//   arn:aws:execute-api:region:account-id:api-id/*.
// - "How API Gateway resource policies affect authorization workflow": resource policy only
//   → an explicit Allow is needed; Lambda authorizer → explicit Denies are checked before the
//   authorizer runs, then Table A; IAM → Table A when the caller is in the API owner's
//   account, Table B otherwise; Amazon Cognito → the caller is authenticated first, then the
//   resource policy is evaluated on its own and must explicitly allow.
//   Table A: any explicit Deny denies; otherwise an Allow from either policy allows.
//   Table B: any explicit Deny denies; otherwise both policies must allow.
// - Denial texts (AWS knowledge center "403 errors with a Lambda authorizer"):
//   "User: anonymous is not authorized to perform: execute-api:Invoke on resource: <arn>"
//   (implicit) and the same "with an explicit deny"; the gateway response is ACCESS_DENIED.
//   The uncustomized body is `{"Message":…}`, capitalized: the knowledge center's 2020 text
//   of the same article shows `Message: "User: anonymous is not authorized …"`, and the Lambda
//   authorizer's denials, AWS-observed, have the same shape (lambda-authorizer.ts).
import { Codes, pointerJoin, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource } from '../../config/model.js'
import { isRecord } from '../../util/is-record.js'
import type { RequestContext } from '../../pipeline/context.js'
import { sendGatewayResponse } from '../../method-response/gateway-responses.js'
import { StepOutcome, type MethodRequestStep } from '../step.js'
import { compilePolicy, evaluatePolicy, methodArn, type CompiledPolicy, type PolicyDecision, type PolicyError } from './policy.js'

/** The condition keys the gateway can give a value (lower-case, as evaluatePolicy reads them). */
export const SUPPORTED_CONDITION_KEYS: ReadonlySet<string> = new Set(['aws:sourceip', 'aws:principalarn', 'aws:principalaccount', 'aws:useragent', 'aws:referer'])

/** Why a condition key is refused, for the keys a definition is likely to name. */
const UNSUPPORTED_KEY_REASON: Readonly<Record<string, string>> = {
  'aws:sourcevpce': 'the gateway is not reached through VPC endpoints',
  'aws:sourcevpc': 'the gateway is not reached through VPC endpoints',
}

export interface CompiledResourcePolicy {
  readonly policy: CompiledPolicy
  /** The account that owns the API (Table A vs Table B for IAM callers). */
  readonly accountId: string
  readonly region: string
}

/** How a method is authorized, for combineWithResourcePolicy. */
export const enum AuthorizationKind {
  /** authorizationType NONE: the resource policy alone decides. */
  None = 0,
  /** AWS_IAM: the principal's identity policy and the resource policy (Table A / Table B). */
  Iam = 1,
  /** COGNITO_USER_POOLS: authenticated first; the resource policy must then allow on its own. */
  Cognito = 2,
  /** CUSTOM (Lambda authorizer): explicit Denies first, then Table A with the authorizer's policy. */
  LambdaAuthorizer = 3,
}

/** Checks the condition keys of a policy document: a key the gateway has no value for is refused. */
export function checkConditionKeys(doc: unknown, pointer: string, errors: PolicyError[]): void {
  if (!isRecord(doc)) return
  const raw = doc.Statement
  const list = Array.isArray(raw) ? raw : [raw]
  list.forEach((s, i) => {
    if (!isRecord(s) || !isRecord(s.Condition)) return
    const at = Array.isArray(raw) ? `${pointer}/Statement/${i}` : `${pointer}/Statement`
    for (const [op, block] of Object.entries(s.Condition)) {
      if (!isRecord(block)) continue
      for (const key of Object.keys(block)) {
        const k = key.toLowerCase()
        if (SUPPORTED_CONDITION_KEYS.has(k)) continue
        const why = UNSUPPORTED_KEY_REASON[k] ?? 'the gateway has no value for this key'
        errors.push({ pointer: pointerJoin(`${at}/Condition`, op, key), message: `condition key ${key} cannot be evaluated: ${why} (supported: aws:SourceIp, aws:PrincipalArn, aws:PrincipalAccount, aws:UserAgent, aws:Referer)` })
      }
    }
  })
}

/** "execute-api:/{stage}/{METHOD}/{path}" → the API's full ARN, as API Gateway converts it on import. */
function expandShorthand(value: unknown, prefix: string): unknown {
  if (typeof value === 'string') return value.startsWith('execute-api:/') ? prefix + value.slice('execute-api:/'.length) : value
  if (Array.isArray(value)) return value.map((v) => expandShorthand(v, prefix))
  return value
}

function expandDocument(doc: unknown, prefix: string): unknown {
  if (!isRecord(doc)) return doc
  const expandStatement = (s: unknown) => (isRecord(s) ? { ...s, ...(s.Resource !== undefined ? { Resource: expandShorthand(s.Resource, prefix) } : {}), ...(s.NotResource !== undefined ? { NotResource: expandShorthand(s.NotResource, prefix) } : {}) } : s)
  const st = doc.Statement
  return { ...doc, Statement: Array.isArray(st) ? st.map(expandStatement) : expandStatement(st) }
}

/**
 * Compiles the API's resource policy, or null without one. A policy the gateway cannot
 * evaluate (an unknown operator or condition key, a malformed statement) is refused at load
 * with its pointer: the API is never served without its policy.
 */
export function compileResourcePolicy(api: ApiSource, access: AccessSource, problems: ConfigProblem[]): CompiledResourcePolicy | null {
  if (api.resourcePolicy === null || api.resourcePolicy === undefined) return null
  const pointer = '/x-amazon-apigateway-policy'
  const errors: PolicyError[] = []
  checkConditionKeys(api.resourcePolicy, pointer, errors)
  const policy = compilePolicy(expandDocument(api.resourcePolicy, `arn:aws:execute-api:${access.region}:${access.accountId}:${api.id}/`), pointer, errors)
  for (const e of errors) problems.push({ code: Codes.AUTHORIZATION, file: api.file, pointer: e.pointer, message: `resource policy: ${e.message}; the API is refused rather than served without its policy`, severity: 'error' })
  if (policy === null || errors.length > 0) return null
  return Object.freeze({ policy, accountId: access.accountId, region: access.region })
}

/** The request's execute-api ARN: arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}. */
export function requestArn(ctx: RequestContext, region: string, accountId: string): string {
  return methodArn(region, accountId, ctx.api!.id, ctx.stage!.name, ctx.request.method, ctx.path)
}

/** The condition keys of a request: aws:SourceIp always; the principal's for IAM callers. */
export function requestConditionKeys(ctx: RequestContext, principalArn: string | null): Record<string, string> {
  const keys: Record<string, string> = { 'aws:sourceip': ctx.request.remoteAddress }
  const ua = ctx.header('user-agent')
  if (ua !== null) keys['aws:useragent'] = ua
  const referer = ctx.header('referer')
  if (referer !== null) keys['aws:referer'] = referer
  if (principalArn !== null) {
    keys['aws:principalarn'] = principalArn
    const account = principalArn.split(':')[4]
    if (account !== undefined && account !== '') keys['aws:principalaccount'] = account
  }
  return keys
}

function evaluateResource(ctx: RequestContext, rp: CompiledResourcePolicy, arn: string, principalArn: string | null): PolicyDecision {
  return evaluatePolicy(rp.policy, { action: 'execute-api:Invoke', resource: arn, principalArn, conditionKeys: requestConditionKeys(ctx, principalArn) })
}

function notAuthorized(who: string, arn: string): string {
  return `User: ${who} is not authorized to perform: execute-api:Invoke on resource: ${arn}`
}

const encoder = new TextEncoder()

/** 403 ACCESS_DENIED with `message`; uncustomized, the body is `{"Message":…}` as AWS sends its policy denials. */
function deny(ctx: RequestContext, message: string): void {
  sendGatewayResponse(ctx, 'ACCESS_DENIED', message, null, null, encoder.encode(`{"Message":${JSON.stringify(message)}}`))
}

/** A Lambda authorizer's own denials (its policyDocument), API Gateway's texts. */
export const AUTHORIZER_EXPLICIT_DENY = 'User is not authorized to access this resource with an explicit deny'
export const AUTHORIZER_IMPLICIT_DENY = 'User is not authorized to access this resource'

/**
 * The Lambda authorizer's first phase: before the authorizer is called, an explicit Deny in
 * the resource policy denies at once. Returns true when the request may go on (call the
 * authorizer); false when it has been answered (403 ACCESS_DENIED).
 */
export function checkResourcePolicyDeny(ctx: RequestContext, rp: CompiledResourcePolicy | null): boolean {
  if (rp === null) return true
  const arn = requestArn(ctx, rp.region, rp.accountId)
  if (evaluateResource(ctx, rp, arn, null) !== 'DENY') return true
  deny(ctx, `${notAuthorized('anonymous', arn)} with an explicit deny`)
  return false
}

/**
 * Combines a method's own authorization outcome with the API's resource policy, by the
 * developer guide's tables, and answers the request when the combination denies it.
 * Every authorization kind calls this once it has its own decision:
 *
 * - AuthorizationKind.None: `decision` is 'NONE' (no authorization type).
 * - AuthorizationKind.Iam: the principal's identity policy decision for this request's ARN;
 *   `principalArn` the caller's ARN (same account as the API → Table A, else Table B).
 * - AuthorizationKind.Cognito: 'ALLOW' once the token is verified.
 * - AuthorizationKind.LambdaAuthorizer: the decision of the authorizer's policyDocument for
 *   this request's methodArn; call checkResourcePolicyDeny(ctx, rp) before invoking the
 *   authorizer. With rp null this function also answers the authorizer's own denials:
 *   DENY → 403 "User is not authorized to access this resource with an explicit deny",
 *   NONE → 403 "User is not authorized to access this resource".
 *
 * `knownArn`: the request's ARN when the caller has built it already (requestArn), else null.
 * Returns true when the request may go on to the next step; false when it was answered.
 */
export function combineWithResourcePolicy(ctx: RequestContext, rp: CompiledResourcePolicy | null, kind: AuthorizationKind, decision: PolicyDecision, principalArn: string | null, knownArn: string | null = null): boolean {
  // The request's ARN: given by a caller that has already built it (IAM), else built here.
  const arn = knownArn ?? (rp !== null ? requestArn(ctx, rp.region, rp.accountId) : null)
  const resource: PolicyDecision = rp === null ? 'NONE' : evaluateResource(ctx, rp, arn!, kind === AuthorizationKind.Iam ? principalArn : null)
  const who = kind === AuthorizationKind.Iam && principalArn !== null ? principalArn : 'anonymous'
  // An explicit Deny in the resource policy denies every kind.
  if (resource === 'DENY') {
    deny(ctx, `${notAuthorized(who, arn!)} with an explicit deny`)
    return false
  }
  switch (kind) {
    case AuthorizationKind.None:
    case AuthorizationKind.Cognito:
      // Resource policy only / Cognito: the resource policy must allow explicitly.
      if (rp === null || resource === 'ALLOW') return true
      deny(ctx, notAuthorized('anonymous', arn!))
      return false
    case AuthorizationKind.LambdaAuthorizer:
      if (decision === 'DENY') {
        deny(ctx, AUTHORIZER_EXPLICIT_DENY)
        return false
      }
      // Table A: an Allow from either policy allows.
      if (decision === 'ALLOW' || resource === 'ALLOW') return true
      deny(ctx, AUTHORIZER_IMPLICIT_DENY)
      return false
    case AuthorizationKind.Iam: {
      const target = arn ?? ''
      if (decision === 'DENY') {
        deny(ctx, `${notAuthorized(who, target)} with an explicit deny`)
        return false
      }
      const callerAccount = principalArn === null ? null : principalArn.split(':')[4] ?? null
      const sameAccount = rp === null || callerAccount === rp.accountId
      if (sameAccount ? decision === 'ALLOW' || resource === 'ALLOW' : decision === 'ALLOW' && resource === 'ALLOW') return true
      // Which policy failed to allow: the identity policy ("because no identity-based policy
      // allows", AWS knowledge center "signature mismatch errors … IAM authentication"), else the resource policy.
      if (decision !== 'ALLOW') deny(ctx, `${notAuthorized(who, target)} because no identity-based policy allows the execute-api:Invoke action`)
      else deny(ctx, notAuthorized(who, target))
      return false
    }
  }
  return false
}

/** The authorization step of a method without an authorization type in an API with a resource policy. */
export class ResourcePolicyStep implements MethodRequestStep {
  readonly name = 'authorization'
  constructor(readonly resourcePolicy: CompiledResourcePolicy) {}

  run(ctx: RequestContext): StepOutcome {
    return combineWithResourcePolicy(ctx, this.resourcePolicy, AuthorizationKind.None, 'NONE', null) ? StepOutcome.Continue : StepOutcome.Answered
  }
}

