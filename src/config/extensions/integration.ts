// x-amazon-apigateway-integration → IntegrationSource.
import { Codes, pointerJoin, type ConfigProblem } from '../../errors.js'
import { isRecord } from '../../util/is-record.js'
import { readStringMap } from '../string-map.js'
import { warnUnknownKeys } from '../unknown-keys.js'
import {
  DEFAULT_INTEGRATION_TIMEOUT_MS,
  MIN_INTEGRATION_TIMEOUT_MS,
  MAX_DEFAULT_INTEGRATION_TIMEOUT_MS,
  MAX_INTEGRATION_TIMEOUT_MS,
  type ContentHandling,
  type IntegrationResponseSource,
  type IntegrationSource,
  type IntegrationType,
  type PassthroughBehavior,
} from '../model.js'

const TYPES: readonly IntegrationType[] = ['MOCK', 'HTTP', 'HTTP_PROXY', 'AWS', 'AWS_PROXY']
const PASSTHROUGH: readonly PassthroughBehavior[] = ['WHEN_NO_MATCH', 'WHEN_NO_TEMPLATES', 'NEVER']
const HANDLING: readonly ContentHandling[] = ['CONVERT_TO_TEXT', 'CONVERT_TO_BINARY']
/** The keys API Gateway documents for x-amazon-apigateway-integration (REST APIs); others are warned of. */
const INTEGRATION_KEYS = ['type', 'uri', 'httpMethod', 'credentials', 'requestParameters', 'requestTemplates', 'passthroughBehavior', 'contentHandling', 'timeoutInMillis', 'cacheNamespace', 'cacheKeyParameters', 'responses', 'connectionType', 'connectionId', 'tlsConfig', 'integrationSubtype', 'payloadFormatVersion']
/** The keys of one x-amazon-apigateway-integration.responses entry. */
const RESPONSE_KEYS = ['statusCode', 'responseParameters', 'responseTemplates', 'contentHandling']
const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'ANY'])

/** Where a requestParameters value may come from (API Gateway's mapping sources). */
const REQUEST_PARAM_TARGET = /^integration\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.[^.]+$/
const REQUEST_PARAM_SOURCE = /^(method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.[^.]+|method\.request\.body(\..+)?|context\..+|stageVariables\..+|'[^']*')$/
/**
 * The $context variables a parameter mapping may read (the guide's "$context Variables for
 * data models, authorizers, mapping templates, and access logging"), as far as this gateway
 * fills them. authorizer.* is whatever the authorizer returned.
 */
export const CONTEXT_MAPPING_SOURCES: ReadonlySet<string> = new Set([
  'accountId', 'apiId', 'deploymentId', 'domainName', 'domainPrefix', 'extendedRequestId', 'httpMethod',
  'identity.accountId', 'identity.apiKey', 'identity.apiKeyId', 'identity.caller', 'identity.cognitoAuthenticationProvider',
  'identity.cognitoAuthenticationType', 'identity.cognitoIdentityId', 'identity.cognitoIdentityPoolId', 'identity.principalOrgId',
  'identity.sourceIp', 'identity.user', 'identity.userAgent', 'identity.userArn', 'identity.accessKey',
  'path', 'protocol', 'requestId', 'requestTime', 'requestTimeEpoch', 'resourceId', 'resourcePath', 'stage',
  // Set on stages with canarySettings (canary/), absent elsewhere, as the guide says.
  'isCanaryRequest',
])
/** Documented variables this gateway has no value for: refused rather than mapped to nothing. */
const CONTEXT_UNFILLED = /^(wafResponseCode|webaclArn|awsEndpointRequestId|awsEndpointRequestId2|xrayTraceId|customDomain\..*|identity\.clientCert\..*|identity\.vpcId|identity\.vpceId|integration\..*|error\..*|authenticate\..*|authorize\..*|status|responseLatency|responseLength|integrationLatency|integrationStatus)$/

/** Why a context.* mapping source cannot be used, or null when it can. */
export function contextSourceProblem(name: string): string | null {
  if (CONTEXT_MAPPING_SOURCES.has(name) || /^authorizer\.[^.]+(\.[^.]+)*$/.test(name)) return null
  if (CONTEXT_UNFILLED.test(name)) return `$context.${name} has no value when the integration request is mapped here (no WAF, X-Ray, client certificates, private endpoints or endpoint request ids; error, integration and latency variables come later): the mapping would always be empty`
  return `$context.${name} is not a context variable API Gateway documents for REST APIs`
}

/** The mapping source's problem (mapping expressions and context variables), or null. */
function sourceProblem(v: string, allowed: RegExp): string | null {
  if (!allowed.test(v)) return `invalid mapping expression specified: ${v}`
  if (v.startsWith('context.')) return contextSourceProblem(v.slice('context.'.length))
  if (v.startsWith('method.request.body.') && !BODY_JSONPATH.test(v.slice('method.request.body.'.length))) {
    return `${v}: only names and indices are supported in a body JSONPath ($.a.b[0])`
  }
  return null
}
/** A JSONPath of names and indices, as the integration request resolves it. */
const BODY_JSONPATH = /^(\$|[A-Za-z0-9_$@-]+)(\.[A-Za-z0-9_$@-]+|\[\d+\]|\[['"][^'"]*['"]\])*$/

const RESPONSE_PARAM_TARGET = /^method\.response\.header\.[^.]+$/
const RESPONSE_PARAM_SOURCE = /^(integration\.response\.(header|multivalueheader)\.[^.]+|integration\.response\.body(\..+)?|context\..+|stageVariables\..+|'[^']*')$/

export interface ExtensionContext {
  readonly file: string
  readonly problems: ConfigProblem[]
}


function error(ctx: ExtensionContext, code: string, pointer: string, message: string): void {
  ctx.problems.push({ code, file: ctx.file, pointer, message, severity: 'error' })
}

function warning(ctx: ExtensionContext, pointer: string, message: string): void {
  ctx.problems.push({ code: Codes.INTEGRATION, file: ctx.file, pointer, message, severity: 'warning' })
}

/** A map of strings under this integration, problems coded BP_ERR_CONFIG_INTEGRATION. */
function integrationStrings(ctx: ExtensionContext, v: unknown, pointer: string, check?: (k: string, val: string, ptr: string) => void): Record<string, string> {
  return readStringMap(ctx.problems, ctx.file, Codes.INTEGRATION, v, pointer, check === undefined ? {} : { check })
}

function readEnum<T extends string>(ctx: ExtensionContext, v: unknown, allowed: readonly T[], pointer: string): T | null {
  if (v === undefined || v === null) return null
  const up = typeof v === 'string' ? v.toUpperCase() : ''
  if ((allowed as readonly string[]).includes(up)) return up as T
  error(ctx, Codes.INTEGRATION, pointer, `must be one of ${allowed.join(', ')}`)
  return null
}

/** Validates selection patterns as regular expressions at load, not per request. */
function checkPattern(ctx: ExtensionContext, pattern: string, pointer: string): void {
  if (pattern === 'default') return
  try {
    new RegExp(`^(?:${pattern})$`, 's')
  } catch (err) {
    error(ctx, Codes.INTEGRATION, pointer, `selectionPattern is not a valid regular expression: ${(err as Error).message}`)
  }
}

export function normalizeIntegration(ctx: ExtensionContext, raw: unknown, pointer: string): IntegrationSource | null {
  if (!isRecord(raw)) {
    error(ctx, Codes.INTEGRATION, pointer, 'x-amazon-apigateway-integration must be an object')
    return null
  }
  warnUnknownKeys(raw, INTEGRATION_KEYS, ctx.file, pointer, ctx.problems)
  const typeRaw = typeof raw.type === 'string' ? raw.type.toUpperCase() : ''
  if (!(TYPES as readonly string[]).includes(typeRaw)) {
    error(ctx, Codes.UNKNOWN_INTEGRATION_TYPE, pointerJoin(pointer, 'type'), `unknown integration type ${JSON.stringify(raw.type)}: expected one of mock, http, http_proxy, aws, aws_proxy`)
    return null
  }
  const type = typeRaw as IntegrationType
  let httpMethod: string | null = null
  let uri: string | null = null
  if (type !== 'MOCK') {
    if (typeof raw.httpMethod !== 'string' || !HTTP_METHODS.has(raw.httpMethod.toUpperCase())) {
      error(ctx, Codes.INTEGRATION, pointerJoin(pointer, 'httpMethod'), `httpMethod is required for ${type.toLowerCase()} integrations (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY)`)
    } else httpMethod = raw.httpMethod.toUpperCase()
    if (typeof raw.uri !== 'string' || raw.uri === '') {
      error(ctx, Codes.INTEGRATION, pointerJoin(pointer, 'uri'), `uri is required for ${type.toLowerCase()} integrations`)
    } else {
      uri = raw.uri
      if ((type === 'HTTP' || type === 'HTTP_PROXY') && !/^(https?:\/\/|\$\{stageVariables\.)/.test(uri)) {
        error(ctx, Codes.INTEGRATION, pointerJoin(pointer, 'uri'), 'uri must be an absolute http:// or https:// URL')
      }
    }
  }
  let timeoutInMillis = DEFAULT_INTEGRATION_TIMEOUT_MS
  if (raw.timeoutInMillis !== undefined) {
    const t = Number(raw.timeoutInMillis)
    const tp = pointerJoin(pointer, 'timeoutInMillis')
    // The guide's quotas: 50 ms to 29 s; Regional and private APIs may raise it (up to 300 s).
    if (!Number.isInteger(t) || t < MIN_INTEGRATION_TIMEOUT_MS || t > MAX_INTEGRATION_TIMEOUT_MS) {
      error(ctx, Codes.INTEGRATION, tp, `timeoutInMillis must be an integer from ${MIN_INTEGRATION_TIMEOUT_MS} to ${MAX_INTEGRATION_TIMEOUT_MS}`)
    } else {
      timeoutInMillis = t
      if (t > MAX_DEFAULT_INTEGRATION_TIMEOUT_MS) warning(ctx, tp, `timeoutInMillis ${t} is past API Gateway's default maximum of ${MAX_DEFAULT_INTEGRATION_TIMEOUT_MS}: AWS accepts it only for Regional or private APIs after a quota increase`)
    }
  }
  let credentials: string | null = null
  if (raw.credentials !== undefined && raw.credentials !== null) {
    if (typeof raw.credentials !== 'string') error(ctx, Codes.INTEGRATION, pointerJoin(pointer, 'credentials'), 'credentials must be an IAM role ARN')
    else credentials = raw.credentials
  }
  let connectionType: 'INTERNET' | 'VPC_LINK' = 'INTERNET'
  let connectionId: string | null = null
  if (raw.connectionType !== undefined) {
    const ct = typeof raw.connectionType === 'string' ? raw.connectionType.toUpperCase() : ''
    if (ct === 'VPC_LINK' || ct === 'INTERNET') connectionType = ct
    else error(ctx, Codes.INTEGRATION, pointerJoin(pointer, 'connectionType'), 'connectionType must be INTERNET or VPC_LINK')
  }
  if (connectionType === 'VPC_LINK') {
    if (typeof raw.connectionId !== 'string' || raw.connectionId === '') error(ctx, Codes.INTEGRATION, pointerJoin(pointer, 'connectionId'), 'a VPC_LINK integration needs the connectionId of its VPC link')
    else connectionId = raw.connectionId
    if (type !== 'HTTP' && type !== 'HTTP_PROXY') error(ctx, Codes.INTEGRATION, pointerJoin(pointer, 'connectionType'), 'private integrations (VPC_LINK) are HTTP or HTTP_PROXY integrations')
  }
  let insecureSkipVerification = false
  let serverNameToVerify: string | null = null
  if (raw.tlsConfig !== undefined) {
    const tp2 = pointerJoin(pointer, 'tlsConfig')
    if (!isRecord(raw.tlsConfig)) error(ctx, Codes.INTEGRATION, tp2, 'tlsConfig must be an object')
    else {
      for (const k of Object.keys(raw.tlsConfig)) {
        if (k !== 'insecureSkipVerification' && k !== 'serverNameToVerify') error(ctx, Codes.INTEGRATION, pointerJoin(tp2, k), `unknown tlsConfig field "${k}": only insecureSkipVerification and serverNameToVerify exist`)
      }
      const skip = raw.tlsConfig.insecureSkipVerification
      if (skip !== undefined && typeof skip !== 'boolean') error(ctx, Codes.INTEGRATION, pointerJoin(tp2, 'insecureSkipVerification'), 'must be a boolean')
      else insecureSkipVerification = skip === true
      const sn = raw.tlsConfig.serverNameToVerify
      if (sn !== undefined && typeof sn !== 'string') error(ctx, Codes.INTEGRATION, pointerJoin(tp2, 'serverNameToVerify'), 'must be a host name')
      else if (typeof sn === 'string') serverNameToVerify = sn
    }
  }
  const requestParameters = integrationStrings(ctx, raw.requestParameters, pointerJoin(pointer, 'requestParameters'), (k, v, ptr) => {
    if (!REQUEST_PARAM_TARGET.test(k)) error(ctx, Codes.INTEGRATION, ptr, `invalid mapping expression specified: ${k}`)
    else {
      const problem = sourceProblem(v, REQUEST_PARAM_SOURCE)
      if (problem !== null) error(ctx, Codes.INTEGRATION, ptr, problem)
    }
  })
  const requestTemplates = integrationStrings(ctx, raw.requestTemplates, pointerJoin(pointer, 'requestTemplates'))
  const passthroughBehavior = readEnum(ctx, raw.passthroughBehavior, PASSTHROUGH, pointerJoin(pointer, 'passthroughBehavior')) ?? 'WHEN_NO_MATCH'
  const contentHandling = readEnum(ctx, raw.contentHandling, HANDLING, pointerJoin(pointer, 'contentHandling'))
  const cacheKeyParameters: string[] = Array.isArray(raw.cacheKeyParameters) ? raw.cacheKeyParameters.filter((x): x is string => typeof x === 'string') : []
  // API Gateway's default cacheNamespace is the resource id: null here, the response cache fills it in.
  const cacheNamespace = typeof raw.cacheNamespace === 'string' && raw.cacheNamespace !== '' ? raw.cacheNamespace : null

  const responses: IntegrationResponseSource[] = []
  if (raw.responses !== undefined) {
    const rp = pointerJoin(pointer, 'responses')
    if (!isRecord(raw.responses)) error(ctx, Codes.INTEGRATION, rp, 'responses must be a map of selection patterns')
    else {
      for (const [pattern, r] of Object.entries(raw.responses)) {
        const ptr = pointerJoin(rp, pattern)
        if (!isRecord(r)) {
          error(ctx, Codes.INTEGRATION, ptr, 'must be an object')
          continue
        }
        warnUnknownKeys(r, RESPONSE_KEYS, ctx.file, ptr, ctx.problems)
        checkPattern(ctx, pattern, ptr)
        const statusCode = r.statusCode === undefined ? '' : String(r.statusCode)
        if (!/^[1-5]\d\d$/.test(statusCode)) error(ctx, Codes.INTEGRATION, pointerJoin(ptr, 'statusCode'), 'statusCode must be an HTTP status code such as "200"')
        responses.push({
          selectionPattern: pattern,
          statusCode,
          responseParameters: integrationStrings(ctx, r.responseParameters, pointerJoin(ptr, 'responseParameters'), (k, v, p) => {
            if (!RESPONSE_PARAM_TARGET.test(k)) error(ctx, Codes.INTEGRATION, p, `invalid mapping expression specified: ${k}`)
            else {
              const problem = sourceProblem(v, RESPONSE_PARAM_SOURCE)
              if (problem !== null) error(ctx, Codes.INTEGRATION, p, problem)
            }
          }),
          responseTemplates: integrationStrings(ctx, r.responseTemplates, pointerJoin(ptr, 'responseTemplates')),
          contentHandling: readEnum(ctx, r.contentHandling, HANDLING, pointerJoin(ptr, 'contentHandling')),
        })
      }
    }
  }
  return { type, httpMethod, uri, requestParameters, requestTemplates, passthroughBehavior, contentHandling, timeoutInMillis, cacheKeyParameters, cacheNamespace, credentials, connectionType, connectionId, insecureSkipVerification, serverNameToVerify, responses, pointer, templateError: null }
}
