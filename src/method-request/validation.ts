// Method request validation: API Gateway's "basic request validation" of required request
// parameters and of the request body against the method's model for its content type.
//
// compileRequestValidation() runs at load (models compiled once per API with ajv, draft 4,
// as API Gateway uses); validateRequest() runs per request. A valid body costs one
// JSON.parse and one compiled ajv call. Only an invalid body pays for the error text:
// a second, interpretive walk that reproduces the report of the Java json-schema-validator
// (java-json-tools, "fge") behind API Gateway's $context.error.validationErrorString —
// its message texts, its keyword order (alphabetical), its child order (sorted member
// names), and its rule that children are not visited once the report has an error.
//
// Documented facts (developer guide), pinned in test/unit/pipeline/request-validation.test.ts:
// - "Request validation for REST APIs in API Gateway": required parameters in the URI, query
//   string and headers must be included and not blank; the body must adhere to the model
//   for its content type; "If no matching content type is found, request validation is not
//   performed"; a model under the content type `$default` applies to any content type.
// - "x-amazon-apigateway-request-validator": a method-level validator overrides the API-level
//   one (resolved by config/normalize.ts into OperationSource.requestValidator).
// - "Test basic request validation": `{"message": "Missing required request parameters: [q1]"}`
//   and `{"message": "Invalid request body"}`, both 400.
// - "Method request behavior for payloads without mapping templates": a request without a
//   Content-Type is taken as application/json.
// - "Data models for REST APIs": a model may reference another with
//   `https://apigateway.amazonaws.com/restapis/{restapi_id}/models/{model_name}`.

import AjvModule from 'ajv-draft-04'
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv'
import { isIPv4, isIPv6 } from 'node:net'
import type { ApiSource, OperationSource } from '../config/model.js'
import { Codes, ConfigError, pointerJoin, type ConfigProblem } from '../errors.js'
import { isRecord } from '../util/is-record.js'

const Ajv = AjvModule.default
type AjvInstance = InstanceType<typeof Ajv>

/** Content type assumed for a request without one (integration passthrough behaviors page). */
export const DEFAULT_REQUEST_CONTENT_TYPE = 'application/json'
/** requestModels key of the model that applies to every content type. */
export const DEFAULT_MODEL_CONTENT_TYPE = '$default'
/** Where API Gateway's own model URLs point; `{restapi_id}` is any id, the name selects the model. */
export const MODEL_URL_PREFIX = 'https://apigateway.amazonaws.com/restapis/'
/** The body validated when a request has none: API Gateway has nothing else to parse. */
const EMPTY_BODY_JSON = '{}'
/** validationErrorString of a body that is not JSON (API Gateway's own text is not documented). */
export const NOT_JSON_VALIDATION_ERROR = '[Invalid JSON in request body]'
/** Guards against $ref chains that never reach a schema (a → b → a). */
const MAX_REF_CHAIN = 64
/** Guards the error walk against recursive models on pathological bodies. */
const MAX_WALK_DEPTH = 512

export type ValidationFailureType = 'BAD_REQUEST_PARAMETERS' | 'BAD_REQUEST_BODY'

/** Why a request failed validation: the gateway response to send and its texts. */
export interface ValidationFailure {
  /** Gateway response type. */
  readonly type: ValidationFailureType
  /** $context.error.message (the default gateway response body's `message`). */
  readonly message: string
  /** $context.error.validationErrorString. */
  readonly validationErrorString: string
}

/** name → value, or values when repeated (the last one counts, as for method.request.*). */
export type ParameterValues =
  | ReadonlyMap<string, string | readonly string[]>
  | Readonly<Record<string, string | readonly string[] | undefined>>

/** What validation reads of a request. */
export interface ValidationRequest {
  /** The Content-Type header as sent, or null when absent. */
  readonly contentType: string | null
  /** Body bytes (already decompressed), or null when empty. */
  readonly body: Uint8Array | null
  readonly query: ParameterValues
  /** Header names lower-case. */
  readonly headers: ParameterValues
  readonly pathParams: ParameterValues
}

/** A required method request parameter, as the check reads it. */
export interface RequiredParameter {
  readonly in: 'path' | 'query' | 'header'
  /** Lower-case for headers. */
  readonly name: string
}

/** One model, compiled. */
export interface CompiledModel {
  readonly name: string
  readonly validate: ValidateFunction
  /** The model's registry, for the error walk (not read on the valid path). */
  readonly registry: ModelRegistry
}

/** A method's validation, compiled once; frozen. */
export interface CompiledValidation {
  /** Name of the x-amazon-apigateway-request-validator in force. */
  readonly validator: string
  /** Required parameters in message order; empty when parameters are not validated. */
  readonly requiredParameters: readonly RequiredParameter[]
  /** Media type (lower-case, no parameters) or `$default` → model; null when the body is not validated. */
  readonly bodyModels: ReadonlyMap<string, CompiledModel> | null
}

export interface CompileValidationOptions {
  /** JSON pointer of the models map in the API file, for messages: '/definitions' (Swagger 2) or '/components/schemas' (OAS 3). */
  readonly modelsPointer?: string
}

// ---------------------------------------------------------------------------------------
// Compile time
// ---------------------------------------------------------------------------------------

/** Validates model schemas against the draft-04 meta-schema, reporting every error. */
let metaAjv: AjvInstance | null = null
function metaValidator(): AjvInstance {
  if (metaAjv === null) metaAjv = new Ajv({ allErrors: true, strict: false, logger: false })
  return metaAjv
}


/** Keys whose values are data, not schemas: their `$ref` strings are left alone. */
const DATA_KEYWORDS = new Set(['enum', 'default', 'example', 'examples', 'const'])

/**
 * The models of one API: each model's schema with its `$ref`s rewritten to ajv-resolvable
 * model URLs, checked against draft 4, and added to one ajv instance (compiled on first use).
 */
export class ModelRegistry {
  readonly ajv: AjvInstance
  /** `https://apigateway.amazonaws.com/restapis/{api.id}/models/`. */
  readonly base: string
  /** Model name → rewritten schema, for models without problems. */
  readonly schemas = new Map<string, AnySchemaObject>()
  /** Model name → the model names it references. */
  readonly references = new Map<string, Set<string>>()
  /** Model name → its problems (invalid schema, unresolved $ref). */
  readonly problems = new Map<string, ConfigProblem[]>()
  readonly #compiled = new Map<string, ValidateFunction>()
  readonly #regexps = new Map<string, RegExp>()

  constructor(api: ApiSource, modelsPointer: string) {
    this.base = MODEL_URL_PREFIX + encodeURIComponent(api.id) + '/models/'
    this.ajv = new Ajv({
      strict: false, // OpenAPI adds keywords (nullable, example, …) that draft 4 ignores, as API Gateway does
      logger: false,
      unicodeRegExp: false, // `pattern` is an ECMA 262 regex without the u flag (Rhino in the Java validator)
      multipleOfPrecision: 12,
      allErrors: false, // the error text comes from the walk below; the fast path stops at the first error
    })
    for (const [name, f] of FORMATS) this.ajv.addFormat(name, f.test)
    for (const [name, raw] of Object.entries(api.models)) {
      const ptr = pointerJoin(modelsPointer, name)
      const problems: ConfigProblem[] = []
      const refs = new Set<string>()
      const add = (pointer: string, message: string) =>
        problems.push({ code: Codes.MODEL, file: api.file, pointer, message, severity: 'error' })
      if (!isRecord(raw)) {
        add(ptr, `model ${JSON.stringify(name)} must be a JSON schema object`)
        this.problems.set(name, problems)
        continue
      }
      const schema = this.#rewrite(raw, raw, ptr, api.models, refs, add, true) as AnySchemaObject
      const meta = metaValidator()
      if (!meta.validateSchema(schema)) {
        // One problem per place: ajv reports each failed anyOf branch and the anyOf itself.
        const byPath = new Map<string, string[]>()
        for (const e of meta.errors ?? []) {
          const allowed = Array.isArray(e.params.allowedValues) ? ` ${JSON.stringify(e.params.allowedValues)}` : ''
          const text = (e.message ?? 'is invalid') + allowed
          const list = byPath.get(e.instancePath) ?? []
          if (!list.includes(text)) list.push(text)
          byPath.set(e.instancePath, list)
        }
        for (const [path, texts] of byPath) add(ptr + path, `invalid draft-04 schema: ${texts.join('; ')}`)
      }
      this.references.set(name, refs)
      if (problems.length > 0) {
        this.problems.set(name, problems)
        continue
      }
      try {
        this.ajv.addSchema(schema, this.base + encodeURIComponent(name))
      } catch (e) {
        add(ptr, `model cannot be registered: ${(e as Error).message}`)
        this.problems.set(name, problems)
        continue
      }
      this.schemas.set(name, schema)
    }
  }

  /** Deep copy of a model with `$schema` dropped and every `$ref` made resolvable. */
  #rewrite(
    node: unknown,
    modelRoot: Record<string, unknown>,
    ptr: string,
    models: Readonly<Record<string, unknown>>,
    refs: Set<string>,
    add: (pointer: string, message: string) => void,
    atRoot: boolean,
  ): unknown {
    if (Array.isArray(node)) return node.map((v, i) => this.#rewrite(v, modelRoot, pointerJoin(ptr, i), models, refs, add, false))
    if (!isRecord(node)) return node
    const out: Record<string, unknown> = {}
    // Draft 4: a schema with $ref is only that reference; ajv 8 would apply its siblings.
    // `definitions` stays, for local refs into it.
    const entries = typeof node.$ref === 'string' ? Object.entries(node).filter(([k]) => k === '$ref' || k === 'definitions') : Object.entries(node)
    for (const [k, v] of entries) {
      if (atRoot && (k === '$schema' || k === 'id' || k === '$id')) continue // the model URL is its id; draft 4 is implied
      if (k === '$ref' && typeof v === 'string') {
        out[k] = this.#rewriteRef(v, modelRoot, pointerJoin(ptr, k), models, refs, add)
      } else if (DATA_KEYWORDS.has(k)) {
        out[k] = v
      } else {
        out[k] = this.#rewrite(v, modelRoot, pointerJoin(ptr, k), models, refs, add, false)
      }
    }
    return out
  }

  /**
   * `#/definitions/X…` and `#/components/schemas/X…` name model X when X is a model of the API
   * (the API file is the document they point into); API Gateway's model URL names model X
   * whatever its restapi id. Any other `#…` stays local to the model and must resolve in it.
   */
  #rewriteRef(
    ref: string,
    modelRoot: Record<string, unknown>,
    ptr: string,
    models: Readonly<Record<string, unknown>>,
    refs: Set<string>,
    add: (pointer: string, message: string) => void,
  ): string {
    let name: string | null = null
    let rest = ''
    const local = /^#\/(?:definitions|components\/schemas)\/([^/]+)(\/.*)?$/.exec(ref)
    if (local !== null) {
      const n = unescapePointerToken(local[1]!)
      if (Object.hasOwn(models, n)) {
        name = n
        rest = local[2] ?? ''
      }
    } else if (ref.startsWith(MODEL_URL_PREFIX)) {
      const m = /^https:\/\/apigateway\.amazonaws\.com\/restapis\/[^/]+\/models\/([^/#]+)(?:#(.*))?$/.exec(ref)
      if (m === null || !Object.hasOwn(models, safeDecode(m[1]!))) {
        add(ptr, `unresolved $ref ${JSON.stringify(ref)}: no such model`)
        return ref
      }
      name = safeDecode(m[1]!)
      rest = m[2] ?? ''
    }
    if (name !== null) {
      refs.add(name)
      return this.base + encodeURIComponent(name) + (rest === '' ? '' : '#' + rest)
    }
    if (ref === '#' || (ref.startsWith('#/') && resolvePointer(modelRoot, ref.slice(1)) !== undefined)) return ref
    add(ptr, `unresolved $ref ${JSON.stringify(ref)}`)
    return ref
  }

  /** Problems of a model and of every model it reaches through $ref. */
  problemsOf(name: string): ConfigProblem[] {
    const out: ConfigProblem[] = []
    const seen = new Set<string>()
    const visit = (n: string) => {
      if (seen.has(n)) return
      seen.add(n)
      const p = this.problems.get(n)
      if (p !== undefined) out.push(...p)
      for (const r of this.references.get(n) ?? []) visit(r)
    }
    visit(name)
    return out
  }

  /** The compiled validator of a model (compiled once). Throws what ajv throws. */
  compile(name: string): ValidateFunction {
    let v = this.#compiled.get(name)
    if (v === undefined) {
      v = this.ajv.getSchema(this.base + encodeURIComponent(name))
      if (v === undefined) throw new Error(`model ${JSON.stringify(name)} is not registered`)
      this.#compiled.set(name, v)
    }
    return v
  }

  /** Resolves a rewritten $ref against the model it appears in: → [schema, its model root]. */
  resolve(ref: string, root: unknown): [unknown, unknown] | null {
    let target: unknown = root
    let fragment = ref
    if (!ref.startsWith('#')) {
      const hash = ref.indexOf('#')
      const url = hash < 0 ? ref : ref.slice(0, hash)
      fragment = hash < 0 ? '#' : ref.slice(hash)
      if (!url.startsWith(this.base)) return null
      target = this.schemas.get(safeDecode(url.slice(this.base.length)))
      if (target === undefined) return null
    }
    const schema = fragment === '#' ? target : resolvePointer(target, fragment.slice(1))
    return schema === undefined ? null : [schema, target]
  }

  /** Cached RegExp of a `pattern` / `patternProperties` key (ECMA 262, no flags). */
  regexp(source: string): RegExp {
    let r = this.#regexps.get(source)
    if (r === undefined) {
      r = new RegExp(source)
      this.#regexps.set(source, r)
    }
    return r
  }
}

function unescapePointerToken(t: string): string {
  return safeDecode(t.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** RFC 6901 pointer ('' or '/a/b') into a JSON value; undefined when it goes nowhere. */
function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc
  let cur: unknown = doc
  for (const raw of pointer.slice(1).split('/')) {
    const token = unescapePointerToken(raw)
    if (Array.isArray(cur)) cur = cur[Number(token)]
    else if (isRecord(cur) && Object.hasOwn(cur, token)) cur = cur[token]
    else return undefined
  }
  return cur
}

const registries = new WeakMap<ApiSource, ModelRegistry>()

/** The API's model registry, built on first use and shared by all its methods. */
export function compileModelRegistry(api: ApiSource, options: CompileValidationOptions = {}): ModelRegistry {
  let r = registries.get(api)
  if (r === undefined) {
    r = new ModelRegistry(api, options.modelsPointer ?? '/definitions')
    registries.set(api, r)
  }
  return r
}

/**
 * Every problem of every model of the API (invalid draft-04 schema, unresolved $ref), used or
 * not, each once: what `backplane check` reports. compileRequestValidation() throws only those
 * of the models a method uses.
 */
export function modelProblems(api: ApiSource, options: CompileValidationOptions = {}): ConfigProblem[] {
  return [...compileModelRegistry(api, options).problems.values()].flat()
}

/** Lower-case media type without parameters: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaTypeOf(value: string): string {
  const semi = value.indexOf(';')
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase()
}

const LOCATION_ORDER = { header: 0, path: 1, query: 2 } as const

/**
 * Compiles a method's request validation. Returns null when no validator is in force or it
 * has nothing to check. Throws a ConfigError carrying every problem found (unknown validator,
 * unknown model, invalid model schema, unresolved $ref), each with a JSON pointer.
 */
export function compileRequestValidation(
  api: ApiSource,
  op: OperationSource,
  options: CompileValidationOptions = {},
): CompiledValidation | null {
  const name = op.requestValidator
  if (name === null) return null
  const problems: ConfigProblem[] = []
  const validatorPtr = pointerJoin(op.pointer, 'x-amazon-apigateway-request-validator')
  const source = Object.hasOwn(api.requestValidators, name) ? api.requestValidators[name] : undefined
  if (source === undefined) {
    throw new ConfigError([{ code: Codes.SHAPE, file: api.file, pointer: validatorPtr, message: `names no validator of x-amazon-apigateway-request-validators: ${JSON.stringify(name)}`, severity: 'error' }])
  }

  // Parameters: which are required. The message order is not documented; this is
  // method.request.{location}.{name} sorted (header, path, querystring, then by name).
  const requiredParameters: RequiredParameter[] = []
  if (source.validateRequestParameters) {
    for (const p of op.parameters) {
      if (p.required) requiredParameters.push(Object.freeze({ in: p.in, name: p.in === 'header' ? p.name.toLowerCase() : p.name }))
    }
    requiredParameters.sort((a, b) => LOCATION_ORDER[a.in] - LOCATION_ORDER[b.in] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  let bodyModels: Map<string, CompiledModel> | null = null
  if (source.validateRequestBody && Object.keys(op.requestModels).length > 0) {
    const registry = compileModelRegistry(api, options)
    bodyModels = new Map()
    const reported = new Set<ConfigProblem>()
    for (const [contentType, modelName] of Object.entries(op.requestModels)) {
      const key = contentType === DEFAULT_MODEL_CONTENT_TYPE ? contentType : mediaTypeOf(contentType)
      if (!Object.hasOwn(api.models, modelName)) {
        problems.push({ code: Codes.MODEL, file: api.file, pointer: op.pointer, message: `request model for ${JSON.stringify(contentType)} names no model: ${JSON.stringify(modelName)}`, severity: 'error' })
        continue
      }
      const modelProblems = registry.problemsOf(modelName).filter((p) => !reported.has(p))
      if (modelProblems.length > 0) {
        for (const p of modelProblems) reported.add(p)
        problems.push(...modelProblems)
        continue
      }
      try {
        bodyModels.set(key, Object.freeze({ name: modelName, validate: registry.compile(modelName), registry }))
      } catch (e) {
        problems.push({ code: Codes.MODEL, file: api.file, pointer: pointerJoin(options.modelsPointer ?? '/definitions', modelName), message: `model does not compile: ${(e as Error).message}`, severity: 'error' })
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems)
  if (requiredParameters.length === 0 && (bodyModels === null || bodyModels.size === 0)) return null
  return Object.freeze({
    validator: name,
    requiredParameters: Object.freeze(requiredParameters),
    bodyModels: bodyModels === null || bodyModels.size === 0 ? null : bodyModels,
  })
}

// ---------------------------------------------------------------------------------------
// Request time
// ---------------------------------------------------------------------------------------

function parameterValue(src: ParameterValues, name: string): string | undefined {
  const v = src instanceof Map ? src.get(name) : Object.hasOwn(src, name) ? (src as Record<string, string | readonly string[] | undefined>)[name] : undefined
  if (v === undefined) return undefined
  if (typeof v === 'string') return v
  return (v as readonly string[]).length === 0 ? undefined : (v as readonly string[])[(v as readonly string[]).length - 1]
}

/**
 * Validates a request. null when it passes; otherwise the gateway response to send.
 * Parameters are checked before the body.
 */
export function validateRequest(v: CompiledValidation, req: ValidationRequest): ValidationFailure | null {
  const params = v.requiredParameters
  if (params.length > 0) {
    let missing: string[] | null = null
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!
      const src = p.in === 'header' ? req.headers : p.in === 'query' ? req.query : req.pathParams
      const value = parameterValue(src, p.name)
      // "included and not blank": an empty value (`?q1=`) counts as missing.
      if (value === undefined || value === '') (missing ??= []).push(p.name)
    }
    if (missing !== null) {
      const message = `Missing required request parameters: [${missing.join(', ')}]`
      return { type: 'BAD_REQUEST_PARAMETERS', message, validationErrorString: message }
    }
  }
  const models = v.bodyModels
  if (models === null) return null
  const ct = req.contentType === null || req.contentType.trim() === '' ? DEFAULT_REQUEST_CONTENT_TYPE : mediaTypeOf(req.contentType)
  const model = models.get(ct) ?? models.get(DEFAULT_MODEL_CONTENT_TYPE)
  if (model === undefined) return null // no model for this content type: not validated
  return validateBody(model, req.body)
}

/** Validates a body against one model: null when valid. */
export function validateBody(model: CompiledModel, body: Uint8Array | null): ValidationFailure | null {
  const text = body === null || body.byteLength === 0 ? EMPTY_BODY_JSON : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return { type: 'BAD_REQUEST_BODY', message: 'Invalid request body', validationErrorString: NOT_JSON_VALIDATION_ERROR }
  }
  if (model.validate(data)) return null
  return { type: 'BAD_REQUEST_BODY', message: 'Invalid request body', validationErrorString: renderValidationErrors(model, data) }
}

/** `[message, message]`: the report of the Java json-schema-validator, as API Gateway renders it. */
export function renderValidationErrors(model: CompiledModel, data: unknown): string {
  const root = model.registry.schemas.get(model.name)
  const msgs: string[] = []
  if (root !== undefined) walk(model.registry, root, root, data, msgs, 0)
  if (msgs.length === 0) for (const e of model.validate.errors ?? []) msgs.push(ajvFallbackMessage(e))
  return '[' + msgs.join(', ') + ']'
}

function ajvFallbackMessage(e: ErrorObject): string {
  return `${e.instancePath === '' ? 'instance' : e.instancePath} ${e.message ?? 'is invalid'}`
}

// ---------------------------------------------------------------------------------------
// The error walk: java-json-tools json-schema-validator 2.2 semantics and texts
// (validation.properties; InstanceValidator; keyword validators).
// ---------------------------------------------------------------------------------------

/** fge NodeType names, in enum order (the order of `allowed` in type errors). */
const NODE_TYPES = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'] as const
type NodeType = (typeof NODE_TYPES)[number]

function nodeType(v: unknown): NodeType {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  switch (typeof v) {
    case 'boolean':
      return 'boolean'
    case 'string':
      return 'string'
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number'
    default:
      return 'object'
  }
}

const isNumeric = (t: NodeType) => t === 'integer' || t === 'number'

/** Jackson's JsonNode.toString() for the values JSON.parse gives. */
const json = (v: unknown) => JSON.stringify(v)

interface FormatCheck {
  readonly test: (s: string) => boolean
  readonly message: (s: string) => string
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,12})?(?:Z|[+-]\d{2}:?\d{2})$/
const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i

/** The draft-4 format attributes the Java validator checks by default, with its messages. */
const FORMATS = new Map<string, FormatCheck>([
  ['date-time', {
    test: (s) => {
      const m = DATE_TIME.exec(s)
      if (m === null) return false
      const [mo, d, h, mi, se] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])]
      return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 59
    },
    message: (s) => `string ${json(s)} is invalid against requested date format(s) [yyyy-MM-dd'T'HH:mm:ssZ, yyyy-MM-dd'T'HH:mm:ss.[0-9]{1,12}Z]`,
  }],
  ['email', { test: (s) => /^[^\s@]+@[^\s@]+$/.test(s), message: (s) => `string ${json(s)} is not a valid email address` }],
  ['hostname', { test: (s) => HOSTNAME.test(s), message: (s) => `string ${json(s)} is not a valid hostname` }],
  ['ipv4', { test: (s) => isIPv4(s), message: (s) => `string ${json(s)} is not a valid IPv4 address` }],
  ['ipv6', { test: (s) => isIPv6(s), message: (s) => `string ${json(s)} is not a valid IPv6 address` }],
  ['uri', { test: (s) => s.length > 0 && !/[\s<>"{}|\\^`]/.test(s), message: (s) => `string ${json(s)} is not a valid URI` }],
  ['regex', {
    test: (s) => {
      try {
        new RegExp(s)
        return true
      } catch {
        return false
      }
    },
    message: (s) => `string ${json(s)} is not a valid ECMA 262 regular expression`,
  }],
])

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a as object)
  const kb = Object.keys(b as object)
  if (ka.length !== kb.length) return false
  for (const k of ka) if (!Object.hasOwn(b as object, k) || !deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

/** One instance against one schema: keywords in alphabetical order (a TreeMap in the Java validator), then children. */
function walk(reg: ModelRegistry, schemaIn: unknown, rootIn: unknown, inst: unknown, msgs: string[], depth: number): void {
  if (depth > MAX_WALK_DEPTH) return
  let s = schemaIn
  let root = rootIn
  for (let i = 0; isRecord(s) && typeof s.$ref === 'string'; i++) {
    if (i >= MAX_REF_CHAIN) return
    const r = reg.resolve(s.$ref, root)
    if (r === null) return
    ;[s, root] = r
  }
  if (!isRecord(s)) return
  const t = nodeType(inst)
  const sub = (schema: unknown): boolean => {
    const m: string[] = []
    walk(reg, schema, root, inst, m, depth + 1)
    return m.length === 0
  }

  // additionalItems (array)
  if (t === 'array' && s.additionalItems === false && Array.isArray(s.items)) {
    const n = (inst as unknown[]).length
    if (n > s.items.length) msgs.push(`schema only allows ${s.items.length} elements in array but instance has ${n} elements`)
  }
  // additionalProperties (object)
  if (t === 'object' && s.additionalProperties === false) {
    const props = isRecord(s.properties) ? s.properties : {}
    const patterns = isRecord(s.patternProperties) ? Object.keys(s.patternProperties) : []
    const unwanted = Object.keys(inst as object)
      .filter((f) => !Object.hasOwn(props, f) && !patterns.some((p) => reg.regexp(p).test(f)))
      .sort()
    if (unwanted.length > 0) msgs.push(`object instance has properties which are not allowed by the schema: ${json(unwanted)}`)
  }
  // allOf / anyOf (any type)
  if (Array.isArray(s.allOf)) {
    const ok = s.allOf.filter(sub).length
    if (ok !== s.allOf.length) msgs.push(`instance failed to match all required schemas (matched only ${ok} out of ${s.allOf.length})`)
  }
  if (Array.isArray(s.anyOf) && !s.anyOf.some(sub)) msgs.push(`instance failed to match at least one required schema among ${s.anyOf.length}`)
  // dependencies (object)
  if (t === 'object' && isRecord(s.dependencies)) {
    const obj = inst as Record<string, unknown>
    for (const key of Object.keys(s.dependencies).sort()) {
      if (!Object.hasOwn(obj, key)) continue
      const dep = s.dependencies[key]
      if (Array.isArray(dep)) {
        const missing = dep.filter((d) => typeof d === 'string' && !Object.hasOwn(obj, d))
        if (missing.length > 0) msgs.push(`property ${json(key)} of object has missing property dependencies (schema requires ${json(dep)}; missing: ${json(missing)})`)
      } else {
        walk(reg, dep, root, inst, msgs, depth + 1)
      }
    }
  }
  // enum (any type)
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, inst))) {
    msgs.push(`instance value (${json(inst)}) not found in enum (possible values: ${json(s.enum)})`)
  }
  // format (strings)
  if (t === 'string' && typeof s.format === 'string') {
    const f = FORMATS.get(s.format)
    if (f !== undefined && !f.test(inst as string)) msgs.push(f.message(inst as string))
  }
  // maxItems, maxLength, maxProperties, maximum
  if (t === 'array' && typeof s.maxItems === 'number' && (inst as unknown[]).length > s.maxItems) {
    msgs.push(`array is too long: must have at most ${s.maxItems} elements but instance has ${(inst as unknown[]).length} elements`)
  }
  if (t === 'string' && typeof s.maxLength === 'number') {
    const n = codePoints(inst as string)
    if (n > s.maxLength) msgs.push(`string ${json(inst)} is too long (length: ${n}, maximum allowed: ${s.maxLength})`)
  }
  if (t === 'object' && typeof s.maxProperties === 'number') {
    const n = Object.keys(inst as object).length
    if (n > s.maxProperties) msgs.push(`object has too many properties (found ${n} but schema requires at most ${s.maxProperties})`)
  }
  if (isNumeric(t) && typeof s.maximum === 'number') {
    const x = inst as number
    if (x > s.maximum) msgs.push(`numeric instance is greater than the required maximum (maximum: ${s.maximum}, found: ${x})`)
    else if (x === s.maximum && s.exclusiveMaximum === true) msgs.push(`numeric instance is not strictly lower than the required maximum ${s.maximum}`)
  }
  // minItems, minLength, minProperties, minimum
  if (t === 'array' && typeof s.minItems === 'number' && (inst as unknown[]).length < s.minItems) {
    msgs.push(`array is too short: must have at least ${s.minItems} elements but instance has ${(inst as unknown[]).length} elements`)
  }
  if (t === 'string' && typeof s.minLength === 'number') {
    const n = codePoints(inst as string)
    if (n < s.minLength) msgs.push(`string ${json(inst)} is too short (length: ${n}, required minimum: ${s.minLength})`)
  }
  if (t === 'object' && typeof s.minProperties === 'number') {
    const n = Object.keys(inst as object).length
    if (n < s.minProperties) msgs.push(`object has too few properties (found ${n} but schema requires at least ${s.minProperties})`)
  }
  if (isNumeric(t) && typeof s.minimum === 'number') {
    const x = inst as number
    if (x < s.minimum) msgs.push(`numeric instance is lower than the required minimum (minimum: ${s.minimum}, found: ${x})`)
    else if (x === s.minimum && s.exclusiveMinimum === true) msgs.push(`numeric instance is not strictly greater than the required minimum ${s.minimum}`)
  }
  // multipleOf
  if (isNumeric(t) && typeof s.multipleOf === 'number' && s.multipleOf !== 0) {
    const q = (inst as number) / s.multipleOf
    if (Math.abs(Math.round(q) - q) > 1e-12) msgs.push(`remainder of division is not zero (${inst as number} / ${s.multipleOf})`)
  }
  // not, oneOf
  if (s.not !== undefined && sub(s.not)) msgs.push('instance matched a schema which it should not have')
  if (Array.isArray(s.oneOf)) {
    const ok = s.oneOf.filter(sub).length
    if (ok !== 1) msgs.push(`instance failed to match exactly one schema (matched ${ok} out of ${s.oneOf.length})`)
  }
  // pattern (string)
  if (t === 'string' && typeof s.pattern === 'string' && !reg.regexp(s.pattern).test(inst as string)) {
    msgs.push(`ECMA 262 regex ${json(s.pattern)} does not match input string ${json(inst)}`)
  }
  // required (object): the Java validator sorts `required`, then reports those absent.
  if (t === 'object' && Array.isArray(s.required)) {
    const obj = inst as object
    const missing = (s.required.filter((r) => typeof r === 'string') as string[]).slice().sort().filter((r) => !Object.hasOwn(obj, r))
    if (missing.length > 0) msgs.push(`object has missing required properties (${json([...new Set(missing)])})`)
  }
  // type (any)
  if (s.type !== undefined) {
    const declared = new Set<string>(Array.isArray(s.type) ? (s.type as string[]) : [s.type as string])
    if (declared.has('number')) declared.add('integer')
    if (!declared.has(t)) {
      msgs.push(`instance type (${t}) does not match any allowed primitive type (allowed: ${json(NODE_TYPES.filter((n) => declared.has(n)))})`)
    }
  }
  // uniqueItems (array)
  if (t === 'array' && s.uniqueItems === true) {
    const a = inst as unknown[]
    outer: for (let i = 0; i < a.length; i++) {
      for (let j = i + 1; j < a.length; j++) {
        if (deepEqual(a[i], a[j])) {
          msgs.push('array must not contain duplicate elements')
          break outer
        }
      }
    }
  }

  // The report is shared: once it holds an error, children are not visited (InstanceValidator).
  if (msgs.length > 0) return
  if (t === 'object') {
    const obj = inst as Record<string, unknown>
    const props = isRecord(s.properties) ? s.properties : null
    const patterns = isRecord(s.patternProperties) ? s.patternProperties : null
    const additional = isRecord(s.additionalProperties) ? s.additionalProperties : null
    for (const field of Object.keys(obj).sort()) {
      let matched = false
      if (props !== null && Object.hasOwn(props, field)) {
        matched = true
        walk(reg, props[field], root, obj[field], msgs, depth + 1)
      }
      if (patterns !== null) {
        for (const p of Object.keys(patterns)) {
          if (reg.regexp(p).test(field)) {
            matched = true
            walk(reg, patterns[p], root, obj[field], msgs, depth + 1)
          }
        }
      }
      if (!matched && additional !== null) walk(reg, additional, root, obj[field], msgs, depth + 1)
    }
  } else if (t === 'array') {
    const arr = inst as unknown[]
    for (let i = 0; i < arr.length; i++) {
      if (isRecord(s.items)) walk(reg, s.items, root, arr[i], msgs, depth + 1)
      else if (Array.isArray(s.items)) {
        if (i < s.items.length) walk(reg, s.items[i], root, arr[i], msgs, depth + 1)
        else if (isRecord(s.additionalItems)) walk(reg, s.additionalItems, root, arr[i], msgs, depth + 1)
      }
    }
  }
}

/** String length in code points, as the Java validator (and JSON Schema) count it. */
function codePoints(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}
