// Lambda authorizers (TOKEN and REQUEST), compile step and run step.
//
// Compile: a security scheme with x-amazon-apigateway-authorizer (type token | request,
// authorizerUri, identitySource, identityValidationExpression, authorizerResultTtlInSeconds,
// authorizerCredentials) → a CompiledLambdaAuthorizer, or problems with file and pointer.
//
// Run (developer guide, "Use API Gateway Lambda authorizers"; each outcome through its
// gateway response type, so the API can customize it):
//   identity source missing or empty, or the token failing identityValidationExpression
//       → 401 UNAUTHORIZED, without calling the function
//   cached result for the identity sources' values (one cache for all workers, in the
//   function host) → its policy evaluated against this request's methodArn
//   else the function, in the function host (off the hot path):
//     error "Unauthorized" → 401 UNAUTHORIZED
//     another error, a timeout, a malformed result → 500 AUTHORIZER_CONFIGURATION_ERROR
//     result → policy: explicit Deny → 403 ACCESS_DENIED "… with an explicit deny";
//              no Allow → 403 ACCESS_DENIED; Allow → the next method request step
import { Codes, pointerJoin, type ConfigProblem } from '../../errors.js'
import type { AccessSource, ApiSource, OperationSource } from '../../config/model.js'
import { DEFAULT_INTEGRATION_TIMEOUT_MS } from '../../config/model.js'
import type { RequestContext } from '../../pipeline/context.js'
import { parseLambdaUri } from '../../functions/arn.js'
import type { InvokeOutcome } from '../../functions/protocol.js'
import type { FunctionClient } from '../../functions/client.js'
import { substituteStageVariables } from '../../integrations/compile.js'
import { functionClient, rawPathParameters } from '../../integrations/lambda.js'
import { sendGatewayResponse } from '../../method-response/gateway-responses.js'
import { isRecord } from '../../util/is-record.js'
import { StepOutcome, type MethodRequestStep } from '../step.js'
import { resumeMethodRequest } from '../run.js'
import { evaluatePolicy, methodArn } from './policy.js'
import { AUTHORIZER_EXPLICIT_DENY, AUTHORIZER_IMPLICIT_DENY, AuthorizationKind, checkResourcePolicyDeny, combineWithResourcePolicy, type CompiledResourcePolicy } from './resource-policy.js'
import { checkAuthorizerResult, type AuthorizerResult } from './lambda-authorizer-result.js'
import { buildRequestEvent, buildTokenEvent, encodeAuthorizerEvent } from './lambda-authorizer-event.js'
import { WarmTokens, authorizerCacheKey, authorizerDefinitionHash, cachedAuthorizerResult, type WarmToken } from './authorizer-cache.js'

/** API Gateway's default authorizerResultTtlInSeconds, and its maximum (API reference, "Authorizer"). */
export const DEFAULT_AUTHORIZER_TTL_SECONDS = 300
export const MAX_AUTHORIZER_TTL_SECONDS = 3600

/** API Gateway's texts for the two denials (with `Message` capitalized, as it sends them); answered by combineWithResourcePolicy. */
export const EXPLICIT_DENY_MESSAGE = AUTHORIZER_EXPLICIT_DENY
export const IMPLICIT_DENY_MESSAGE = AUTHORIZER_IMPLICIT_DENY

const encoder = new TextEncoder()
/** The bodies API Gateway sends for these outcomes when the API does not customize them. */
const failureBody = (): Uint8Array => encoder.encode('{"message": null}')

export type AuthorizerType = 'TOKEN' | 'REQUEST'

/** Where an identity source's value comes from. */
export type IdentitySourceKind = 'header' | 'querystring' | 'stageVariable' | 'context'

export interface IdentitySource {
  readonly kind: IdentitySourceKind
  /** Header name (lower-case), query parameter, stage variable or context variable name. */
  readonly name: string
}

/** Context variables a REQUEST authorizer may name as identity sources. */
const CONTEXT_SOURCES = new Set(['requestId', 'extendedRequestId', 'stage', 'httpMethod', 'resourcePath', 'resourceId', 'apiId', 'accountId', 'path', 'protocol', 'identity.sourceIp', 'identity.userAgent', 'domainName'])

/** The keys of x-amazon-apigateway-authorizer a Lambda authorizer reads. */
const AUTHORIZER_KEYS = new Set(['type', 'authorizerUri', 'identitySource', 'identityValidationExpression', 'authorizerResultTtlInSeconds', 'authorizerCredentials'])

export interface CompiledLambdaAuthorizer {
  /** The security scheme's name (log lines, the cache key). */
  readonly name: string
  readonly type: AuthorizerType
  /** The function to invoke, `name` or `name:qualifier`; null when configurationError is set. */
  readonly functionName: string | null
  /** Set when the URI cannot be used in this stage (a missing stage variable): requests get 500. */
  readonly configurationError: string | null
  /** TOKEN: one header; REQUEST: every source, all required. */
  readonly identitySources: readonly IdentitySource[]
  /** TOKEN only: the token must match it whole, else 401 without a call. */
  readonly validation: RegExp | null
  /** authorizerResultTtlInSeconds in ms; 0 disables the cache. */
  readonly ttlMs: number
}

/**
 * True for a scheme this file compiles: an authorizer of type token / request, or authtype
 * custom without a type (refused here as malformed). Other types (cognito_user_pools…) are
 * other kinds' — or refused by compileAuthorization.
 */
export function isLambdaAuthorizerScheme(scheme: unknown): boolean {
  if (!isRecord(scheme)) return false
  const auth = scheme['x-amazon-apigateway-authorizer']
  const authtype = scheme['x-amazon-apigateway-authtype']
  const custom = typeof authtype === 'string' && authtype.toLowerCase() === 'custom'
  if (!isRecord(auth) || typeof auth.type !== 'string') return custom
  const type = auth.type.toLowerCase()
  return (type === 'token' || type === 'request') && (authtype === undefined || custom)
}

function parseIdentitySource(expr: string): IdentitySource | string {
  let m = /^method\.request\.header\.([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(expr)
  if (m !== null) return { kind: 'header', name: m[1]!.toLowerCase() }
  m = /^method\.request\.querystring\.(.+)$/.exec(expr)
  if (m !== null) return { kind: 'querystring', name: m[1]! }
  m = /^stageVariables\.([A-Za-z0-9_]+)$/.exec(expr)
  if (m !== null) return { kind: 'stageVariable', name: m[1]! }
  m = /^context\.(.+)$/.exec(expr)
  if (m !== null) return CONTEXT_SOURCES.has(m[1]!) ? { kind: 'context', name: m[1]! } : `context variable ${m[1]} cannot be an identity source here (supported: ${[...CONTEXT_SOURCES].join(', ')})`
  if (expr.startsWith('method.request.path.')) return 'path parameters cannot be identity sources'
  return `"${expr}" is not an identity source (method.request.header.*, method.request.querystring.*, stageVariables.*, context.*)`
}

/** What compiling an authorizer needs besides the scheme. */
export interface LambdaAuthorizerContext {
  readonly api: ApiSource
  readonly stage: string
  readonly access: AccessSource
  readonly problems: ConfigProblem[]
}

/**
 * Compiles the Lambda authorizer of scheme `name` (at `pointer`) for one stage. Returns
 * null after pushing an error problem when the definition is malformed.
 */
export function compileLambdaAuthorizer(name: string, scheme: Record<string, unknown>, pointer: string, op: OperationSource, cx: LambdaAuthorizerContext): CompiledLambdaAuthorizer | null {
  const before = cx.problems.length
  const authPtr = pointerJoin(pointer, 'x-amazon-apigateway-authorizer')
  const problem = (at: string, message: string, severity: 'error' | 'warning' = 'error') =>
    cx.problems.push({ code: Codes.AUTHORIZATION, file: cx.api.file, pointer: at, message: severity === 'error' ? `${message}; the method ${op.method} ${op.path} is refused rather than served open` : message, severity })
  const raw = scheme['x-amazon-apigateway-authorizer']
  if (!isRecord(raw)) {
    problem(pointer, 'x-amazon-apigateway-authtype custom needs an x-amazon-apigateway-authorizer object')
    return null
  }
  for (const k of Object.keys(raw)) if (!AUTHORIZER_KEYS.has(k)) problem(pointerJoin(authPtr, k), `unknown property of a Lambda authorizer, ignored`, 'warning')

  const typeRaw = raw.type
  const type: AuthorizerType | null = typeof typeRaw === 'string' && /^(token|request)$/i.test(typeRaw) ? (typeRaw.toUpperCase() as AuthorizerType) : null
  if (type === null) problem(pointerJoin(authPtr, 'type'), `type must be "token" or "request" for a Lambda authorizer, got ${JSON.stringify(typeRaw)}`)

  let functionName: string | null = null
  let configurationError: string | null = null
  const uri = raw.authorizerUri
  if (typeof uri !== 'string' || uri === '') problem(pointerJoin(authPtr, 'authorizerUri'), 'authorizerUri is required: the Lambda function invocation URI (arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations)')
  else {
    const vars = cx.api.stages.find((s) => s.name === cx.stage)?.variables ?? {}
    const missing: string[] = []
    const text = substituteStageVariables(uri, vars, missing)
    // A method's problems are reported from the first stage only: it warns for every stage.
    if (cx.api.stages[0]?.name === cx.stage) {
      for (const stage of cx.api.stages) {
        const absent: string[] = []
        substituteStageVariables(uri, stage.variables, absent)
        if (absent.length > 0) problem(pointerJoin(authPtr, 'authorizerUri'), `stage ${stage.name}: Invalid stage variable value: stage variable(s) ${absent.join(', ')} not defined; requests to this method get 500`, 'warning')
      }
    }
    if (missing.length > 0) {
      configurationError = `Invalid stage variable value: stage variable(s) ${missing.join(', ')} not defined`
    } else {
      const target = parseLambdaUri(text)
      if (target === null || target.responseStreaming) problem(pointerJoin(authPtr, 'authorizerUri'), `authorizerUri must be a Lambda function invocation URI, got ${JSON.stringify(text)}`)
      else functionName = target.qualifier === null ? target.functionName : `${target.functionName}:${target.qualifier}`
    }
  }

  let ttlSeconds = DEFAULT_AUTHORIZER_TTL_SECONDS
  const ttl = raw.authorizerResultTtlInSeconds
  if (ttl !== undefined) {
    if (typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 && ttl <= MAX_AUTHORIZER_TTL_SECONDS) ttlSeconds = ttl
    else problem(pointerJoin(authPtr, 'authorizerResultTtlInSeconds'), `authorizerResultTtlInSeconds must be an integer from 0 to ${MAX_AUTHORIZER_TTL_SECONDS}`)
  }

  const identitySources: IdentitySource[] = []
  const src = raw.identitySource
  const srcPtr = pointerJoin(authPtr, 'identitySource')
  if (src !== undefined && typeof src !== 'string') problem(srcPtr, 'identitySource must be a string')
  if (type === 'TOKEN') {
    // The import's default: the header the apiKey scheme names.
    const expr = typeof src === 'string' ? src.trim() : scheme.in === 'header' && typeof scheme.name === 'string' ? `method.request.header.${scheme.name}` : null
    const parsed = expr === null ? 'a TOKEN authorizer needs identitySource method.request.header.{name} (or the scheme\'s "in: header" and "name")' : parseIdentitySource(expr)
    if (typeof parsed === 'string') problem(srcPtr, parsed)
    else if (parsed.kind !== 'header') problem(srcPtr, 'a TOKEN authorizer takes its token from a header: method.request.header.{name}')
    else identitySources.push(parsed)
  } else if (type === 'REQUEST') {
    const list = typeof src === 'string' && src.trim() !== '' ? src.split(',').map((s) => s.trim()) : []
    for (const expr of list) {
      const parsed = parseIdentitySource(expr)
      if (typeof parsed === 'string') problem(srcPtr, parsed)
      else identitySources.push(parsed)
    }
    if (list.length === 0 && ttlSeconds > 0) problem(srcPtr, 'a REQUEST authorizer with caching (authorizerResultTtlInSeconds > 0) needs identitySource: its values are the cache key')
  }

  let validation: RegExp | null = null
  const vex = raw.identityValidationExpression
  if (vex !== undefined && vex !== null) {
    const at = pointerJoin(authPtr, 'identityValidationExpression')
    if (typeof vex !== 'string') problem(at, 'identityValidationExpression must be a regular expression')
    else if (type === 'REQUEST') problem(at, 'identityValidationExpression applies to TOKEN authorizers only; API Gateway ignores it for REQUEST authorizers', 'warning')
    else if (vex !== '') {
      try {
        // The token must match the expression whole (Java's String.matches).
        validation = new RegExp(`^(?:${vex})$`, 's')
      } catch (err) {
        problem(at, `identityValidationExpression is not a regular expression: ${(err as Error).message}`)
      }
    }
  }

  const creds = raw.authorizerCredentials
  // The role API Gateway would assume to invoke the function: the function host invokes it
  // directly, which is what the role grants.
  if (creds !== undefined && creds !== null && typeof creds !== 'string') problem(pointerJoin(authPtr, 'authorizerCredentials'), 'authorizerCredentials must be an IAM role ARN')

  if (cx.problems.slice(before).some((p) => p.severity === 'error') || type === null) return null
  return Object.freeze({
    name,
    type,
    functionName,
    configurationError,
    identitySources: Object.freeze(identitySources),
    validation,
    ttlMs: ttlSeconds * 1000,
  })
}

/** The value of a context identity source. */
function contextValue(ctx: RequestContext, name: string, accountId: string): string | null {
  switch (name) {
    case 'requestId': return ctx.requestId
    case 'extendedRequestId': return ctx.extendedRequestId
    case 'stage': return ctx.stage!.name
    case 'httpMethod': return ctx.request.method
    case 'resourcePath': return ctx.method!.resourcePath
    case 'resourceId': return ctx.method!.resourceId
    case 'apiId': return ctx.api!.id
    case 'accountId': return accountId
    case 'path': return ctx.request.url
    case 'protocol': return 'HTTP/1.1'
    case 'identity.sourceIp': return ctx.request.remoteAddress
    case 'identity.userAgent': return ctx.header('user-agent')
    case 'domainName': return ctx.header('host')
    default: return null
  }
}

/** The identity sources' values, in order; null when one is missing, null or empty (→ 401). */
export function identityValues(ctx: RequestContext, sources: readonly IdentitySource[], accountId: string): string[] | null {
  const out: string[] = []
  for (const s of sources) {
    let v: string | null
    switch (s.kind) {
      case 'header': v = ctx.header(s.name); break
      case 'querystring': {
        const values = ctx.queryParameters().get(s.name)
        v = values === undefined ? null : values[values.length - 1]!
        break
      }
      case 'stageVariable': v = ctx.stage!.variables[s.name] ?? null; break
      case 'context': v = contextValue(ctx, s.name, accountId); break
    }
    if (v === null || v === '') return null
    out.push(v)
  }
  return out
}

/** The method request step of a Lambda authorizer, one per method and stage (its warm-token memo one per authorizer and stage). */
export class LambdaAuthorizerStep implements MethodRequestStep {
  readonly name = 'authorization'
  /** API, stage and authorizer: the part of the cache key that is the same for every request. */
  readonly #cachePrefix: string
  /** TOKEN with caching: the tokens whose cached result this worker has read (authorizer-cache.ts); else null. */
  readonly #warm: WarmTokens | null
  /** The header a TOKEN authorizer reads, or null. */
  readonly #tokenHeader: string | null

  constructor(
    readonly authorizer: CompiledLambdaAuthorizer,
    readonly region: string,
    readonly accountId: string,
    apiId: string,
    stage: string,
    /** The API's resource policy: its explicit Denies apply before the authorizer runs, then Table A (resource-policy.ts). */
    readonly resourcePolicy: CompiledResourcePolicy | null = null,
    /**
     * The stage's warm-token memos by cache prefix, shared by every method of the stage that
     * uses this authorizer (one memo, not one per method: its bound is then per authorizer);
     * null: this step keeps its own.
     */
    sharedWarmTokens: Map<string, WarmTokens> | null = null,
  ) {
    // The definition's hash too: a changed authorizer never meets entries (in Redis, of other processes) of the old one.
    this.#cachePrefix = JSON.stringify([apiId, stage, authorizer.name, authorizer.functionName, authorizerDefinitionHash(authorizer)]) + '\n'
    this.#tokenHeader = authorizer.type === 'TOKEN' ? authorizer.identitySources[0]!.name : null
    // A step is compiled per configuration version: a reload starts with no warm tokens.
    // Methods sharing the memo share the prefix (API, stage, authorizer and its definition),
    // hence the key and the result; decisions are kept per method and path.
    let warm: WarmTokens | null = null
    if (this.#tokenHeader !== null && authorizer.ttlMs > 0 && authorizer.functionName !== null) {
      warm = sharedWarmTokens?.get(this.#cachePrefix) ?? new WarmTokens()
      sharedWarmTokens?.set(this.#cachePrefix, warm)
    }
    this.#warm = warm
  }

  /** The warm-token memo this step uses (shared with the stage's other methods of this authorizer), or null. */
  get warmTokens(): WarmTokens | null {
    return this.#warm
  }

  run(ctx: RequestContext): StepOutcome {
    // "Before calling the Lambda authorizer, API Gateway first evaluates the policy and checks
    // for any explicit denials" (developer guide, resource policies and authorization workflow).
    if (!checkResourcePolicyDeny(ctx, this.resourcePolicy)) return StepOutcome.Answered
    const a = this.authorizer
    if (this.#warm !== null) {
      // A token seen before (it passed identityValidationExpression then): its key, result
      // and outcome are at hand while the client's mirror holds the same entry (TTL, reloads
      // and evictions are the mirror's to tell).
      const token = ctx.header(this.#tokenHeader!)
      const w = token === null ? undefined : this.#warm.get(token)
      const client = w === undefined ? null : functionClient()
      if (client !== null) {
        const now = Date.now()
        const m = client.mirroredAuthorizerResult(w!.key, now)
        if (m !== null && (m === w!.mirrored || w!.adopt(m))) {
          ctx.authorizerStart = now
          ctx.authorizerLatency = 0
          return this.#allowsWarm(ctx, w!) ? StepOutcome.Continue : StepOutcome.Answered
        }
      }
    }
    const values = identityValues(ctx, a.identitySources, this.accountId)
    if (values === null || (a.validation !== null && !a.validation.test(values[0]!))) {
      sendGatewayResponse(ctx, 'UNAUTHORIZED')
      return StepOutcome.Answered
    }
    const client = functionClient()
    if (a.functionName === null || client === null) {
      const why = a.functionName === null ? a.configurationError ?? 'the authorizer names no function' : 'no functions are configured (the gateway config\'s functions: section)'
      console.error(`[${ctx.requestId}] Execution failed due to configuration error: authorizer ${a.name}: ${why}`)
      this.#fail(ctx)
      return StepOutcome.Answered
    }
    const arn = methodArn(this.region, this.accountId, ctx.api!.id, ctx.stage!.name, ctx.request.method, ctx.path)
    // The authorizer span and $context.authorizer.latency: from here to its decision.
    ctx.authorizerStart = Date.now()
    if (a.ttlMs > 0) {
      const key = authorizerCacheKey(this.#cachePrefix, values)
      const mirrored = client.mirroredAuthorizerResult(key, ctx.authorizerStart)
      if (mirrored !== null) {
        // An entry of the shared cache this worker has read, alive there still: no hop.
        if (this.#warm !== null) {
          // First hit of this token in this step: from now on it takes the path above.
          const w = this.#warm.take(values[0]!, key)
          if (w.adopt(mirrored)) {
            ctx.authorizerLatency = 0
            return this.#allowsWarm(ctx, w) ? StepOutcome.Continue : StepOutcome.Answered
          }
        }
        const result = cachedAuthorizerResult(mirrored.cacheEntry, mirrored.payload)
        if (result.kind === 'result') {
          ctx.authorizerLatency = 0
          return this.#allows(ctx, result, arn, 0) ? StepOutcome.Continue : StepOutcome.Answered
        }
      }
      client.lookupAuthorizerResult(key).then((outcome) => this.#afterLookup(ctx, client, outcome, key, values, arn))
    } else {
      this.#invoke(ctx, client, null, values, arn)
    }
    return StepOutcome.Pending
  }

  #afterLookup(ctx: RequestContext, client: FunctionClient, outcome: InvokeOutcome, key: string, values: string[], arn: string): void {
    if (ctx.done) return
    if (outcome.kind === 'ok' && outcome.cacheEntry !== undefined) {
      const result = cachedAuthorizerResult(outcome.cacheEntry, outcome.payload)
      if (result.kind === 'result') {
        ctx.authorizerLatency = Date.now() - ctx.authorizerStart
        return this.#decide(ctx, result, arn, 0)
      }
    }
    this.#invoke(ctx, client, key, values, arn)
  }

  #invoke(ctx: RequestContext, client: FunctionClient, key: string | null, values: string[], arn: string): void {
    const a = this.authorizer
    const event = a.type === 'TOKEN' ? buildTokenEvent(values[0]!, arn) : buildRequestEvent(requestEventInput(ctx, this.accountId), arn)
    const started = performance.now()
    client.invoke(a.functionName!, encodeAuthorizerEvent(event), { timeoutMs: DEFAULT_INTEGRATION_TIMEOUT_MS, requestId: ctx.requestId })
      .then((outcome) => this.#afterInvoke(ctx, client, outcome, key, arn, started))
  }

  #afterInvoke(ctx: RequestContext, client: FunctionClient, outcome: InvokeOutcome, key: string | null, arn: string, started: number): void {
    if (ctx.done) return
    ctx.authorizerLatency = Date.now() - ctx.authorizerStart
    const a = this.authorizer
    switch (outcome.kind) {
      case 'ok': {
        const result = checkAuthorizerResult(outcome.payload)
        if (result.kind === 'malformed') {
          console.error(`[${ctx.requestId}] Execution failed due to configuration error: authorizer ${a.name}: invalid authorizer response: ${result.reason}`)
          return this.#fail(ctx)
        }
        if (key !== null) client.storeAuthorizerResult(key, outcome.payload, a.ttlMs)
        return this.#decide(ctx, result, arn, Math.round(performance.now() - started))
      }
      case 'function-error':
        // The one error text API Gateway reads: "Unauthorized" is a 401, any other a 500.
        if (outcome.errorMessage === 'Unauthorized') return sendGatewayResponse(ctx, 'UNAUTHORIZED')
        console.error(`[${ctx.requestId}] Execution failed due to configuration error: authorizer ${a.name} failed: ${outcome.errorType}`)
        return this.#fail(ctx)
      case 'timeout':
        console.error(`[${ctx.requestId}] Execution failed due to configuration error: authorizer ${a.name} timed out after ${outcome.afterMs} ms`)
        return this.#fail(ctx)
      case 'crash':
        console.error(`[${ctx.requestId}] Execution failed due to configuration error: authorizer ${a.name} failed: ${outcome.reason}`)
        return this.#fail(ctx)
      case 'not-found':
        console.error(`[${ctx.requestId}] Execution failed due to configuration error: authorizer ${a.name}: function ${a.functionName} is not in the functions config`)
        return this.#fail(ctx)
      case 'too-large':
        console.error(`[${ctx.requestId}] Execution failed due to configuration error: authorizer ${a.name}: its answer is larger than 10485760 bytes`)
        return this.#fail(ctx)
    }
  }

  /** The policy against this request's methodArn, then the resource policy (seam), then the answer. */
  #decide(ctx: RequestContext, result: AuthorizerResult, arn: string, latency: number): void {
    if (this.#allows(ctx, result, arn, latency)) resumeMethodRequest(ctx)
  }

  /** #decide's work, for a synchronous caller too: true when the request goes on (else it has been answered). */
  #allows(ctx: RequestContext, result: AuthorizerResult, arn: string, latency: number): boolean {
    const decision = evaluatePolicy(result.policy, { action: 'execute-api:Invoke', resource: arn, principalArn: null, conditionKeys: { 'aws:sourceip': ctx.request.remoteAddress } })
    // Set before any answer: gateway responses may use $context.authorizer.* too.
    ctx.authorizer = { principalId: result.principalId, context: result.context, claims: null, usageIdentifierKey: result.usageIdentifierKey, integrationLatency: latency }
    // Table A with the resource policy; the denials (the authorizer's and the policy's) are answered there.
    return combineWithResourcePolicy(ctx, this.resourcePolicy, AuthorizationKind.LambdaAuthorizer, decision, null, arn)
  }

  /**
   * #allows for a warm token: the decision memoised by method and resource path when the
   * policy has no Condition (no ARN built, no regex run), the outcome object shared by
   * every hit; the resource policy, when there is one, still sees this request's ARN.
   */
  #allowsWarm(ctx: RequestContext, w: WarmToken): boolean {
    const method = ctx.request.method
    const path = ctx.path
    let arn: string | null = null
    let decision = w.memoizable ? w.decision(method, path) : undefined
    if (decision === undefined) {
      arn = methodArn(this.region, this.accountId, ctx.api!.id, ctx.stage!.name, method, path)
      decision = evaluatePolicy(w.result!.policy, { action: 'execute-api:Invoke', resource: arn, principalArn: null, conditionKeys: { 'aws:sourceip': ctx.request.remoteAddress } })
      if (w.memoizable) w.remember(method, path, decision)
    }
    // Set before any answer: gateway responses may use $context.authorizer.* too.
    ctx.authorizer = w.outcome
    if (arn === null && this.resourcePolicy !== null) arn = methodArn(this.region, this.accountId, ctx.api!.id, ctx.stage!.name, method, path)
    return combineWithResourcePolicy(ctx, this.resourcePolicy, AuthorizationKind.LambdaAuthorizer, decision, null, arn)
  }

  /** 500 AUTHORIZER_CONFIGURATION_ERROR, `{"message": null}` as API Gateway sends it. */
  #fail(ctx: RequestContext): void {
    sendGatewayResponse(ctx, 'AUTHORIZER_CONFIGURATION_ERROR', null, null, null, failureBody())
  }
}

/** What the REQUEST event is built from: the request as the Lambda proxy event sees it. */
function requestEventInput(ctx: RequestContext, accountId: string): Parameters<typeof buildRequestEvent>[0] {
  const req = ctx.request
  const stage = ctx.stage!
  const method = ctx.method!
  // As in the proxy event: path parameters keep the request path's own (percent-encoded) text.
  const pathParameters = rawPathParameters(method.resourcePath, ctx.path)
  return {
    method: req.method,
    path: ctx.path,
    requestPath: req.url,
    query: req.query,
    headers: req.headers,
    body: null,
    isBinary: false,
    resourcePath: method.resourcePath,
    resourceId: method.resourceId,
    pathParameters,
    stage: stage.name,
    stageVariables: Object.keys(stage.variables).length === 0 ? null : stage.variables,
    deploymentId: ctx.api!.deploymentId,
    requestId: ctx.requestId,
    extendedRequestId: ctx.extendedRequestId,
    accountId,
    apiId: ctx.api!.id,
    domainName: ctx.header('host') ?? '',
    sourceIp: req.remoteAddress,
    requestTimeEpoch: req.receivedAt,
    protocol: 'HTTP/1.1',
    authorizer: null,
    identity: null,
  }
}
