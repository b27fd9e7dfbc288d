// OpenAPI 3.0 and Swagger 2.0 documents → one internal shape (ApiSource).
// Every problem is collected with its JSON pointer; nothing stops at the first.
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import { isRecord } from '../util/is-record.js'
import { closestKey } from './unknown-keys.js'
import type { ApiSource, IntegrationSource, OperationSource, ParameterSource, SecurityRequirementSource, StageSource } from './model.js'
import { normalizeIntegration, type ExtensionContext } from './extensions/integration.js'
import { normalizeProtobuf } from './extensions/protobuf.js'
import {
  normalizeApiKeySource,
  normalizeBinaryMediaTypes,
  normalizeGatewayResponses,
  normalizeMinimumCompressionSize,
  normalizeRequestValidators,
} from './extensions/api-settings.js'

/** What the gateway config says of this API. */
export interface ApiPlacement {
  readonly file: string
  readonly id: string
  readonly basePath: string
  readonly stages: readonly StageSource[]
}

const OPERATION_KEYS: Readonly<Record<string, string>> = {
  get: 'GET',
  put: 'PUT',
  post: 'POST',
  delete: 'DELETE',
  options: 'OPTIONS',
  head: 'HEAD',
  patch: 'PATCH',
  'x-amazon-apigateway-any-method': 'ANY',
}
const PATH_LEVEL_KEYS = new Set(['parameters', 'summary', 'description', 'servers', '$ref'])
/** OpenAPI operation keys API Gateway does not import as methods (trace; v2's any). */
const KNOWN_NON_METHODS = ['trace']
/** API Gateway's extensions at operation level (REST APIs). */
const OPERATION_EXTENSIONS = ['x-amazon-apigateway-integration', 'x-amazon-apigateway-request-validator', 'x-amazon-apigateway-auth']
/** API Gateway's extensions at the root of a REST API definition (those outside are warned of). */
const ROOT_EXTENSIONS = [
  'x-amazon-apigateway-api-key-source', 'x-amazon-apigateway-binary-media-types', 'x-amazon-apigateway-documentation',
  'x-amazon-apigateway-endpoint-configuration', 'x-amazon-apigateway-gateway-responses', 'x-amazon-apigateway-minimum-compression-size',
  'x-amazon-apigateway-policy', 'x-amazon-apigateway-request-validators', 'x-amazon-apigateway-request-validator',
]
/** Marks of an HTTP API (API Gateway v2) definition, which this gateway does not serve. */
const HTTP_API_ROOT_KEYS = ['x-amazon-apigateway-cors', 'x-amazon-apigateway-importexport-version']
/** A static segment, a {param} or (last only) a greedy {param+}. */
const SEGMENT = /^(?:[^{}/]+|\{[A-Za-z0-9._-]+\}|\{[A-Za-z0-9._-]+\+\})$/


/** Resolves a local `#/…` reference (parameters may be shared under components). */
function resolveLocalRef(doc: Record<string, unknown>, v: unknown): unknown {
  if (!isRecord(v) || typeof v.$ref !== 'string' || !v.$ref.startsWith('#/')) return v
  let cur: unknown = doc
  for (const token of v.$ref.slice(2).split('/')) {
    if (!isRecord(cur)) return undefined
    cur = cur[token.replace(/~1/g, '/').replace(/~0/g, '~')]
  }
  return cur
}

/** Model name from a schema reference: #/definitions/X, #/components/schemas/X, or API Gateway's model URL. */
export function modelNameFromRef(ref: string): string | null {
  const m = /^(?:#\/definitions\/|#\/components\/schemas\/|https:\/\/apigateway\.amazonaws\.com\/restapis\/[^/]+\/models\/)([^/]+)$/.exec(ref)
  return m === null ? null : decodeURIComponent(m[1]!.replace(/~1/g, '/').replace(/~0/g, '~'))
}

export function normalizeApi(doc: unknown, place: ApiPlacement, problems: ConfigProblem[]): ApiSource | null {
  const file = place.file
  const ctx: ExtensionContext = { file, problems }
  const err = (code: string, pointer: string, message: string) => problems.push({ code, file, pointer, message, severity: 'error' })
  if (!isRecord(doc)) {
    err(Codes.SHAPE, '', 'an API file must be an OpenAPI 3.0 or Swagger 2.0 object')
    return null
  }
  // Version check first (STYLE §C.1): everything after depends on it.
  let version: 2 | 3
  if (typeof doc.openapi === 'string' && doc.openapi.startsWith('3.0')) version = 3
  else if (doc.swagger === '2.0') version = 2
  else {
    err(Codes.UNSUPPORTED_VERSION, doc.openapi !== undefined ? '/openapi' : '/swagger', `unsupported document version: expected openapi 3.0.x or swagger "2.0", got ${JSON.stringify(doc.openapi ?? doc.swagger ?? null)}`)
    return null
  }
  // An HTTP API (v2) definition is named in one problem, rather than a cascade of derived ones.
  const httpApiMark = findHttpApiMark(doc)
  if (httpApiMark !== null) {
    err(Codes.UNSUPPORTED_VERSION, httpApiMark, 'this is an HTTP API (API Gateway v2) definition: Backplane serves REST APIs (API Gateway v1) only')
    return null
  }
  for (const key of Object.keys(doc)) {
    if (key.startsWith('x-amazon-apigateway-') && !ROOT_EXTENSIONS.includes(key)) warnUnknownExtension(ctx, pointerJoin('', key), key, ROOT_EXTENSIONS)
  }
  const info = isRecord(doc.info) ? doc.info : {}
  const title = typeof info.title === 'string' ? info.title : place.id

  const models: Record<string, unknown> = {}
  const schemaHome = version === 3 ? (isRecord(doc.components) ? doc.components.schemas : undefined) : doc.definitions
  if (schemaHome !== undefined) {
    if (isRecord(schemaHome)) Object.assign(models, schemaHome)
    else err(Codes.SHAPE, version === 3 ? '/components/schemas' : '/definitions', 'must be a map of models')
  }
  const securitySchemes: Record<string, unknown> = {}
  const schemes = version === 3 ? (isRecord(doc.components) ? doc.components.securitySchemes : undefined) : doc.securityDefinitions
  if (isRecord(schemes)) Object.assign(securitySchemes, schemes)

  const requestValidators = normalizeRequestValidators(ctx, doc['x-amazon-apigateway-request-validators'])
  const defaultValidator = doc['x-amazon-apigateway-request-validator']
  if (defaultValidator !== undefined && (typeof defaultValidator !== 'string' || !Object.hasOwn(requestValidators, defaultValidator))) {
    err(Codes.SHAPE, '/x-amazon-apigateway-request-validator', `names no validator of x-amazon-apigateway-request-validators: ${JSON.stringify(defaultValidator)}`)
  }
  const rootSecurity = Array.isArray(doc.security) ? doc.security : []
  if (doc[AUTH_EXTENSION] !== undefined) err(Codes.AUTHORIZATION, pointerJoin('', AUTH_EXTENSION), AUTH_MISPLACED)
  const rootConsumes = Array.isArray(doc.consumes) ? (doc.consumes as unknown[]).filter((x): x is string => typeof x === 'string') : []

  const operations: OperationSource[] = []
  if (!isRecord(doc.paths)) err(Codes.SHAPE, '/paths', 'paths must be an object')
  else {
    for (const [path, item] of Object.entries(doc.paths)) {
      const pp = pointerJoin('/paths', path)
      if (!checkPath(path, pp, err)) continue
      if (!isRecord(item)) {
        err(Codes.SHAPE, pp, 'a path item must be an object')
        continue
      }
      const pathParams = Array.isArray(item.parameters) ? item.parameters : []
      for (const [key, op] of Object.entries(item)) {
        const method = OPERATION_KEYS[key]
        if (method === undefined) {
          if (key === AUTH_EXTENSION) err(Codes.AUTHORIZATION, pointerJoin(pp, key), AUTH_MISPLACED)
          else if (!PATH_LEVEL_KEYS.has(key) && !key.startsWith('x-')) warnUnknownOperation(ctx, pointerJoin(pp, key), key)
          // an operation-level extension placed on the path item is ignored by API Gateway too
          else if (key.startsWith('x-amazon-apigateway-')) warnUnknownExtension(ctx, pointerJoin(pp, key), key, [], 'it belongs in an operation')
          continue
        }
        const opPtr = pointerJoin(pp, key)
        if (!isRecord(op)) {
          err(Codes.SHAPE, opPtr, 'an operation must be an object')
          continue
        }
        operations.push(normalizeOperation(doc, version, path, method, op, opPtr, pathParams, rootSecurity, rootConsumes, securitySchemes, requestValidators, typeof defaultValidator === 'string' ? defaultValidator : null, ctx))
      }
    }
  }

  return {
    id: place.id,
    title,
    file,
    basePath: place.basePath,
    apiKeySource: normalizeApiKeySource(ctx, doc['x-amazon-apigateway-api-key-source']),
    binaryMediaTypes: normalizeBinaryMediaTypes(ctx, doc['x-amazon-apigateway-binary-media-types']),
    minimumCompressionSize: normalizeMinimumCompressionSize(ctx, doc['x-amazon-apigateway-minimum-compression-size']),
    gatewayResponses: normalizeGatewayResponses(ctx, doc['x-amazon-apigateway-gateway-responses']),
    requestValidators,
    models,
    modelsPointer: version === 3 ? '/components/schemas' : '/definitions',
    securitySchemes,
    securitySchemesPointer: version === 3 ? '/components/securitySchemes' : '/securityDefinitions',
    resourcePolicy: doc['x-amazon-apigateway-policy'] ?? null,
    operations,
    stages: place.stages,
  }
}

/**
 * API Gateway refuses an integration response that maps a header its method response does
 * not declare ("Invalid mapping expression specified … method.response.header.X"): the
 * method response (responses.{status}.headers) is where the headers are declared.
 */
function checkResponseHeaders(integration: IntegrationSource, methodResponses: Readonly<Record<string, readonly string[]>>, ctx: ExtensionContext): void {
  for (const r of integration.responses) {
    const declared = methodResponses[r.statusCode]
    for (const key of Object.keys(r.responseParameters)) {
      const header = key.slice('method.response.header.'.length).toLowerCase()
      if (declared !== undefined && declared.includes(header)) continue
      const where = declared === undefined ? `no method response ${r.statusCode} is declared (responses/${r.statusCode})` : `method response ${r.statusCode} does not declare it (responses/${r.statusCode}/headers)`
      ctx.problems.push({ code: Codes.INTEGRATION, file: ctx.file, pointer: pointerJoin(integration.pointer, 'responses', r.selectionPattern, 'responseParameters', key), message: `${key} names a header the method response does not have: ${where}; API Gateway refuses the import`, severity: 'error' })
    }
  }
}

/** The pointer of the first mark of an HTTP API (v2) definition, or null. */
function findHttpApiMark(doc: Record<string, unknown>): string | null {
  for (const k of HTTP_API_ROOT_KEYS) if (doc[k] !== undefined) return pointerJoin('', k)
  if (!isRecord(doc.paths)) return null
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!isRecord(item)) continue
    for (const [key, op] of Object.entries(item)) {
      if (!isRecord(op) || !isRecord(op['x-amazon-apigateway-integration'])) continue
      // Payload format 2.0 exists only for HTTP APIs. A REST API import accepts (and ignores)
      // "1.0": AWS-validated, LocalStack test_apigateway_import.py::test_import_with_stage_variables
      // imports openapi.spec.stage-variables.json with failOnWarnings.
      if (String(op['x-amazon-apigateway-integration'].payloadFormatVersion) === '2.0') return pointerJoin('/paths', path, key, 'x-amazon-apigateway-integration', 'payloadFormatVersion')
    }
  }
  return null
}

/** An x-amazon-apigateway-* key API Gateway does not know at this place: ignored, with a warning. */
function warnUnknownExtension(ctx: ExtensionContext, pointer: string, key: string, known: readonly string[], misplaced = ''): void {
  const near = closestKey(key, known)
  const hint = near !== null && near !== key ? `; did you mean "${near}"?` : misplaced === '' ? '' : `: ${misplaced}`
  ctx.problems.push({ code: Codes.UNKNOWN_KEY, file: ctx.file, pointer, message: `unknown key "${key}" is ignored${hint}`, severity: 'warning' })
}

/** API Gateway skips an operation key it does not know; so does the gateway, with a warning. */
function warnUnknownOperation(ctx: ExtensionContext, pointer: string, key: string): void {
  const near = key.toLowerCase() === 'any' ? 'x-amazon-apigateway-any-method' : closestKey(key, [...Object.keys(OPERATION_KEYS), ...KNOWN_NON_METHODS])
  ctx.problems.push({ code: Codes.UNKNOWN_KEY, file: ctx.file, pointer, message: `unknown operation "${key}" is ignored${near === null || near === key ? '' : `; did you mean "${near}"?`}`, severity: 'warning' })
}

function checkPath(path: string, pointer: string, err: (code: string, pointer: string, message: string) => void): boolean {
  if (!path.startsWith('/')) {
    err(Codes.PATH, pointer, 'a resource path must start with "/"')
    return false
  }
  if (path === '/') return true
  const segments = path.slice(1).split('/')
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    if (!SEGMENT.test(s)) {
      err(Codes.PATH, pointer, `invalid path segment "${s}": use a static name, {param} or a last {param+}`)
      return false
    }
    if (s.endsWith('+}') && i !== segments.length - 1) {
      err(Codes.PATH, pointer, `greedy path variable "${s}" must be the last segment`)
      return false
    }
  }
  return true
}

/**
 * True for the scheme API Gateway reads as "this method requires an API key" (apiKeyRequired),
 * as its exports write it: `type: apiKey, name: x-api-key, in: header`, with neither an
 * x-amazon-apigateway-authorizer (a Lambda or Cognito authorizer) nor an
 * x-amazon-apigateway-authtype (`awsSigv4` is IAM, also written as an apiKey scheme).
 */
export function isApiKeyScheme(scheme: unknown): boolean {
  return isRecord(scheme) && scheme.type === 'apiKey' && typeof scheme.name === 'string' && scheme.name.toLowerCase() === 'x-api-key' &&
    (scheme.in === undefined || scheme.in === 'header') &&
    scheme['x-amazon-apigateway-authorizer'] === undefined && scheme['x-amazon-apigateway-authtype'] === undefined
}

const AUTH_EXTENSION = 'x-amazon-apigateway-auth'
/** Elsewhere than on an operation it would protect nothing: refused rather than ignored. */
const AUTH_MISPLACED = 'x-amazon-apigateway-auth applies to operations only: put it on each operation it protects (here it would protect nothing)'

/** x-amazon-apigateway-auth (operation level, REST APIs): `type` NONE or AWS_IAM, case-insensitive. */
function normalizeAuth(raw: unknown, pointer: string, err: (pointer: string, message: string) => void): 'AWS_IAM' | null {
  if (raw === undefined) return null
  const type = isRecord(raw) && typeof raw.type === 'string' ? raw.type.toUpperCase() : null
  if (type === 'NONE') return null
  if (type === 'AWS_IAM') return 'AWS_IAM'
  // Refused at load: the gateway never serves a method whose authorization type it cannot read.
  err(pointer, 'must be { type: NONE } or { type: AWS_IAM } (case-insensitive)')
  return null
}

function normalizeOperation(
  doc: Record<string, unknown>,
  version: 2 | 3,
  path: string,
  method: string,
  op: Record<string, unknown>,
  opPtr: string,
  pathParams: unknown[],
  rootSecurity: unknown[],
  rootConsumes: string[],
  securitySchemes: Record<string, unknown>,
  validators: Record<string, unknown>,
  defaultValidator: string | null,
  ctx: ExtensionContext,
): OperationSource {
  const err = (pointer: string, message: string) => ctx.problems.push({ code: Codes.SHAPE, file: ctx.file, pointer, message, severity: 'error' })
  const parameters: ParameterSource[] = []
  const requestModels: Record<string, string> = {}
  const seen = new Set<string>()
  const opParams = Array.isArray(op.parameters) ? op.parameters : []
  // Operation parameters override path-level ones of the same name and location.
  const all: [unknown, string][] = [
    ...opParams.map((p, i): [unknown, string] => [p, pointerJoin(opPtr, 'parameters', i)]),
    ...pathParams.map((p, i): [unknown, string] => [p, pointerJoin(opPtr.slice(0, opPtr.lastIndexOf('/')), 'parameters', i)]),
  ]
  for (const [rawParam, ptr] of all) {
    const p = resolveLocalRef(doc, rawParam)
    if (!isRecord(p) || typeof p.name !== 'string' || typeof p.in !== 'string') {
      err(ptr, 'a parameter needs a name and an "in"')
      continue
    }
    const key = `${p.in}:${p.name}`
    if (seen.has(key)) continue
    seen.add(key)
    if (p.in === 'body') {
      const ref = isRecord(p.schema) && typeof p.schema.$ref === 'string' ? modelNameFromRef(p.schema.$ref) : null
      if (ref !== null) {
        const consumes = Array.isArray(op.consumes) ? (op.consumes as string[]) : rootConsumes
        for (const ct of consumes.length > 0 ? consumes : ['application/json']) requestModels[ct.toLowerCase()] = ref
      }
      continue
    }
    if (p.in === 'path' || p.in === 'query' || p.in === 'header') {
      parameters.push({ in: p.in, name: p.in === 'header' ? p.name.toLowerCase() : p.name, required: p.required === true || p.in === 'path' })
    }
  }
  if (version === 3 && op.requestBody !== undefined) {
    const body = resolveLocalRef(doc, op.requestBody)
    if (isRecord(body) && isRecord(body.content)) {
      for (const [ct, media] of Object.entries(body.content)) {
        if (isRecord(media) && isRecord(media.schema) && typeof media.schema.$ref === 'string') {
          const name = modelNameFromRef(media.schema.$ref)
          if (name !== null) requestModels[ct.toLowerCase()] = name
        }
      }
    }
  }
  // Path parameters must be declared by the path template itself.
  for (const m of path.matchAll(/\{([^}+]+)\+?\}/g)) {
    if (!parameters.some((p) => p.in === 'path' && p.name === m[1])) parameters.push({ in: 'path', name: m[1]!, required: true })
  }

  const security: SecurityRequirementSource[] = []
  let apiKeyRequired = false
  const secList = Array.isArray(op.security) ? op.security : rootSecurity
  const securityPointer = Array.isArray(op.security) ? pointerJoin(opPtr, 'security') : rootSecurity.length > 0 ? '/security' : ''
  for (const [alternative, req] of secList.entries()) {
    if (!isRecord(req)) continue
    for (const [name, scopes] of Object.entries(req)) {
      security.push({ name, scopes: Array.isArray(scopes) ? scopes.filter((x): x is string => typeof x === 'string') : [], alternative })
      if (isApiKeyScheme(securitySchemes[name])) apiKeyRequired = true
    }
  }

  let requestValidator = defaultValidator
  const v = op['x-amazon-apigateway-request-validator']
  if (v !== undefined) {
    if (typeof v === 'string' && Object.hasOwn(validators, v)) requestValidator = v
    else err(pointerJoin(opPtr, 'x-amazon-apigateway-request-validator'), `names no validator of x-amazon-apigateway-request-validators: ${JSON.stringify(v)}`)
  }

  const methodResponses: Record<string, string[]> = {}
  if (isRecord(op.responses)) {
    for (const [code, r] of Object.entries(op.responses)) {
      const resp = resolveLocalRef(doc, r)
      methodResponses[code] = isRecord(resp) && isRecord(resp.headers) ? Object.keys(resp.headers).map((h) => h.toLowerCase()) : []
    }
  }

  // Misspelled or misplaced extensions (x-amazon-apigateway-integrations) are warned of.
  for (const key of Object.keys(op)) {
    if (key.startsWith('x-amazon-apigateway-') && !OPERATION_EXTENSIONS.includes(key)) warnUnknownExtension(ctx, pointerJoin(opPtr, key), key, OPERATION_EXTENSIONS)
  }
  const integPtr = pointerJoin(opPtr, 'x-amazon-apigateway-integration')
  let rawInteg = op['x-amazon-apigateway-integration']
  if (isRecord(rawInteg) && typeof rawInteg.$ref === 'string') {
    // A $ref'd integration (#/components/x-amazon-apigateway-integrations/name) is resolved in the file.
    const target = resolveLocalRef(doc, rawInteg)
    if (!isRecord(target)) {
      err(pointerJoin(integPtr, '$ref'), `$ref ${JSON.stringify(rawInteg.$ref)} names nothing in this file: only local references (#/...) are resolved`)
      rawInteg = null
    } else rawInteg = target
  }
  const integration = rawInteg === undefined || rawInteg === null ? null : normalizeIntegration(ctx, rawInteg, integPtr)
  if (integration !== null) checkResponseHeaders(integration, methodResponses, ctx)
  if (op['x-amazon-apigateway-integration'] === undefined) {
    ctx.problems.push({ code: Codes.NOT_YET_SERVED, file: ctx.file, pointer: opPtr, message: 'no x-amazon-apigateway-integration: requests to this method get 500 Internal server error', severity: 'warning' })
  }

  const protobuf = op['x-backplane-protobuf'] === undefined ? null : normalizeProtobuf(ctx, op['x-backplane-protobuf'], pointerJoin(opPtr, 'x-backplane-protobuf'), integration)

  return {
    path,
    method,
    operationId: typeof op.operationId === 'string' ? op.operationId : null,
    parameters,
    requestModels,
    requestValidator,
    security,
    securityPointer,
    authType: normalizeAuth(op['x-amazon-apigateway-auth'], pointerJoin(opPtr, 'x-amazon-apigateway-auth'), err),
    apiKeyRequired,
    methodResponses,
    integration,
    protobuf,
    pointer: opPtr,
  }
}
