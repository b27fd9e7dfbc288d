// Access logs: a stage's accessLogSettings.format, compiled once into literal pieces and
// variable ids (STYLE §D.4), rendered per request by one loop over them. The variables
// are those of the guide's "Variables for access logging for API Gateway"; a value the
// gateway does not have (no authorizer ran, no WAF, no API key id) prints as API Gateway
// prints an absent value: "-".
import { Codes, type ConfigProblem } from '../errors.js'
import type { RequestContext } from '../pipeline/context.js'
import { formatRequestTime } from '../util/request-time.js'
import { domainPrefix } from '../util/domain-prefix.js'
import { authorizerValue } from '../method-request/authorization/authorizer-outcome.js'

/** The variables the gateway fills; every other documented one renders as "-". */
export const enum AccessVar {
  Absent,
  AccountId,
  ApiId,
  BasePathMatched,
  DomainName,
  DomainPrefix,
  ErrorMessage,
  ErrorMessageString,
  ErrorResponseType,
  ErrorValidationErrorString,
  ExtendedRequestId,
  HttpMethod,
  SourceIp,
  UserAgent,
  IntegrationError,
  IntegrationStatus,
  IntegrationLatency,
  IntegrationRequestId,
  Path,
  Protocol,
  RequestId,
  RequestTime,
  RequestTimeEpoch,
  ResourceId,
  ResourcePath,
  ResponseLatency,
  ResponseLength,
  Stage,
  Status,
  XrayTraceId,
  IsCanaryRequest,
  DeploymentId,
  /** $context.authorizer.{name}: principalId, a context key, claims.{name} (the name is in `args`). */
  Authorizer,
  AuthorizerLatency,
}

/** Documented $context variables for access logging → what renders them. */
const VARIABLES: Readonly<Record<string, AccessVar>> = {
  accountId: AccessVar.AccountId,
  apiId: AccessVar.ApiId,
  'authorize.error': AccessVar.Absent,
  'authorize.latency': AccessVar.Absent,
  'authorize.status': AccessVar.Absent,
  'authenticate.error': AccessVar.Absent,
  'authenticate.latency': AccessVar.Absent,
  'authenticate.status': AccessVar.Absent,
  'authorizer.error': AccessVar.Absent,
  'authorizer.integrationLatency': AccessVar.AuthorizerLatency,
  'authorizer.integrationStatus': AccessVar.Absent,
  'authorizer.latency': AccessVar.AuthorizerLatency,
  'authorizer.principalId': AccessVar.Authorizer,
  'authorizer.requestId': AccessVar.Absent,
  'authorizer.status': AccessVar.Absent,
  awsEndpointRequestId: AccessVar.Absent,
  'customDomain.basePathMatched': AccessVar.BasePathMatched,
  deploymentId: AccessVar.DeploymentId,
  domainName: AccessVar.DomainName,
  domainPrefix: AccessVar.DomainPrefix,
  endpointType: AccessVar.Absent,
  'error.message': AccessVar.ErrorMessage,
  'error.messageString': AccessVar.ErrorMessageString,
  'error.responseType': AccessVar.ErrorResponseType,
  'error.validationErrorString': AccessVar.ErrorValidationErrorString,
  extendedRequestId: AccessVar.ExtendedRequestId,
  httpMethod: AccessVar.HttpMethod,
  'identity.accountId': AccessVar.Absent,
  'identity.apiKeyId': AccessVar.Absent,
  'identity.caller': AccessVar.Absent,
  'identity.cognitoAuthenticationProvider': AccessVar.Absent,
  'identity.cognitoAuthenticationType': AccessVar.Absent,
  'identity.cognitoIdentityId': AccessVar.Absent,
  'identity.cognitoIdentityPoolId': AccessVar.Absent,
  'identity.principalOrgId': AccessVar.Absent,
  'identity.clientCert.clientCertPem': AccessVar.Absent,
  'identity.clientCert.subjectDN': AccessVar.Absent,
  'identity.clientCert.issuerDN': AccessVar.Absent,
  'identity.clientCert.serialNumber': AccessVar.Absent,
  'identity.clientCert.validity.notBefore': AccessVar.Absent,
  'identity.clientCert.validity.notAfter': AccessVar.Absent,
  'identity.sourceIp': AccessVar.SourceIp,
  'identity.user': AccessVar.Absent,
  'identity.userAgent': AccessVar.UserAgent,
  'identity.userArn': AccessVar.Absent,
  'identity.vpcId': AccessVar.Absent,
  'identity.vpceId': AccessVar.Absent,
  'integration.error': AccessVar.IntegrationError,
  'integration.integrationStatus': AccessVar.IntegrationStatus,
  'integration.latency': AccessVar.IntegrationLatency,
  'integration.requestId': AccessVar.IntegrationRequestId,
  'integration.status': AccessVar.IntegrationStatus,
  integrationLatency: AccessVar.IntegrationLatency,
  integrationStatus: AccessVar.IntegrationStatus,
  isCanaryRequest: AccessVar.IsCanaryRequest,
  path: AccessVar.Path,
  protocol: AccessVar.Protocol,
  requestId: AccessVar.RequestId,
  requestTime: AccessVar.RequestTime,
  requestTimeEpoch: AccessVar.RequestTimeEpoch,
  resourceId: AccessVar.ResourceId,
  resourcePath: AccessVar.ResourcePath,
  responseLatency: AccessVar.ResponseLatency,
  responseLength: AccessVar.ResponseLength,
  stage: AccessVar.Stage,
  status: AccessVar.Status,
  'waf.error': AccessVar.Absent,
  'waf.latency': AccessVar.Absent,
  'waf.status': AccessVar.Absent,
  wafResponseCode: AccessVar.Absent,
  webaclArn: AccessVar.Absent,
  xrayTraceId: AccessVar.XrayTraceId,
}

/** A format compiled: literals[i] precedes vars[i]; the last literal ends the line. */
export interface CompiledAccessLogFormat {
  readonly literals: readonly string[]
  /** The literals as UTF-8 bytes, encoded once: a line is copied together from them. */
  readonly literalBytes: readonly Uint8Array[]
  readonly vars: readonly AccessVar[]
  /** Per variable: the authorizer property it reads, else null. */
  readonly args: readonly (string | null)[]
}

const CONTEXT_VAR = /\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)/g

/**
 * Splits a format into literals and variables. Unknown variables are reported (warning:
 * they print "-"); a format naming neither $context.requestId nor $context.extendedRequestId
 * is an error, as API Gateway refuses it ("must include at least" one, set-up-logging).
 */
export function compileAccessLogFormat(format: string, file: string, pointer: string, problems: ConfigProblem[]): CompiledAccessLogFormat {
  const literals: string[] = []
  const vars: AccessVar[] = []
  const args: (string | null)[] = []
  let last = 0
  let hasId = false
  // One line per request: a format's own newlines (YAML block scalars) become spaces.
  const text = format.replace(/\r?\n$/, '').replace(/\r?\n/g, ' ')
  for (let m = CONTEXT_VAR.exec(text); m !== null; m = CONTEXT_VAR.exec(text)) {
    const name = m[1]!
    let id = VARIABLES[name]
    if (id === undefined && name.startsWith('authorizer.')) id = AccessVar.Authorizer
    if (id === undefined && (name.startsWith('requestOverride.') || name.startsWith('responseOverride.'))) id = AccessVar.Absent
    if (id === undefined) {
      problems.push({ code: Codes.ACCESS_LOG, file, pointer, message: `$context.${name} is not a variable for access logging; it prints "-"`, severity: 'warning' })
      id = AccessVar.Absent
    }
    if (id === AccessVar.RequestId || id === AccessVar.ExtendedRequestId) hasId = true
    literals.push(text.slice(last, m.index))
    vars.push(id)
    args.push(id === AccessVar.Authorizer ? name.slice('authorizer.'.length) : null)
    last = m.index + m[0].length
  }
  literals.push(text.slice(last))
  if (!hasId) problems.push({ code: Codes.ACCESS_LOG, file, pointer, message: 'the access log format must include at least $context.requestId or $context.extendedRequestId', severity: 'error' })
  const literalBytes = literals.map((l) => new Uint8Array(Buffer.from(l, 'utf8')))
  // The arrays read per request stay plain (not frozen): V8 left the loads from frozen ones to
  // its generic KeyedLoadIC in the render loop (perf, bench gateway-observed).
  return Object.freeze({ literals: Object.freeze(literals), literalBytes, vars, args })
}

const ABSENT = '-'

// $context.requestTime has a one-second resolution: formatted (and encoded) once per second, not per line.
let timeSecond = -1
let timeText = ''
let timeBytes = new Uint8Array(0)
function requestTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000)
  if (second !== timeSecond) {
    timeSecond = second
    timeText = formatRequestTime(epochMs)
    timeBytes = new Uint8Array(Buffer.from(timeText, 'latin1'))
  }
  return timeText
}

function orAbsent(v: string | null | undefined): string {
  return v === null || v === undefined || v === '' ? ABSENT : v
}

/** One variable's value for this request. */
export function accessVariable(id: AccessVar, arg: string | null, ctx: RequestContext, status: number, length: number, latency: number): string {
  const req = ctx.request
  switch (id) {
    case AccessVar.AccountId:
      return ctx.api!.accountId
    case AccessVar.ApiId:
      return ctx.api!.id
    case AccessVar.BasePathMatched:
      return orAbsent(ctx.api!.basePath)
    case AccessVar.DomainName:
      return orAbsent(ctx.header('host'))
    case AccessVar.DomainPrefix: {
      const host = ctx.header('host')
      return host === null ? ABSENT : orAbsent(domainPrefix(host))
    }
    case AccessVar.ErrorMessage:
      return orAbsent(ctx.errorMessage)
    case AccessVar.ErrorMessageString:
      return ctx.errorMessage === null ? ABSENT : JSON.stringify(ctx.errorMessage)
    case AccessVar.ErrorResponseType:
      return orAbsent(ctx.errorType)
    case AccessVar.ErrorValidationErrorString:
      return orAbsent(ctx.validationErrorString)
    case AccessVar.ExtendedRequestId:
      return ctx.extendedRequestId
    case AccessVar.HttpMethod:
      return req.method
    case AccessVar.SourceIp:
      return req.remoteAddress
    case AccessVar.UserAgent:
      return orAbsent(ctx.header('user-agent'))
    case AccessVar.IntegrationError:
      return orAbsent(ctx.integrationError)
    case AccessVar.IntegrationStatus:
      return ctx.integrationStatus === 0 ? ABSENT : String(ctx.integrationStatus)
    case AccessVar.IntegrationLatency:
      return ctx.integrationLatency < 0 ? ABSENT : String(ctx.integrationLatency)
    case AccessVar.IntegrationRequestId:
      return ABSENT
    case AccessVar.Path:
      return req.url
    case AccessVar.Protocol:
      return 'HTTP/1.1'
    case AccessVar.RequestId:
      return ctx.requestId
    case AccessVar.RequestTime:
      return requestTime(req.receivedAt)
    case AccessVar.RequestTimeEpoch:
      return String(req.receivedAt)
    case AccessVar.ResourceId:
      return ctx.method === null ? ABSENT : ctx.method.resourceId
    case AccessVar.ResourcePath:
      return ctx.method === null ? ABSENT : ctx.method.resourcePath
    case AccessVar.ResponseLatency:
      return String(latency)
    case AccessVar.ResponseLength:
      return String(length)
    case AccessVar.Stage:
      return ctx.stage!.name
    case AccessVar.Status:
      return String(status)
    case AccessVar.XrayTraceId:
      return ctx.trace === null ? ABSENT : ctx.trace.root
    case AccessVar.IsCanaryRequest:
      return ctx.stage!.isCanaryRequest === null ? ABSENT : ctx.stage!.isCanaryRequest ? 'true' : 'false'
    case AccessVar.DeploymentId:
      return ctx.api === null ? ABSENT : ctx.api.deploymentId
    case AccessVar.Authorizer:
      return ctx.authorizer === null ? ABSENT : orAbsent(authorizerValue(ctx.authorizer, arg!))
    case AccessVar.AuthorizerLatency:
      return ctx.authorizer === null ? ABSENT : String(ctx.authorizer.integrationLatency)
    default:
      return ABSENT
  }
}

// ---- rendering: a line is written as bytes straight into the log writer's chunk (no string
// per field, no copy per line); one that outgrows the chunk's room moves to this thread's own
// buffer, which the writer then copies from ----

/** This thread's own buffer, grown when a line needs more. */
let own: Buffer = Buffer.allocUnsafeSlow(4096)
/** Where the line being rendered goes: a writer's chunk, or `own`. */
let line: Buffer = own
/** The line is line[start, pos); nothing is written at or past limit. */
let start = 0
let pos = 0
let limit = own.length
const DASH = 0x2d

function ensure(n: number): void {
  if (pos + n <= limit) return
  const length = pos - start
  if (line !== own) {
    // The chunk's room is too small for this line: what is rendered so far moves to `own`.
    if (own.length < length + n) own = Buffer.allocUnsafeSlow(Math.max(own.length * 2, length + n))
    line.copy(own, 0, start, pos)
  } else {
    const bigger = Buffer.allocUnsafeSlow(Math.max(own.length * 2, length + n))
    own.copy(bigger, 0, 0, length)
    own = bigger
  }
  line = own
  start = 0
  pos = length
  limit = own.length
}

// Pieces up to SHORT bytes (most literals, methods, stage names) are copied a byte at a time;
// longer ones through the engine's native copy, whose call costs more than a short loop but
// which is 2–3× faster for 30–130 bytes (README "Monitoring", cost).
const SHORT = 16
// Strings up to SHORT_STRING chars (the 36-char request id, paths, addresses) are encoded by a
// loop while they stay ASCII: in the gateway, where the call into the native encoder comes cold
// after each reply's socket write, the loop saved 0.15 µs per CLF line (hrtime around the
// render, GET /test/mock, 4 December), though the native call wins in a micro bench.
const SHORT_STRING = 64

function putBytes(b: Uint8Array): void {
  const n = b.length
  ensure(n)
  if (n <= SHORT) {
    const l = line
    const p = pos
    for (let i = 0; i < n; i++) l[p + i] = b[i]!
  } else line.set(b, pos)
  pos += n
}

function putString(s: string): void {
  const n = s.length
  ensure(n * 3)
  if (n <= SHORT_STRING) {
    const l = line
    const p = pos
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      l[p + i] = c
    }
    // A char outside ASCII: the whole value goes through the UTF-8 encoder.
    pos = i === n ? p + n : p + l.write(s, p)
    return
  }
  pos += line.write(s, pos)
}

function putDash(): void {
  ensure(1)
  line[pos++] = DASH
}

/** A non-negative integer's decimal digits; anything else as String() prints it. */
function putInt(v: number): void {
  if (!(v >= 0 && v <= 0x7fffffff && (v | 0) === v)) {
    putString(String(v))
    return
  }
  let digits = 1
  for (let x = v; x >= 10; x = (x / 10) | 0) digits++
  ensure(digits)
  const l = line
  let p = pos + digits
  pos = p
  let x = v
  do {
    l[--p] = 0x30 + (x % 10)
    x = (x / 10) | 0
  } while (x !== 0)
}

function putOrDash(v: string | null): void {
  if (v === null || v === '') putDash()
  else putString(v)
}

/** Renders one variable into the line; the common ones without making a string. */
function putVariable(id: AccessVar, arg: string | null, ctx: RequestContext, status: number, length: number, latency: number): void {
  switch (id) {
    case AccessVar.Absent:
      return putDash()
    case AccessVar.RequestId:
      return putString(ctx.requestId)
    case AccessVar.ExtendedRequestId:
      return putString(ctx.extendedRequestId)
    case AccessVar.HttpMethod:
      return putString(ctx.request.method)
    case AccessVar.SourceIp:
      return putString(ctx.request.remoteAddress)
    case AccessVar.Path:
      return putString(ctx.request.url)
    case AccessVar.ResourcePath:
      return ctx.method === null ? putDash() : putString(ctx.method.resourcePath)
    case AccessVar.Stage:
      return putString(ctx.stage!.name)
    case AccessVar.Status:
      return putInt(status)
    case AccessVar.ResponseLength:
      return putInt(length)
    case AccessVar.ResponseLatency:
      return putInt(latency)
    case AccessVar.IntegrationLatency:
      return ctx.integrationLatency < 0 ? putDash() : putInt(ctx.integrationLatency)
    case AccessVar.IntegrationStatus:
      return ctx.integrationStatus === 0 ? putDash() : putInt(ctx.integrationStatus)
    case AccessVar.RequestTimeEpoch:
      return putInt(ctx.request.receivedAt)
    case AccessVar.RequestTime:
      requestTime(ctx.request.receivedAt)
      return putBytes(timeBytes)
    case AccessVar.UserAgent:
      return putOrDash(ctx.header('user-agent'))
    case AccessVar.ErrorMessage:
      return putOrDash(ctx.errorMessage)
    case AccessVar.ErrorResponseType:
      return putOrDash(ctx.errorType)
    case AccessVar.IntegrationError:
      return putOrDash(ctx.integrationError)
    default:
      return putString(accessVariable(id, arg, ctx, status, length, latency))
  }
}

/**
 * Renders one request's access log line at target[at, end) and returns its length in bytes.
 * Where it went is `renderedInPlace()`: in target, or, when it needed more room, in the buffer
 * `accessLogLine()` from offset 0 (valid until the next render).
 */
export function renderAccessLogLine(format: CompiledAccessLogFormat, ctx: RequestContext, status: number, length: number, latency: number, target: Buffer = own, at = 0, end = target.length): number {
  const lit = format.literalBytes
  const vars = format.vars
  const args = format.args
  line = target
  start = at
  pos = at
  limit = end
  putBytes(lit[0]!)
  for (let i = 0; i < vars.length; i++) {
    putVariable(vars[i]!, args[i]!, ctx, status, length, latency)
    putBytes(lit[i + 1]!)
  }
  return pos - start
}

/** Whether the last line rendered stayed where renderAccessLogLine was asked to put it. */
export function renderedInPlace(): boolean {
  return line !== own
}

/** The buffer a line that outgrew its target was finished in (from offset 0). */
export function accessLogLine(): Buffer {
  return own
}

/** The access log line of one request, as text (tests; the gateway writes the bytes). */
export function renderAccessLog(format: CompiledAccessLogFormat, ctx: RequestContext, status: number, length: number, latency: number): string {
  const n = renderAccessLogLine(format, ctx, status, length, latency)
  return own.toString('utf8', 0, n)
}
