// AWS_IAM authorization, compile step and run step: methods whose security scheme has
// x-amazon-apigateway-authtype awsSigv4 (the developer guide's "x-amazon-apigateway-authtype":
// "the term awsSigv4 is a reserved term, along with any term prefixed by aws") verify the
// caller's Signature Version 4 against the gateway config's `credentials`, then evaluate the
// principal's identity policy and the resource policy (combineWithResourcePolicy).
//
// Outcomes (AWS knowledge center, "signature mismatch errors … SigV4 signed requests with IAM
// authentication to API Gateway"; AWS's SigV4 error texts):
// - no signature → 403 MISSING_AUTHENTICATION_TOKEN "Missing Authentication Token";
// - an unknown access key (or a wrong security token) → 403 "The security token included in
//   the request is invalid." (UnrecognizedClientException);
// - a signature that does not match → 403 INVALID_SIGNATURE, with the canonical string and
//   string to sign API Gateway expected;
// - X-Amz-Date outside the 5-minute window → 403 INVALID_SIGNATURE "Signature expired: …";
// - the policies deny → 403 ACCESS_DENIED "User: {arn} is not authorized to perform: execute-api:Invoke on resource: {arn} …".
import { timingSafeEqual } from 'node:crypto'
import type { AccessSource, CredentialSource } from '../../config/model.js'
import type { ConfigProblem } from '../../errors.js'
import { Codes } from '../../errors.js'
import type { RequestContext } from '../../pipeline/context.js'
import { sendGatewayResponse } from '../../method-response/gateway-responses.js'
import { resumeMethodRequest } from '../run.js'
import { StepOutcome, type MethodRequestStep } from '../step.js'
import { compileCallerIdentity, type CallerIdentity } from './identity.js'
import { compilePolicy, evaluatePolicy, type CompiledPolicy, type PolicyDecision, type PolicyError } from './policy.js'
import { AuthorizationKind, checkConditionKeys, combineWithResourcePolicy, requestArn, requestConditionKeys, type CompiledResourcePolicy } from './resource-policy.js'
import { EXECUTE_API_SERVICE, checkSignatureTime, computeExpectedSignature, readSignature, signatureMismatchMessage, signaturesEqual, type ParsedSignature, type SignedRequest } from './sigv4.js'

/** True for a security scheme that means AWS_IAM. */
export function isIamScheme(authtype: unknown): boolean {
  return typeof authtype === 'string' && authtype.toLowerCase() === 'awssigv4'
}

/** One principal that may sign requests, compiled once per gateway. */
export interface CompiledPrincipal {
  readonly credential: CredentialSource
  readonly identity: CallerIdentity
  /** The identity policy, or null (nothing allowed). */
  readonly policy: CompiledPolicy | null
}

/** Access key id → principal, for one gateway's credentials. */
export type PrincipalTable = ReadonlyMap<string, CompiledPrincipal>

/** Where credential problems are reported: the gateway config's section (loaded by config/access.ts). */
const CREDENTIALS_FILE = '(gateway config)'

const principalTables = new WeakMap<AccessSource, PrincipalTable>()

/** The principals of a gateway, compiled once per worker (every AWS_IAM method shares them). */
export function compilePrincipals(access: AccessSource, problems: ConfigProblem[]): PrincipalTable {
  const known = principalTables.get(access)
  if (known !== undefined) return known
  const table = new Map<string, CompiledPrincipal>()
  access.credentials.forEach((cred, i) => {
    let policy: CompiledPolicy | null = null
    if (cred.policy !== null) {
      const errors: PolicyError[] = []
      const pointer = `/credentials/${i}/policy`
      checkConditionKeys(cred.policy, pointer, errors)
      policy = compilePolicy(cred.policy, pointer, errors)
      for (const e of errors) problems.push({ code: Codes.AUTHORIZATION, file: CREDENTIALS_FILE, pointer: e.pointer, message: `identity policy of ${cred.arn}: ${e.message}`, severity: 'error' })
      if (errors.length > 0) policy = null
    }
    table.set(cred.accessKeyId, Object.freeze({ credential: cred, identity: compileCallerIdentity(cred), policy }))
  })
  principalTables.set(access, table)
  return table
}

const INVALID_TOKEN = 'The security token included in the request is invalid.'

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

export class IamStep implements MethodRequestStep {
  readonly name = 'authorization'

  constructor(
    readonly principals: PrincipalTable,
    readonly region: string,
    /** The API owner's account: methodArn and Table A / Table B. */
    readonly accountId: string,
    readonly resourcePolicy: CompiledResourcePolicy | null,
  ) {}

  run(ctx: RequestContext): StepOutcome {
    const req = ctx.request
    const signed: SignedRequest = { method: req.method, path: req.url, query: req.query, headers: req.headers, body: req.body === null ? null : new Uint8Array(req.body) }
    const reading = readSignature(signed)
    if (reading.kind === 'absent') {
      sendGatewayResponse(ctx, 'MISSING_AUTHENTICATION_TOKEN')
      return StepOutcome.Answered
    }
    if (reading.kind === 'incomplete') {
      sendGatewayResponse(ctx, 'DEFAULT_4XX', reading.message, 403, null, null, 'IncompleteSignatureException')
      return StepOutcome.Answered
    }
    const sig = reading.signature
    const principal = this.principals.get(sig.accessKeyId)
    const token = principal?.credential.sessionToken ?? null
    if (principal === undefined || (token === null ? sig.securityToken !== null : sig.securityToken === null || !tokensEqual(token, sig.securityToken))) {
      sendGatewayResponse(ctx, 'DEFAULT_4XX', INVALID_TOKEN, 403, null, null, 'UnrecognizedClientException')
      return StepOutcome.Answered
    }
    const scopeProblem = this.#scopeProblem(sig)
    if (scopeProblem !== null) {
      sendGatewayResponse(ctx, 'INVALID_SIGNATURE', scopeProblem)
      return StepOutcome.Answered
    }
    const late = checkSignatureTime(sig, Date.now())
    if (late !== null) {
      sendGatewayResponse(ctx, 'INVALID_SIGNATURE', late)
      return StepOutcome.Answered
    }
    void this.#verify(ctx, signed, sig, principal)
    return StepOutcome.Pending
  }

  /** AWS's texts for a credential scoped to another region, service or date. */
  #scopeProblem(sig: ParsedSignature): string | null {
    if (sig.service !== EXECUTE_API_SERVICE) return `Credential should be scoped to correct service: '${EXECUTE_API_SERVICE}'. `
    if (sig.region !== this.region) return `Credential should be scoped to a valid region. `
    if (sig.terminator !== 'aws4_request') return `Credential should be scoped with a valid terminator: 'aws4_request', not '${sig.terminator}'. `
    if (!sig.amzDate.startsWith(sig.scopeDate)) return `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${sig.scopeDate}' != '${sig.amzDate.slice(0, 8)}', from '${sig.amzDate}'.`
    return null
  }

  async #verify(ctx: RequestContext, signed: SignedRequest, sig: ParsedSignature, principal: CompiledPrincipal): Promise<void> {
    let expected
    try {
      expected = await computeExpectedSignature(signed, sig, principal.credential.secretAccessKey)
    } catch {
      sendGatewayResponse(ctx, 'INVALID_SIGNATURE')
      return
    }
    // A payload hash header that is not the body's hash is a signature over another body.
    const claimed = ctx.header('x-amz-content-sha256')
    const bodyHash = expected.canonicalRequest.slice(expected.canonicalRequest.lastIndexOf('\n') + 1)
    if (!signaturesEqual(expected.signature, sig.signature) || (claimed !== null && claimed !== bodyHash)) {
      sendGatewayResponse(ctx, 'INVALID_SIGNATURE', signatureMismatchMessage(expected))
      return
    }
    ctx.identity = principal.identity
    const arn = requestArn(ctx, this.region, this.accountId)
    const decision: PolicyDecision = principal.policy === null ? 'NONE' : evaluatePolicy(principal.policy, { action: 'execute-api:Invoke', resource: arn, principalArn: principal.credential.arn, conditionKeys: requestConditionKeys(ctx, principal.credential.arn) })
    if (!combineWithResourcePolicy(ctx, this.resourcePolicy, AuthorizationKind.Iam, decision, principal.credential.arn, arn)) return
    resumeMethodRequest(ctx)
  }
}
