// Amazon Cognito user pool authorizers (COGNITO_USER_POOLS), compile step and run step.
//
// Read from a security scheme whose x-amazon-apigateway-authorizer has type
// cognito_user_pools and providerARNs (each must name a pool of the gateway config's
// userPools, else the method is refused at load). The token comes from identitySource:
// the scheme's header (`name`, with `in: header`) — LocalStack's AWS-validated import
// snapshot test_import_with_cognito_auth_identity_source records identitySource
// method.request.header.{name} — else method.request.header.Authorization.
//
// Verification (jose): the signature against the pool's JWKS (a file, or a URL fetched and
// cached, refetched when a token names an unknown key, at most once per JWKS_COOLDOWN_MS),
// RS256 only, `iss` the pool's issuer, `exp`, and token_use: with authorizationScopes (the
// security requirement's scopes) only an access token whose `scope` holds one of them passes
// ("When the method scope is configured, the client must provide an access token instead of
// an identity token", API Gateway's Method.authorizationScopes); without them only an ID token.
//
// Outcomes: missing, malformed or unverifiable token, wrong token_use or scope → 401
// UNAUTHORIZED "Unauthorized"; an expired one → 401 "The incoming token has expired" (what
// API Gateway's Cognito authorizer answers, as clients of it test for). Then the resource
// policy (combineWithResourcePolicy, AuthorizationKind.Cognito).
import { readFileSync } from 'node:fs'
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { Codes, pointerJoin, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource, OperationSource, SecurityRequirementSource, UserPoolSource } from '../../config/model.js'
import { isRecord } from '../../util/is-record.js'
import type { RequestContext } from '../../pipeline/context.js'
import { sendGatewayResponse } from '../../method-response/gateway-responses.js'
import { resumeMethodRequest } from '../run.js'
import { StepOutcome, type MethodRequestStep } from '../step.js'
import type { AuthorizerOutcome } from './authorizer-outcome.js'
import { AuthorizationKind, combineWithResourcePolicy, type CompiledResourcePolicy } from './resource-policy.js'

/** At most one JWKS refetch per pool and worker in this time when tokens name unknown keys (rate limit against random kids). */
export const JWKS_COOLDOWN_MS = 10_000
/** A fetched JWKS is refetched on use after this long: rotated keys are picked up. */
export const JWKS_MAX_AGE_MS = 10 * 60_000
/** Bound on one JWKS fetch: the request waits at most this long for its pool's keys. */
export const JWKS_FETCH_TIMEOUT_MS = 5_000
/** Cognito signs with RS256; accepting no other algorithm rules out algorithm confusion. */
const ALGORITHMS = ['RS256']
/** The identity source when the scheme names no header. */
export const DEFAULT_IDENTITY_HEADER = 'Authorization'

type KeySet = ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>

interface CompiledUserPool {
  readonly arn: string
  readonly issuer: string
  readonly keys: KeySet
}

/** One compiled pool per worker for each (arn, issuer, JWKS URL): every method shares its JWKS cache. */
const pools = new Map<string, CompiledUserPool>()

function compilePool(pool: UserPoolSource): CompiledUserPool | string {
  const remote = /^https?:\/\//i.test(pool.jwks)
  // A URL's key set (and its cache) is kept across compiles; a file is read again on each (a reload picks up its changes).
  const key = `${pool.arn}\n${pool.issuer}\n${pool.jwks}`
  const known = remote ? pools.get(key) : undefined
  if (known !== undefined) return known
  let keys: KeySet
  if (remote) {
    keys = createRemoteJWKSet(new URL(pool.jwks), { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS, timeoutDuration: JWKS_FETCH_TIMEOUT_MS })
  } else {
    try {
      keys = createLocalJWKSet(JSON.parse(readFileSync(pool.jwks, 'utf8')))
    } catch (err) {
      return `cannot read the JWKS of user pool ${pool.arn} from ${pool.jwks}: ${(err as Error).message}`
    }
  }
  const compiled = Object.freeze({ arn: pool.arn, issuer: pool.issuer, keys })
  if (remote) pools.set(key, compiled)
  return compiled
}

/** True for an x-amazon-apigateway-authorizer of type cognito_user_pools. */
export function isCognitoAuthorizer(authorizer: unknown): boolean {
  return isRecord(authorizer) && typeof authorizer.type === 'string' && authorizer.type.toLowerCase() === 'cognito_user_pools'
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const two = (n: number) => (n < 10 ? '0' : '') + n

/** exp and iat as API Gateway passes them in claims: Java's Date text, "Thu Jun 04 12:34:56 UTC 2020". */
export function javaDateText(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000)
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
}

/** The token's claims as $context.authorizer.claims holds them: every value a string. */
export function claimsOf(payload: JWTPayload): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined || v === null) continue
    if ((k === 'exp' || k === 'iat') && typeof v === 'number') out[k] = javaDateText(v)
    else if (typeof v === 'string') out[k] = v
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v)
    else if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',')
    else out[k] = JSON.stringify(v)
  }
  return out
}

export class CognitoStep implements MethodRequestStep {
  readonly name = 'authorization'

  constructor(
    /** Lower-case header the token is read from. */
    readonly identityHeader: string,
    /** Issuer → pool. */
    readonly pools: ReadonlyMap<string, CompiledUserPool>,
    /** authorizationScopes; empty: ID tokens only. */
    readonly scopes: readonly string[],
    /** identityValidationExpression, matched against the token's aud (client_id for access tokens), or null. */
    readonly audiencePattern: RegExp | null,
    readonly resourcePolicy: CompiledResourcePolicy | null,
  ) {}

  run(ctx: RequestContext): StepOutcome {
    const token = ctx.header(this.identityHeader)
    if (token === null || token === '') {
      sendGatewayResponse(ctx, 'UNAUTHORIZED')
      return StepOutcome.Answered
    }
    void this.#verify(ctx, token)
    return StepOutcome.Pending
  }

  async #verify(ctx: RequestContext, token: string): Promise<void> {
    let payload: JWTPayload
    try {
      const iss = decodeJwt(token).iss
      const pool = iss === undefined ? undefined : this.pools.get(iss)
      if (pool === undefined) {
        sendGatewayResponse(ctx, 'UNAUTHORIZED')
        return
      }
      payload = (await jwtVerify(token, pool.keys, { issuer: pool.issuer, algorithms: ALGORITHMS, requiredClaims: ['exp'] })).payload
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) sendGatewayResponse(ctx, 'UNAUTHORIZED', 'The incoming token has expired')
      else if (err instanceof joseErrors.JWKSTimeout || (err instanceof Error && !(err instanceof joseErrors.JOSEError))) {
        // The pool's keys could not be fetched: the gateway's fault, not the caller's.
        console.error(`[${ctx.requestId}] Cognito authorizer: cannot fetch the user pool's JWKS: ${(err as Error).message}`)
        sendGatewayResponse(ctx, 'AUTHORIZER_FAILURE')
      } else sendGatewayResponse(ctx, 'UNAUTHORIZED')
      return
    }
    if (!this.#accepts(payload)) {
      sendGatewayResponse(ctx, 'UNAUTHORIZED')
      return
    }
    const outcome: AuthorizerOutcome = { principalId: null, context: {}, claims: claimsOf(payload), usageIdentifierKey: null, integrationLatency: 0 }
    ctx.authorizer = outcome
    if (!combineWithResourcePolicy(ctx, this.resourcePolicy, AuthorizationKind.Cognito, 'ALLOW', null)) return
    resumeMethodRequest(ctx)
  }

  #accepts(payload: JWTPayload): boolean {
    const use = payload.token_use
    if (this.scopes.length === 0) {
      if (use !== 'id') return false
    } else {
      if (use !== 'access') return false
      const granted = typeof payload.scope === 'string' ? payload.scope.split(' ') : []
      if (!this.scopes.some((s) => granted.includes(s))) return false
    }
    if (this.audiencePattern !== null) {
      const aud = use === 'access' ? payload.client_id : payload.aud
      const value = Array.isArray(aud) ? aud[0] : aud
      if (typeof value !== 'string' || !this.audiencePattern.test(value)) return false
    }
    return true
  }
}

/** The header an identitySource names: method.request.header.X → x. */
function identityHeaderOf(scheme: Record<string, unknown>, authorizer: Record<string, unknown>, pointer: string, problems: string[]): string {
  const source = authorizer.identitySource
  if (source !== undefined) {
    const m = typeof source === 'string' ? /^method\.request\.header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(source.trim()) : null
    if (m === null) problems.push(`${pointer}/identitySource: a Cognito authorizer reads one header: method.request.header.{name}`)
    else return m[1]!.toLowerCase()
  }
  if (scheme.in === 'header' && typeof scheme.name === 'string' && scheme.name !== '') return scheme.name.toLowerCase()
  return DEFAULT_IDENTITY_HEADER.toLowerCase()
}

/** What compiling one method's Cognito authorizer needs. */
export interface CognitoCompileContext {
  readonly api: ApiSource
  readonly access: AccessSource
  readonly resourcePolicy: CompiledResourcePolicy | null
  readonly problems: ConfigProblem[]
}

/** The Cognito authorizer step of a method, or null when its definition is refused (problems recorded). */
export function compileCognitoStep(op: OperationSource, req: SecurityRequirementSource, scheme: Record<string, unknown>, schemePointer: string, cx: CognitoCompileContext): CognitoStep | null {
  const authorizer = scheme['x-amazon-apigateway-authorizer'] as Record<string, unknown>
  const at = pointerJoin(schemePointer, 'x-amazon-apigateway-authorizer')
  const reasons: string[] = []
  const arns = authorizer.providerARNs
  const byIssuer = new Map<string, CompiledUserPool>()
  if (!Array.isArray(arns) || arns.length === 0 || !arns.every((a) => typeof a === 'string')) {
    reasons.push(`${at}/providerARNs: a Cognito authorizer needs providerARNs, a list of user pool ARNs`)
  } else {
    arns.forEach((arn: string, i) => {
      const pool = cx.access.userPools[arn]
      if (pool === undefined) {
        reasons.push(`${pointerJoin(at, 'providerARNs', i)}: user pool ${arn} is not in the gateway config's userPools`)
        return
      }
      const compiled = compilePool(pool)
      if (typeof compiled === 'string') reasons.push(`${pointerJoin(at, 'providerARNs', i)}: ${compiled}`)
      else byIssuer.set(compiled.issuer, compiled)
    })
  }
  const header = identityHeaderOf(scheme, authorizer, at, reasons)
  let audiencePattern: RegExp | null = null
  const expr = authorizer.identityValidationExpression
  if (expr !== undefined) {
    try {
      if (typeof expr !== 'string') throw new Error('must be a string')
      audiencePattern = new RegExp(`^(?:${expr})$`)
    } catch (err) {
      reasons.push(`${at}/identityValidationExpression: ${(err as Error).message}`)
    }
  }
  if (reasons.length > 0) {
    for (const r of reasons) {
      const slash = r.indexOf(': ')
      cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer: r.slice(0, slash), message: `${r.slice(slash + 2)}; the method ${op.method} ${op.path} is refused rather than served open`, severity: 'error' })
    }
    return null
  }
  return new CognitoStep(header, byIssuer, Object.freeze([...req.scopes]), audiencePattern, cx.resourcePolicy)
}
