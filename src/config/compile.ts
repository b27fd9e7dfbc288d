// ApiSource → frozen per-stage objects the hot path only reads (STYLE §D.3, §D.4).
// Runs once per worker at start-up (and in the main thread to report problems), never per request.
import { Codes, ConfigError, pointerJoin, type ConfigProblem } from '../errors.js'
import type { ApiSource, GatewaySource, IntegrationResponseSource, IntegrationType, OperationSource, PassthroughBehavior, ContentHandling } from './model.js'
import { RouteNode, freezeTree, insertRoute } from '../router/tree.js'
import { GATEWAY_RESPONSE_TYPES, type GatewayResponseTypeName } from '../pipeline/gateway-response-types.js'
import { compileRequestValidation, modelProblems, type CompiledValidation } from '../pipeline/request-validation.js'
import { compileBinaryMediaTypes, type BinaryMediaTypeMatcher } from '../pipeline/binary.js'
import { parseLambdaUri } from '../functions/arn.js'

/** Where a mapped parameter value comes from. */
export const enum SourceKind {
  Static = 0,
  MethodPath = 1,
  MethodQuery = 2,
  MethodHeader = 3,
  StageVariable = 4,
  Context = 5,
  MethodBody = 6,
  MethodMultiQuery = 7,
  MethodMultiHeader = 8,
}

/** Where a mapped parameter goes in the integration request. */
export const enum TargetKind {
  Path = 0,
  Query = 1,
  Header = 2,
}

export interface CompiledParameterMapping {
  readonly target: TargetKind
  /** Target name (header names lower-cased). */
  readonly name: string
  readonly source: SourceKind
  /** Static value, or the source's name (header names lower-cased). */
  readonly value: string
}

/** One piece of the integration URI: literal text or a {name} path placeholder. */
export interface UriPiece {
  readonly literal: string | null
  readonly param: string | null
  /** A {name+} placeholder keeps '/' unencoded when substituted. */
  readonly greedy: boolean
}

export interface CompiledIntegrationResponse {
  /** null for the default response. */
  readonly pattern: RegExp | null
  readonly statusCode: number
  readonly responseParameters: readonly { readonly header: string; readonly source: string }[]
  readonly responseTemplates: Readonly<Record<string, string>>
  readonly contentHandling: ContentHandling | null
}

export interface CompiledIntegration {
  readonly type: IntegrationType
  /** Backend method; null means the client's method (httpMethod ANY). */
  readonly backendMethod: string | null
  /** The URI after stage variables, split at {param} placeholders; null for MOCK. */
  readonly uri: readonly UriPiece[] | null
  /** The backend origin ('http://host:port') the pool is keyed by; null for MOCK or a templated host. */
  readonly origin: string | null
  /** AWS / AWS_PROXY: the Lambda function to invoke, `name` or `name:qualifier`. */
  readonly lambdaFunction: string | null
  /** Set when the URI cannot be used in this stage (e.g. a missing stage variable). */
  readonly configurationError: string | null
  readonly timeoutMs: number
  readonly requestParameters: readonly CompiledParameterMapping[]
  readonly requestTemplates: Readonly<Record<string, string>>
  readonly passthroughBehavior: PassthroughBehavior
  readonly contentHandling: ContentHandling | null
  readonly responses: readonly CompiledIntegrationResponse[]
  readonly defaultResponse: CompiledIntegrationResponse | null
}

export interface CompiledMethod {
  readonly routeIndex: number
  /** The method as defined ('GET', or 'ANY'). */
  readonly httpMethod: string
  readonly resourcePath: string
  /** $context.resourceId: a stable 6-character id derived from the resource path. */
  readonly resourceId: string
  readonly operationId: string | null
  readonly apiKeyRequired: boolean
  /** Method request validation in force, or null. */
  readonly validation: CompiledValidation | null
  readonly integration: CompiledIntegration | null
  readonly source: OperationSource
}

export interface CompiledGatewayResponse {
  readonly type: GatewayResponseTypeName
  readonly status: number
  readonly errorType: string
  readonly defaultMessage: string
  /** Header name → source expression (static 'value' or method.request.*). */
  readonly responseParameters: readonly { readonly header: string; readonly source: string }[]
  readonly responseTemplates: Readonly<Record<string, string>>
}

export interface CompiledStage {
  readonly name: string
  readonly variables: Readonly<Record<string, string>>
  /** Route index → method. */
  readonly methods: readonly CompiledMethod[]
}

export interface CompiledApi {
  readonly id: string
  readonly title: string
  readonly basePath: string
  readonly router: RouteNode
  readonly stages: ReadonlyMap<string, CompiledStage>
  readonly gatewayResponses: Readonly<Record<GatewayResponseTypeName, CompiledGatewayResponse>>
  readonly binaryMediaTypes: readonly string[]
  /** x-amazon-apigateway-binary-media-types, compiled. */
  readonly binary: BinaryMediaTypeMatcher
  readonly minimumCompressionSize: number | null
  readonly source: ApiSource
}

export interface CompiledGateway {
  readonly apis: readonly CompiledApi[]
  /** API id → API, for Host `{apiId}.execute-api.*`. */
  readonly byId: ReadonlyMap<string, CompiledApi>
}

const STAGE_VAR = /\$\{stageVariables\.([A-Za-z0-9_.:/?#&=,-]+)\}/g

/** Replaces ${stageVariables.x}; reports the names missing from the stage. */
export function substituteStageVariables(text: string, vars: Readonly<Record<string, string>>, missing: string[]): string {
  return text.replace(STAGE_VAR, (_m, name: string) => {
    const v = vars[name]
    if (v === undefined) {
      missing.push(name)
      return ''
    }
    return v
  })
}

function splitUri(uri: string): UriPiece[] {
  const pieces: UriPiece[] = []
  const re = /\{([A-Za-z0-9._-]+)(\+?)\}/g
  let last = 0
  for (let m = re.exec(uri); m !== null; m = re.exec(uri)) {
    if (m.index > last) pieces.push({ literal: uri.slice(last, m.index), param: null, greedy: false })
    pieces.push({ literal: null, param: m[1]!, greedy: m[2] === '+' })
    last = re.lastIndex
  }
  if (last < uri.length) pieces.push({ literal: uri.slice(last), param: null, greedy: false })
  return pieces
}

function compileSource(expr: string): { source: SourceKind; value: string } {
  if (expr.startsWith("'") && expr.endsWith("'")) return { source: SourceKind.Static, value: expr.slice(1, -1) }
  const dot = (prefix: string) => expr.slice(prefix.length)
  if (expr.startsWith('method.request.path.')) return { source: SourceKind.MethodPath, value: dot('method.request.path.') }
  if (expr.startsWith('method.request.querystring.')) return { source: SourceKind.MethodQuery, value: dot('method.request.querystring.') }
  if (expr.startsWith('method.request.header.')) return { source: SourceKind.MethodHeader, value: dot('method.request.header.').toLowerCase() }
  if (expr.startsWith('method.request.multivaluequerystring.')) return { source: SourceKind.MethodMultiQuery, value: dot('method.request.multivaluequerystring.') }
  if (expr.startsWith('method.request.multivalueheader.')) return { source: SourceKind.MethodMultiHeader, value: dot('method.request.multivalueheader.').toLowerCase() }
  if (expr.startsWith('stageVariables.')) return { source: SourceKind.StageVariable, value: dot('stageVariables.') }
  if (expr.startsWith('context.')) return { source: SourceKind.Context, value: dot('context.') }
  return { source: SourceKind.MethodBody, value: expr === 'method.request.body' ? '' : dot('method.request.body.') }
}

function compileRequestParameters(params: Readonly<Record<string, string>>): CompiledParameterMapping[] {
  const out: CompiledParameterMapping[] = []
  for (const [target, expr] of Object.entries(params)) {
    const m = /^integration\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.(.+)$/.exec(target)
    if (m === null) continue
    const kind = m[1] === 'path' ? TargetKind.Path : m[1] === 'querystring' || m[1] === 'multivaluequerystring' ? TargetKind.Query : TargetKind.Header
    const { source, value } = compileSource(expr)
    out.push({ target: kind, name: kind === TargetKind.Header ? m[2]!.toLowerCase() : m[2]!, source, value })
  }
  return out
}

function compileResponses(list: readonly IntegrationResponseSource[]): { responses: CompiledIntegrationResponse[]; defaultResponse: CompiledIntegrationResponse | null } {
  const responses: CompiledIntegrationResponse[] = []
  let defaultResponse: CompiledIntegrationResponse | null = null
  for (const r of list) {
    const compiled: CompiledIntegrationResponse = Object.freeze({
      // Java's String.matches semantics: the whole input must match; '.' also matches newlines (DOTALL is what API Gateway's Lambda errorMessage matching needs).
      pattern: r.selectionPattern === 'default' ? null : new RegExp(`^(?:${r.selectionPattern})$`, 's'),
      statusCode: Number(r.statusCode),
      responseParameters: Object.freeze(Object.entries(r.responseParameters).map(([k, v]) => Object.freeze({ header: k.slice('method.response.header.'.length), source: v }))),
      responseTemplates: Object.freeze({ ...r.responseTemplates }),
      contentHandling: r.contentHandling,
    })
    if (compiled.pattern === null) defaultResponse = compiled
    else responses.push(compiled)
  }
  return { responses, defaultResponse }
}

/** A stable resource id like API Gateway's 6-character ids, derived from the path. */
export function resourceIdOf(path: string): string {
  let h = 2166136261
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619)
  return (h >>> 0).toString(36).padStart(6, '0').slice(-6)
}

function compileIntegration(op: OperationSource, vars: Readonly<Record<string, string>>): CompiledIntegration | null {
  const src = op.integration
  if (src === null) return null
  let uri: UriPiece[] | null = null
  let origin: string | null = null
  let configurationError: string | null = null
  let lambdaFunction: string | null = null
  if (src.uri !== null) {
    const missing: string[] = []
    const text = substituteStageVariables(src.uri, vars, missing)
    if (missing.length > 0) configurationError = `Invalid stage variable value: stage variable(s) ${missing.join(', ')} not defined`
    uri = splitUri(text)
    if (src.type === 'HTTP' || src.type === 'HTTP_PROXY') {
      const m = /^(https?:\/\/[^/?#{}]+)/.exec(text)
      if (m !== null) origin = m[1]!
      else if (configurationError === null) configurationError = `Invalid endpoint address: ${text}`
    } else if (configurationError === null) {
      const target = parseLambdaUri(text)
      if (target === null) configurationError = `AWS integrations other than Lambda functions are not supported: ${text}`
      else lambdaFunction = target.qualifier === null ? target.functionName : `${target.functionName}:${target.qualifier}`
    }
  }
  const { responses, defaultResponse } = compileResponses(src.responses)
  return Object.freeze({
    type: src.type,
    backendMethod: src.httpMethod === null || src.httpMethod === 'ANY' ? null : src.httpMethod,
    uri: uri === null ? null : Object.freeze(uri),
    origin,
    lambdaFunction,
    configurationError,
    timeoutMs: src.timeoutInMillis,
    requestParameters: Object.freeze(compileRequestParameters(src.requestParameters)),
    requestTemplates: Object.freeze({ ...src.requestTemplates }),
    passthroughBehavior: src.passthroughBehavior,
    contentHandling: src.contentHandling,
    responses: Object.freeze(responses),
    defaultResponse,
  })
}

/** The gateway response table of an API ({} gives API Gateway's defaults). */
export function compileGatewayResponses(custom: ApiSource['gatewayResponses']): Record<GatewayResponseTypeName, CompiledGatewayResponse> {
  const out = {} as Record<GatewayResponseTypeName, CompiledGatewayResponse>
  const d4 = custom.DEFAULT_4XX
  const d5 = custom.DEFAULT_5XX
  for (const name of Object.keys(GATEWAY_RESPONSE_TYPES) as GatewayResponseTypeName[]) {
    const def = GATEWAY_RESPONSE_TYPES[name]
    const own = custom[name]
    // DEFAULT_4XX / DEFAULT_5XX apply to every type of their class not customized one by one.
    const fallback = def.status === null ? null : def.status < 500 ? d4 : d5
    const chosen = own ?? fallback
    const status = own?.statusCode ?? (own === undefined ? fallback?.statusCode : null) ?? def.status ?? (name === 'DEFAULT_4XX' ? 400 : 500)
    out[name] = Object.freeze({
      type: name,
      status,
      errorType: def.errorType,
      defaultMessage: def.message,
      responseParameters: Object.freeze(Object.entries(chosen?.responseParameters ?? {}).map(([k, v]) => Object.freeze({ header: k.slice('gatewayresponse.header.'.length), source: v }))),
      responseTemplates: Object.freeze({ ...(chosen?.responseTemplates ?? {}) }),
    })
  }
  return Object.freeze(out)
}

/** Compiles one API; route problems (duplicates, sibling variables) are recorded. */
export function compileApi(api: ApiSource, problems: ConfigProblem[]): CompiledApi {
  const router = new RouteNode('/')
  const ops: OperationSource[] = []
  for (const op of api.operations) {
    const problem = insertRoute(router, op.path, op.method, ops.length)
    if (problem === 'duplicate-method') {
      problems.push({ code: Codes.DUPLICATE_ROUTE, file: api.file, pointer: op.pointer, message: `method ${op.method} is defined twice for resource ${op.path}`, severity: 'error' })
      continue
    }
    if (problem === 'sibling-variable') {
      problems.push({ code: Codes.PATH, file: api.file, pointer: pointerJoin('/paths', op.path), message: `a sibling of resource ${op.path} already has a variable path part: only one is allowed per level`, severity: 'error' })
      continue
    }
    ops.push(op)
  }
  freezeTree(router)
  // Models are checked once per API; a method's validation reports only its own problems.
  const seen = new Set<string>()
  const report = (list: readonly ConfigProblem[]) => {
    for (const p of list) {
      const key = `${p.pointer}\n${p.message}`
      if (!seen.has(key)) problems.push(p)
      seen.add(key)
    }
  }
  report(modelProblems(api, { modelsPointer: api.modelsPointer }))
  const validations = ops.map((op) => {
    try {
      return compileRequestValidation(api, op, { modelsPointer: api.modelsPointer })
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      report(err.problems)
      return null
    }
  })
  const stages = new Map<string, CompiledStage>()
  for (const stage of api.stages) {
    const vars = Object.freeze({ ...stage.variables })
    const methods = ops.map((op, routeIndex): CompiledMethod => Object.freeze({
      routeIndex,
      httpMethod: op.method,
      resourcePath: op.path,
      resourceId: resourceIdOf(op.path),
      operationId: op.operationId,
      apiKeyRequired: op.apiKeyRequired,
      validation: validations[routeIndex]!,
      integration: compileIntegration(op, vars),
      source: op,
    }))
    for (const m of methods) {
      const i = m.integration
      if (i !== null && i.configurationError !== null) {
        problems.push({ code: Codes.STAGE_VARIABLE, file: api.file, pointer: pointerJoin(m.source.integration!.pointer, 'uri'), message: `stage ${stage.name}: ${i.configurationError}; requests to this method get 500 Internal server error`, severity: 'warning' })
      }
    }
    stages.set(stage.name, Object.freeze({ name: stage.name, variables: vars, methods: Object.freeze(methods) }))
  }
  return Object.freeze({
    id: api.id,
    title: api.title,
    basePath: api.basePath,
    router,
    stages,
    gatewayResponses: compileGatewayResponses(api.gatewayResponses),
    binaryMediaTypes: api.binaryMediaTypes,
    binary: compileBinaryMediaTypes(api.binaryMediaTypes),
    minimumCompressionSize: api.minimumCompressionSize,
    source: api,
  })
}

export function compileGateway(gateway: GatewaySource, problems: ConfigProblem[]): CompiledGateway {
  const apis = gateway.apis.map((a) => compileApi(a, problems))
  return Object.freeze({ apis: Object.freeze(apis), byId: new Map(apis.map((a) => [a.id, a])) })
}
