// Method request validation. Each test names the developer-guide page whose fact it pins;
// validationErrorString texts are the java-json-tools json-schema-validator 2.2 messages
// (validation.properties) that API Gateway reports, e.g.
// `[object has missing required properties (["name"])]`.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import type { ApiSource, OperationSource, ParameterSource } from '../../../src/config/model.js'
import { ConfigError } from '../../../src/errors.js'
import {
  compileRequestValidation,
  validateRequest,
  mediaTypeOf,
  modelProblems,
  NOT_JSON_VALIDATION_ERROR,
  type ValidationRequest,
  type CompiledValidation,
} from '../../../src/method-request/validation.js'

const sample = JSON.parse(readFileSync(new URL('../../fixtures/apis/validation-sample.json', import.meta.url), 'utf8'))

let apiSeq = 0
function api(over: Partial<ApiSource> = {}): ApiSource {
  return {
    id: `api${++apiSeq}`,
    title: 't',
    file: 'api.json',
    basePath: '',
    apiKeySource: 'HEADER',
    binaryMediaTypes: [],
    minimumCompressionSize: null,
    gatewayResponses: {},
    requestValidators: sample['x-amazon-apigateway-request-validators'],
    models: sample.definitions,
    modelsPointer: '/definitions',
    securitySchemes: {},
    securitySchemesPointer: '/securityDefinitions',
    resourcePolicy: null,
    operations: [],
    stages: [],
    ...over,
  }
}

function op(over: Partial<OperationSource> = {}): OperationSource {
  return {
    path: '/validation',
    method: 'POST',
    operationId: null,
    parameters: [],
    requestModels: {},
    requestValidator: null,
    security: [],
    securityPointer: '',
    authType: null,
    apiKeyRequired: false,
    methodResponses: {},
    integration: null,
    protobuf: null,
    pointer: '/paths/~1validation/post',
    ...over,
  }
}

const h1: ParameterSource = { in: 'header', name: 'h1', required: true }
const q1: ParameterSource = { in: 'query', name: 'q1', required: true }

function req(over: Partial<Omit<ValidationRequest, 'body'>> & { body?: string | Uint8Array | null } = {}): ValidationRequest {
  const b = over.body
  return {
    contentType: 'contentType' in over ? over.contentType! : 'application/json',
    body: b === undefined || b === null ? null : typeof b === 'string' ? new TextEncoder().encode(b) : b,
    query: over.query ?? {},
    headers: over.headers ?? {},
    pathParams: over.pathParams ?? {},
  }
}

/** The sample API's POST /validation, validator `all`. */
function samplePost(): CompiledValidation {
  const v = compileRequestValidation(api(), op({ parameters: [h1], requestModels: { 'application/json': 'RequestBodyModel' }, requestValidator: 'all' }))
  if (v === null) throw new Error('expected a validation')
  return v
}

/** A compiled body-only validation of one inline model. */
function bodyOnly(schema: unknown, extraModels: Record<string, unknown> = {}): CompiledValidation {
  const v = compileRequestValidation(
    api({ models: { M: schema, ...extraModels }, requestValidators: { body: { validateRequestBody: true, validateRequestParameters: false } } }),
    op({ requestModels: { 'application/json': 'M' }, requestValidator: 'body' }),
  )
  if (v === null) throw new Error('expected a validation')
  return v
}

function errorString(v: CompiledValidation, body: string): string | null {
  const r = validateRequest(v, req({ body }))
  return r === null ? null : r.validationErrorString
}

t.test('"Test basic request validation": the sample API answers as the guide shows', async (t) => {
  const getV = compileRequestValidation(api(), op({ method: 'GET', parameters: [q1], requestValidator: 'params-only' }))!
  t.equal(validateRequest(getV, req({ query: { q1: 'cat' } })), null, 'GET /validation?q1=cat passes')
  t.strictSame(validateRequest(getV, req({ query: {} })), {
    type: 'BAD_REQUEST_PARAMETERS',
    message: 'Missing required request parameters: [q1]',
    validationErrorString: 'Missing required request parameters: [q1]',
  }, 'GET /validation → 400 Missing required request parameters: [q1]')
  t.match(validateRequest(getV, req({ query: { q1: '' } })), { type: 'BAD_REQUEST_PARAMETERS', message: 'Missing required request parameters: [q1]' }, 'GET /validation?q1= (blank) → same 400')

  const post = samplePost()
  const good = '{"name":"Marco","type":"dog","price":260}'
  t.equal(validateRequest(post, req({ headers: { h1: 'v1' }, body: good })), null, 'POST with h1 and a conforming body passes')
  t.match(validateRequest(post, req({ body: good })), { type: 'BAD_REQUEST_PARAMETERS', message: 'Missing required request parameters: [h1]' }, 'POST without h1 → 400 [h1]')
  t.match(validateRequest(post, req({ headers: { h1: '' }, body: good })), { message: 'Missing required request parameters: [h1]' }, 'POST with h1 blank → 400 [h1]')
  t.strictSame(validateRequest(post, req({ headers: { h1: 'v1' }, body: '{"name":"Molly","type":"bird","price":269}' })), {
    type: 'BAD_REQUEST_BODY',
    message: 'Invalid request body',
    validationErrorString: '[instance value ("bird") not found in enum (possible values: ["dog","cat","fish"])]',
  }, 'type "bird" → 400 Invalid request body')
  t.match(validateRequest(post, req({ headers: { h1: 'v1' }, body: '{"name":"Molly","type":"dog","price":501}' })), {
    type: 'BAD_REQUEST_BODY',
    message: 'Invalid request body',
    validationErrorString: '[numeric instance is greater than the required maximum (maximum: 500, found: 501)]',
  }, 'price 501 → 400 Invalid request body')
})

t.test('"x-amazon-apigateway-request-validator": what the validator in force turns on', async (t) => {
  t.equal(compileRequestValidation(api(), op({ parameters: [h1], requestValidator: null })), null, 'no validator → nothing to check')
  t.equal(compileRequestValidation(api({ requestValidators: { none: { validateRequestBody: false, validateRequestParameters: false } } }), op({ parameters: [h1], requestModels: { 'application/json': 'RequestBodyModel' }, requestValidator: 'none' })), null, 'a validator with both flags off → null')
  const paramsOnly = compileRequestValidation(api(), op({ parameters: [h1], requestModels: { 'application/json': 'RequestBodyModel' }, requestValidator: 'params-only' }))!
  t.equal(paramsOnly.bodyModels, null, 'params-only does not validate the body')
  t.equal(validateRequest(paramsOnly, req({ headers: { h1: 'x' }, body: '{}' })), null)
  const bodyOnlyV = compileRequestValidation(api({ requestValidators: { b: { validateRequestBody: true, validateRequestParameters: false } } }), op({ parameters: [h1], requestModels: { 'application/json': 'RequestBodyModel' }, requestValidator: 'b' }))!
  t.strictSame(bodyOnlyV.requiredParameters, [], 'body-only does not check parameters')
  t.match(validateRequest(bodyOnlyV, req({ body: '{}' })), { type: 'BAD_REQUEST_BODY' })
  t.equal(compileRequestValidation(api(), op({ requestValidator: 'all' })), null, 'nothing required and no model → null')
  t.ok(Object.isFrozen(samplePost()), 'the compiled validation is frozen')
})

t.test('"Request validation for REST APIs": parameters are checked before the body', async (t) => {
  t.match(validateRequest(samplePost(), req({ body: 'not json' })), { type: 'BAD_REQUEST_PARAMETERS' })
})

t.test('missing parameters: every missing one is listed, in a fixed order (header, path, querystring; then by name — order not documented)', async (t) => {
  const v = compileRequestValidation(api(), op({
    parameters: [
      { in: 'query', name: 'zeta', required: true },
      { in: 'query', name: 'alpha', required: true },
      { in: 'header', name: 'X-Token', required: true },
      { in: 'path', name: 'id', required: true },
      { in: 'query', name: 'optional', required: false },
    ],
    requestValidator: 'params-only',
  }))!
  t.equal(validateRequest(v, req())!.message, 'Missing required request parameters: [x-token, id, alpha, zeta]')
  t.equal(validateRequest(v, req({ headers: { 'x-token': 't' }, pathParams: { id: '1' }, query: new Map<string, string | string[]>([['alpha', ['', 'a']], ['zeta', 'z']]) })), null, 'a Map works; a repeated parameter counts by its last value')
  t.equal(validateRequest(v, req({ headers: { 'x-token': 't' }, pathParams: { id: '1' }, query: { alpha: ['a', ''], zeta: 'z' } }))!.message, 'Missing required request parameters: [alpha]', 'last value blank → missing')
})

t.test('"Request validation for REST APIs": the model is chosen by Content-Type', async (t) => {
  const a = api({ models: { J: { type: 'object', required: ['j'] }, X: { type: 'object', required: ['x'] }, D: { type: 'object', required: ['d'] } } })
  const both = compileRequestValidation(a, op({ requestModels: { 'application/json': 'J', 'application/vnd.x+json': 'X' }, requestValidator: 'all' }))!
  t.match(validateRequest(both, req({ contentType: 'application/json; charset=utf-8', body: '{}' })), { validationErrorString: '[object has missing required properties (["j"])]' }, 'parameters of the media type are ignored')
  t.match(validateRequest(both, req({ contentType: 'Application/VND.X+JSON', body: '{}' })), { validationErrorString: '[object has missing required properties (["x"])]' }, 'media types compare case-insensitively')
  t.equal(validateRequest(both, req({ contentType: 'text/plain', body: 'anything' })), null, '"If no matching content type is found, request validation is not performed"')
  t.match(validateRequest(both, req({ contentType: null, body: '{}' })), { validationErrorString: '[object has missing required properties (["j"])]' }, 'no Content-Type → application/json ("Method request behavior for payloads without mapping templates")')
  const withDefault = compileRequestValidation(a, op({ requestModels: { 'application/json': 'J', $default: 'D' }, requestValidator: 'all' }))!
  t.match(validateRequest(withDefault, req({ contentType: 'text/plain', body: '{}' })), { validationErrorString: '[object has missing required properties (["d"])]' }, '"$default" applies to any other content type')
  t.match(validateRequest(withDefault, req({ contentType: 'application/json', body: '{}' })), { validationErrorString: '[object has missing required properties (["j"])]' }, 'an exact content type wins over $default')
})

t.test('bodies that are not JSON, and empty bodies', async (t) => {
  const v = samplePost()
  const headers = { h1: 'v' }
  t.strictSame(validateRequest(v, req({ headers, body: '{"name": ' })), { type: 'BAD_REQUEST_BODY', message: 'Invalid request body', validationErrorString: NOT_JSON_VALIDATION_ERROR }, 'a body that is not JSON is invalid')
  t.strictSame(validateRequest(v, req({ headers, body: gzipSync('{}') })), { type: 'BAD_REQUEST_BODY', message: 'Invalid request body', validationErrorString: NOT_JSON_VALIDATION_ERROR }, 'nor are bytes')
  t.match(validateRequest(v, req({ headers, body: null })), { validationErrorString: '[object has missing required properties (["name","price","type"])]' }, 'an empty body is validated as {}')
  const loose = bodyOnly({ type: 'object' })
  t.equal(validateRequest(loose, req({ body: null })), null, 'an empty body passes a model every object satisfies')
  const sliced = new TextEncoder().encode('xx{"a":1}xx').subarray(2, 9)
  t.equal(validateRequest(loose, req({ body: sliced })), null, 'a Uint8Array view is read at its offset')
})

t.test('validationErrorString: the Java validator messages for common keywords', async (t) => {
  const cases: [string, unknown, string, string][] = [
    ['required (sorted, all missing in one message)', { type: 'object', required: ['b', 'a', 'c'] }, '{"c":1}', '[object has missing required properties (["a","b"])]'],
    ['type', { type: 'integer' }, '"x"', '[instance type (string) does not match any allowed primitive type (allowed: ["integer"])]'],
    ['type number admits integer (and lists it)', { type: ['string', 'number'] }, 'true', '[instance type (boolean) does not match any allowed primitive type (allowed: ["integer","number","string"])]'],
    ['type of a decimal', { type: 'integer' }, '1.5', '[instance type (number) does not match any allowed primitive type (allowed: ["integer"])]'],
    ['enum', { enum: ['a', 1, null] }, '{"k":[1]}', '[instance value ({"k":[1]}) not found in enum (possible values: ["a",1,null])]'],
    ['minimum', { minimum: 1 }, '0', '[numeric instance is lower than the required minimum (minimum: 1, found: 0)]'],
    ['exclusiveMinimum', { minimum: 1, exclusiveMinimum: true }, '1', '[numeric instance is not strictly greater than the required minimum 1]'],
    ['maximum (decimal)', { maximum: 2.5 }, '3.75', '[numeric instance is greater than the required maximum (maximum: 2.5, found: 3.75)]'],
    ['exclusiveMaximum', { maximum: 2, exclusiveMaximum: true }, '2', '[numeric instance is not strictly lower than the required maximum 2]'],
    ['minLength (code points)', { minLength: 3 }, '"a😀"', '[string "a😀" is too short (length: 2, required minimum: 3)]'],
    ['maxLength', { maxLength: 3 }, '"abcd"', '[string "abcd" is too long (length: 4, maximum allowed: 3)]'],
    ['pattern', { pattern: '^[a-z]+$' }, '"ABC"', '[ECMA 262 regex "^[a-z]+$" does not match input string "ABC"]'],
    ['additionalProperties: false (sorted)', { properties: { a: {} }, patternProperties: { '^x-': {} }, additionalProperties: false }, '{"a":1,"z":1,"x-1":1,"b":2}', '[object instance has properties which are not allowed by the schema: ["b","z"]]'],
    ['minItems', { minItems: 2 }, '[1]', '[array is too short: must have at least 2 elements but instance has 1 elements]'],
    ['maxItems', { maxItems: 1 }, '[1,2]', '[array is too long: must have at most 1 elements but instance has 2 elements]'],
    ['uniqueItems', { uniqueItems: true }, '[{"a":1},{"a":1}]', '[array must not contain duplicate elements]'],
    ['additionalItems: false', { items: [{}, {}], additionalItems: false }, '[1,2,3]', '[schema only allows 2 elements in array but instance has 3 elements]'],
    ['minProperties', { minProperties: 2 }, '{"a":1}', '[object has too few properties (found 1 but schema requires at least 2)]'],
    ['maxProperties', { maxProperties: 0 }, '{"a":1}', '[object has too many properties (found 1 but schema requires at most 0)]'],
    ['multipleOf', { multipleOf: 5 }, '7', '[remainder of division is not zero (7 / 5)]'],
    ['allOf', { allOf: [{ type: 'string' }, { minLength: 9 }] }, '"abc"', '[instance failed to match all required schemas (matched only 1 out of 2)]'],
    ['anyOf', { anyOf: [{ type: 'string' }, { type: 'boolean' }] }, '1', '[instance failed to match at least one required schema among 2]'],
    ['oneOf', { oneOf: [{ type: 'integer' }, { minimum: 0 }] }, '1', '[instance failed to match exactly one schema (matched 2 out of 2)]'],
    ['not', { not: { type: 'string' } }, '"s"', '[instance matched a schema which it should not have]'],
    ['dependencies', { dependencies: { a: ['b', 'c'] } }, '{"a":1,"c":1}', '[property "a" of object has missing property dependencies (schema requires ["b","c"]; missing: ["b"])]'],
    ['format email', { format: 'email' }, '"nope"', '[string "nope" is not a valid email address]'],
    ['format date-time', { format: 'date-time' }, '"2024-13-01T00:00:00Z"', `[string "2024-13-01T00:00:00Z" is invalid against requested date format(s) [yyyy-MM-dd'T'HH:mm:ssZ, yyyy-MM-dd'T'HH:mm:ss.[0-9]{1,12}Z]]`],
    ['format ipv4', { format: 'ipv4' }, '"1.2.3"', '[string "1.2.3" is not a valid IPv4 address]'],
  ]
  for (const [what, schema, body, expected] of cases) t.equal(errorString(bodyOnly(schema), body), expected, what)
  t.equal(errorString(bodyOnly({ format: 'email' }), '"a@b.example"'), null, 'a valid email passes')
  t.equal(errorString(bodyOnly({ format: 'no-such-format' }), '"x"'), null, 'unknown formats are ignored')
  t.equal(errorString(bodyOnly({ multipleOf: 0.1 }), '0.3'), null, 'decimal multipleOf is not fooled by binary floating point')
})

t.test('validationErrorString: order and reach of the Java validator report', async (t) => {
  const pet = bodyOnly({
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 2 },
      tags: { type: 'array', items: { type: 'string' } },
      age: { type: 'integer', minimum: 0 },
    },
  })
  t.equal(errorString(pet, '{"age":-1}'), '[object has missing required properties (["name"])]', 'an error on the object stops the walk before its members')
  t.equal(errorString(pet, '{"name":"x","age":-1,"tags":[1,"a",2]}'), '[numeric instance is lower than the required minimum (minimum: 0, found: -1), string "x" is too short (length: 1, required minimum: 2)]', 'members in sorted order; siblings still checked; the array is not entered once the report failed')
  t.equal(errorString(pet, '{"name":"xy","tags":[1,"a",2]}'), '[instance type (integer) does not match any allowed primitive type (allowed: ["string"]), instance type (integer) does not match any allowed primitive type (allowed: ["string"])]', 'every element is checked')
  const multi = bodyOnly({ type: 'string', minLength: 5, pattern: '^a', enum: ['abcdef'] })
  t.equal(errorString(multi, '"b"'), '[instance value ("b") not found in enum (possible values: ["abcdef"]), string "b" is too short (length: 1, required minimum: 5), ECMA 262 regex "^a" does not match input string "b"]', 'keywords of one schema in alphabetical order')
  t.equal(errorString(bodyOnly({ type: 'object', required: ['a'] }), '"str"'), '[instance type (string) does not match any allowed primitive type (allowed: ["object"])]', 'keywords of another type do not apply')
})

t.test('"Data models for REST APIs": models reference each other', async (t) => {
  const models = {
    Pet: { type: 'object', required: ['tag'], properties: { tag: { $ref: '#/definitions/Tag' }, owner: { $ref: 'https://apigateway.amazonaws.com/restapis/fugvjdxtri/models/Owner' } } },
    Tag: { type: 'string', enum: ['a', 'b'] },
    Owner: { type: 'object', properties: { pets: { type: 'array', items: { $ref: '#/components/schemas/Pet' } } } },
    Local: { definitions: { Inner: { type: 'integer' } }, properties: { n: { $ref: '#/definitions/Inner' } } },
  }
  const a = api({ models, requestValidators: { b: { validateRequestBody: true, validateRequestParameters: false } } })
  const v = compileRequestValidation(a, op({ requestModels: { 'application/json': 'Pet' }, requestValidator: 'b' }))!
  t.equal(validateRequest(v, req({ body: '{"tag":"a","owner":{"pets":[{"tag":"b"}]}}' })), null, 'Swagger 2, OAS 3 and API Gateway URL refs, recursive')
  t.equal(validateRequest(v, req({ body: '{"tag":"a","owner":{"pets":[{"tag":"z"}]}}' }))!.validationErrorString, '[instance value ("z") not found in enum (possible values: ["a","b"])]', 'the error walk follows the refs')
  const local = compileRequestValidation(a, op({ requestModels: { 'application/json': 'Local' }, requestValidator: 'b' }))!
  t.equal(validateRequest(local, req({ body: '{"n":"x"}' }))!.validationErrorString, '[instance type (string) does not match any allowed primitive type (allowed: ["integer"])]', '#/definitions/X that is no model resolves inside the model')
  const refSiblings = bodyOnly({ $ref: '#/definitions/T', minLength: 100 }, { T: { type: 'string' } })
  t.equal(validateRequest(refSiblings, req({ body: '"short"' })), null, 'draft 4: keywords beside $ref are ignored')
})

t.test('config errors: every problem, each with a JSON pointer', async (t) => {
  const a = api({
    file: 'bad.json',
    models: {
      Good: { type: 'object' },
      BadType: { type: 'objekt', properties: { a: { minLength: -1 } } },
      BadRef: { properties: { a: { $ref: '#/definitions/Nope' }, b: { $ref: 'https://apigateway.amazonaws.com/restapis/x/models/Missing' }, c: { $ref: 'http://example.com/s.json' } } },
      Uses: { properties: { x: { $ref: '#/definitions/BadRef' } } },
    },
  })
  const err = t.throws(() => compileRequestValidation(a, op({ requestModels: { 'application/json': 'BadType', 'application/xml': 'Uses', 'text/plain': 'Unknown' }, requestValidator: 'all' }), { modelsPointer: '/definitions' })) as ConfigError
  t.type(err, ConfigError)
  t.equal(err.code, 'BP_ERR_CONFIG_INVALID')
  const pointers = err.problems.map((p) => p.pointer)
  t.ok(pointers.includes('/definitions/BadType/type'), 'invalid type keyword')
  t.ok(pointers.includes('/definitions/BadType/properties/a/minLength'), 'invalid minLength, in the same model')
  t.ok(pointers.includes('/definitions/BadRef/properties/a/$ref'), 'unresolved #/definitions ref, reached through Uses')
  t.ok(pointers.includes('/definitions/BadRef/properties/b/$ref'), 'unresolved model URL')
  t.ok(pointers.includes('/definitions/BadRef/properties/c/$ref'), 'external URL')
  t.ok(err.problems.some((p) => p.pointer === '/paths/~1validation/post' && /Unknown/.test(p.message)), 'unknown model name')
  t.ok(err.problems.every((p) => p.file === 'bad.json' && p.severity === 'error'))
  t.throws(() => compileRequestValidation(api(), op({ requestValidator: 'ghost' })), ConfigError, 'an unknown validator name')
  const oas3 = t.throws(() => compileRequestValidation(api({ models: { M: { required: [] } } }), op({ requestModels: { 'application/json': 'M' }, requestValidator: 'all' }), { modelsPointer: '/components/schemas' })) as ConfigError
  t.equal(oas3.problems[0]!.pointer, '/components/schemas/M/required', 'draft 4 requires a non-empty `required` (API Gateway rejects such a model too)')
})

t.test('modelProblems: every model checked once, used or not', async (t) => {
  const a = api({ models: { Ok: { type: 'object' }, Unused: { type: 'nope' }, Dangling: { $ref: '#/definitions/Gone' } } })
  const problems = modelProblems(a, { modelsPointer: '/definitions' })
  t.strictSame(problems.map((p) => p.pointer).sort(), ['/definitions/Dangling/$ref', '/definitions/Unused/type'])
  t.ok(problems.every((p) => p.code === 'BP_ERR_CONFIG_MODEL'))
  t.strictSame(modelProblems(a), problems, 'the registry is built once per API; same answer')
})

t.test('OpenAPI keywords beside draft 4 are ignored, not rejected', async (t) => {
  const v = bodyOnly({ type: 'object', nullable: true, example: { $ref: 'not-a-ref' }, properties: { a: { type: 'string', readOnly: true } } })
  t.equal(validateRequest(v, req({ body: '{"a":"x"}' })), null)
})

t.test('mediaTypeOf', async (t) => {
  t.equal(mediaTypeOf(' Text/HTML ; charset=UTF-8'), 'text/html')
  t.equal(mediaTypeOf('application/json'), 'application/json')
})
