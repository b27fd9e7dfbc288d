// The Lambda proxy integration (AWS_PROXY) for REST APIs: the event API Gateway sends
// (payload format 1.0) and the result it expects back.
//
// Pinned facts (API Gateway developer guide, "Input format of a Lambda function for proxy
// integration" and "Output format of a Lambda function for proxy integration"; the live
// captures quoted in test/unit/functions/event.test.ts):
// - `headers` / `queryStringParameters` hold one value per name: the last one received;
//   `multiValueHeaders` / `multiValueQueryStringParameters` hold them all, in order.
// - Absent maps are null, never {}: no query string → both query maps null; no path
//   parameters → pathParameters null; no stage variables → stageVariables null.
// - Header names are kept as given (the pipeline passes them as the client sent them, as far
//   as the front knows them; see lambdaEventHeaders in integrations/headers.ts).
// - Query names and values are form-decoded (`+` is a space); path parameters, `path` and
//   `requestContext.path` keep the percent-encoding of the request line (LocalStack's
//   AWS-validated test_lambda_aws_proxy_integration: `test%2Balias@gmail.com` stays so in
//   pathParameters; serverless/serverless#5037: `%40` arrives as `%40`).
// - `body` is null without a payload; a binary payload (binaryMediaTypes) is base64 with
//   isBase64Encoded true; any other payload is UTF-8 text.
// - The result must be a JSON object with only statusCode, headers, multiValueHeaders, body,
//   isBase64Encoded; body must be a string. Anything else is "Malformed Lambda proxy
//   response" (502). Recorded (test_aws_proxy_response_payload_format_validation): no
//   statusCode answers 200; a name in both header maps sends the multiValueHeaders values,
//   then the headers value, under the multiValueHeaders spelling; header values may be JSON
//   scalars (true → "true"); a string statusCode ("201") is read as a number.
import { Codes } from '../errors.js'
import { parseQuery } from '../util/query.js'
import { formatRequestTime } from '../util/request-time.js'
import { domainPrefix } from '../util/domain-prefix.js'

export { formatRequestTime }

/** What the pipeline knows about a request when it calls a Lambda proxy integration. */
export interface ProxyEventInput {
  /** Upper-case HTTP method of the request (never ANY). */
  readonly method: string
  /** `path` of the event: the request path without the stage prefix, still percent-encoded. */
  readonly path: string
  /** requestContext.path: the path as the client sent it (stage or base path included). */
  readonly requestPath: string
  /** Raw query string without '?', '' when absent. */
  readonly query: string
  /** Header pairs as received: [name0, value0, …]. */
  readonly headers: readonly string[]
  /** Request payload, or null when empty. */
  readonly body: Uint8Array | null
  /** True when the payload's Content-Type matched the API's binaryMediaTypes. */
  readonly isBinary: boolean
  /** Resource path as declared (/pets/{petId}); `resource` and requestContext.resourcePath. */
  readonly resourcePath: string
  /** requestContext.resourceId. */
  readonly resourceId: string
  /** Decoded path parameters, or null when the resource has none. */
  readonly pathParameters: Readonly<Record<string, string>> | null
  readonly stage: string
  /** The stage's variables, or null when it has none. */
  readonly stageVariables: Readonly<Record<string, string>> | null
  readonly requestId: string
  readonly extendedRequestId: string
  readonly accountId: string
  readonly apiId: string
  /** requestContext.deploymentId. */
  readonly deploymentId: string
  /** Host the request was addressed to (requestContext.domainName). */
  readonly domainName: string
  readonly sourceIp: string
  /** Epoch milliseconds at which the request was received. */
  readonly requestTimeEpoch: number
  /** 'HTTP/1.1'. */
  readonly protocol: string
  /** requestContext.authorizer (principalId, claims, context keys…), or null without an authorizer. */
  readonly authorizer: Readonly<Record<string, unknown>> | null
  /** Identity fields known to the pipeline (apiKey, apiKeyId, …), laid over the null defaults. */
  readonly identity: Readonly<Record<string, string | null>> | null
}

export interface ProxyEvent {
  resource: string
  path: string
  httpMethod: string
  headers: Record<string, string> | null
  multiValueHeaders: Record<string, string[]> | null
  queryStringParameters: Record<string, string> | null
  multiValueQueryStringParameters: Record<string, string[]> | null
  pathParameters: Record<string, string> | null
  stageVariables: Record<string, string> | null
  requestContext: Record<string, unknown>
  body: string | null
  isBase64Encoded: boolean
}



/** Builds the payload format 1.0 event API Gateway sends a Lambda proxy integration. */
export function buildProxyEvent(input: ProxyEventInput): ProxyEvent {
  let headers: Record<string, string> | null = null
  let multiValueHeaders: Record<string, string[]> | null = null
  let userAgent: string | null = null
  const h = input.headers
  if (h.length > 0) {
    headers = Object.create(null) as Record<string, string>
    multiValueHeaders = Object.create(null) as Record<string, string[]>
    for (let i = 0; i + 1 < h.length; i += 2) {
      const name = h[i]!
      const value = h[i + 1]!
      headers[name] = value // the last value wins
      const list = multiValueHeaders[name]
      if (list === undefined) multiValueHeaders[name] = [value]
      else list.push(value)
      if (userAgent === null && name.length === 10 && name.toLowerCase() === 'user-agent') userAgent = value
    }
    headers = { ...headers }
    multiValueHeaders = { ...multiValueHeaders }
  }

  let queryStringParameters: Record<string, string> | null = null
  let multiValueQueryStringParameters: Record<string, string[]> | null = null
  if (input.query !== '') {
    const single = Object.create(null) as Record<string, string>
    const multi = Object.create(null) as Record<string, string[]>
    let any = false
    for (const [name, values] of parseQuery(input.query)) {
      single[name] = values[values.length - 1]! // the last value wins
      multi[name] = values
      any = true
    }
    if (any) {
      queryStringParameters = { ...single }
      multiValueQueryStringParameters = { ...multi }
    }
  }

  const identity = eventIdentity(input, userAgent)

  const requestContext: Record<string, unknown> = {
    resourceId: input.resourceId,
    resourcePath: input.resourcePath,
    httpMethod: input.method,
    extendedRequestId: input.extendedRequestId,
    requestTime: formatRequestTime(input.requestTimeEpoch),
    path: input.requestPath,
    accountId: input.accountId,
    protocol: input.protocol,
    stage: input.stage,
    domainPrefix: domainPrefix(input.domainName),
    deploymentId: input.deploymentId,
    requestTimeEpoch: input.requestTimeEpoch,
    requestId: input.requestId,
    identity,
    domainName: input.domainName,
    apiId: input.apiId,
  }
  if (input.authorizer !== null) requestContext['authorizer'] = { ...input.authorizer }

  let body: string | null = null
  let isBase64Encoded = false
  if (input.body !== null && input.body.byteLength > 0) {
    const b = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
    if (input.isBinary) {
      body = b.toString('base64')
      isBase64Encoded = true
    } else {
      body = b.toString('utf8')
    }
  }

  return {
    resource: input.resourcePath,
    path: input.path,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: input.pathParameters === null ? null : { ...input.pathParameters },
    stageVariables: input.stageVariables === null ? null : { ...input.stageVariables },
    requestContext,
    body,
    isBase64Encoded,
  }
}

const encoder = new TextEncoder()

/** requestContext.identity: API Gateway's null fields, the source IP and user agent, then the caller's own fields over them. */
function eventIdentity(input: ProxyEventInput, userAgent: string | null): Record<string, string | null> {
  const identity: Record<string, string | null> = {
    cognitoIdentityPoolId: null,
    accountId: null,
    cognitoIdentityId: null,
    caller: null,
    sourceIp: input.sourceIp,
    principalOrgId: null,
    accessKey: null,
    cognitoAuthenticationType: null,
    cognitoAuthenticationProvider: null,
    userArn: null,
    userAgent,
    user: null,
  }
  if (input.identity !== null) Object.assign(identity, input.identity)
  return identity
}

/** The event as the bytes to invoke the function with. */
export function encodeProxyEvent(input: ProxyEventInput): Uint8Array {
  return encoder.encode(proxyEventJson(input))
}

/** A name JavaScript objects order before the others (an array index): JSON.stringify's key order then differs from arrival order. */
export function isIndexName(name: string): boolean {
  const c = name.charCodeAt(0)
  return c >= 48 && c <= 57 && /^(?:0|[1-9]\d{0,9})$/.test(name) && Number(name) < 4294967295
}

/**
 * JSON.stringify of a string, for the event's short fields: most need no escape, and a scan in
 * JavaScript costs less than the call into the runtime (measured on the aws_proxy route: the
 * event's forty-odd JSON.stringify calls were 6 % of the worker's time).
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // Control characters, '"', '\\' and surrogates (JSON.stringify escapes lone ones).
    if (c < 0x20 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return '"' + s + '"'
}

/**
 * JSON.stringify(buildProxyEvent(input)), byte for byte, written directly: no event object, no
 * copies of the header maps (measured on the aws_proxy route: building and stringifying the
 * event cost about a quarter of the worker's time per invocation). Names that objects would
 * reorder (array indexes) take the object path.
 */
export function proxyEventJson(input: ProxyEventInput): string {
  const h = input.headers
  let userAgent: string | null = null
  let headers = 'null'
  let multiValueHeaders = 'null'
  if (h.length > 1) {
    headers = '{'
    multiValueHeaders = '{'
    for (let i = 0; i + 1 < h.length; i += 2) {
      const name = h[i]!
      if (isIndexName(name)) return JSON.stringify(buildProxyEvent(input))
      let seen = false
      for (let k = 0; k < i; k += 2) {
        if (h[k] === name) {
          seen = true
          break
        }
      }
      if (seen) continue // written at its first occurrence
      if (userAgent === null && name.length === 10 && name.toLowerCase() === 'user-agent') userAgent = h[i + 1]!
      const key = jsonString(name)
      let last = h[i + 1]!
      let list = jsonString(last)
      for (let j = i + 2; j + 1 < h.length; j += 2) {
        if (h[j] === name) {
          last = h[j + 1]!
          list += ',' + jsonString(last)
        }
      }
      if (headers.length > 1) {
        headers += ','
        multiValueHeaders += ','
      }
      headers += key + ':' + jsonString(last)
      multiValueHeaders += key + ':[' + list + ']'
    }
    headers += '}'
    multiValueHeaders += '}'
  } else if (h.length === 1) {
    return JSON.stringify(buildProxyEvent(input)) // an odd list: the object path decides
  }

  let query = 'null'
  let multiQuery = 'null'
  if (input.query !== '') {
    for (const [name, values] of parseQuery(input.query)) {
      if (isIndexName(name)) return JSON.stringify(buildProxyEvent(input))
      const key = jsonString(name)
      if (query === 'null') {
        query = '{'
        multiQuery = '{'
      } else {
        query += ','
        multiQuery += ','
      }
      query += key + ':' + jsonString(values[values.length - 1]!)
      multiQuery += key + ':' + JSON.stringify(values)
    }
    if (query !== 'null') {
      query += '}'
      multiQuery += '}'
    }
  }

  // The identity as buildProxyEvent makes it: its fixed keys written here unless fields are added.
  let identity: string
  if (input.identity === null) {
    identity = '{"cognitoIdentityPoolId":null,"accountId":null,"cognitoIdentityId":null,"caller":null,"sourceIp":' + jsonString(input.sourceIp) +
      ',"principalOrgId":null,"accessKey":null,"cognitoAuthenticationType":null,"cognitoAuthenticationProvider":null,"userArn":null,"userAgent":' +
      (userAgent === null ? 'null' : jsonString(userAgent)) + ',"user":null}'
  } else identity = JSON.stringify(eventIdentity(input, userAgent))

  let requestContext = '{"resourceId":' + jsonString(input.resourceId) +
    ',"resourcePath":' + jsonString(input.resourcePath) +
    ',"httpMethod":' + jsonString(input.method) +
    ',"extendedRequestId":' + jsonString(input.extendedRequestId) +
    ',"requestTime":' + jsonString(formatRequestTime(input.requestTimeEpoch)) +
    ',"path":' + jsonString(input.requestPath) +
    ',"accountId":' + jsonString(input.accountId) +
    ',"protocol":' + jsonString(input.protocol) +
    ',"stage":' + jsonString(input.stage) +
    ',"domainPrefix":' + jsonString(domainPrefix(input.domainName)) +
    ',"deploymentId":' + jsonString(input.deploymentId) +
    ',"requestTimeEpoch":' + String(input.requestTimeEpoch) +
    ',"requestId":' + jsonString(input.requestId) +
    ',"identity":' + identity +
    ',"domainName":' + jsonString(input.domainName) +
    ',"apiId":' + jsonString(input.apiId)
  if (input.authorizer !== null) requestContext += ',"authorizer":' + JSON.stringify(input.authorizer)
  requestContext += '}'

  let body = 'null'
  let isBase64Encoded = false
  if (input.body !== null && input.body.byteLength > 0) {
    const b = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
    isBase64Encoded = input.isBinary
    body = JSON.stringify(isBase64Encoded ? b.toString('base64') : b.toString('utf8'))
  }

  return '{"resource":' + jsonString(input.resourcePath) +
    ',"path":' + jsonString(input.path) +
    ',"httpMethod":' + jsonString(input.method) +
    ',"headers":' + headers +
    ',"multiValueHeaders":' + multiValueHeaders +
    ',"queryStringParameters":' + query +
    ',"multiValueQueryStringParameters":' + multiQuery +
    ',"pathParameters":' + (input.pathParameters === null ? 'null' : JSON.stringify(input.pathParameters)) +
    ',"stageVariables":' + (input.stageVariables === null ? 'null' : JSON.stringify(input.stageVariables)) +
    ',"requestContext":' + requestContext +
    ',"body":' + body +
    ',"isBase64Encoded":' + (isBase64Encoded ? 'true' : 'false') + '}'
}

/** A function result turned into a method response. */
export interface ProxyResponse {
  readonly kind: 'response'
  readonly statusCode: number
  /** Header pairs in the order the result gave them: [name0, value0, …]. */
  readonly headers: string[]
  /** The body's bytes: base64-decoded when isBase64Encoded and `decodeBase64` allowed it, else its UTF-8 text. */
  readonly body: Uint8Array
}

/** "Execution failed due to configuration error: Malformed Lambda proxy response" (502). */
export interface MalformedProxyResult {
  readonly kind: 'malformed'
  /** Code for logs and metrics. */
  readonly code: typeof Codes.FUNCTION_MALFORMED_RESULT
  /** Why the result was refused, for the execution log. */
  readonly reason: string
}

/** The fields API Gateway accepts in a proxy result (unknown fields make it malformed). */
const RESULT_FIELDS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded'])
const EMPTY = new Uint8Array(0)

function malformed(reason: string): MalformedProxyResult {
  return { kind: 'malformed', code: Codes.FUNCTION_MALFORMED_RESULT, reason }
}

/** Header values and body may be JSON scalars, which API Gateway reads as their text. */
function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return null
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** Inserts `name: value` after the last pair named `name`, keeping a header's values together. */
function insertAfterLast(headers: string[], name: string, value: string): void {
  let at = -1
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) at = i
  headers.splice(at + 2, 0, name, value)
}

/**
 * Reads what a function returned to a Lambda proxy integration: the JSON payload bytes of
 * a successful invocation, or the already-parsed value.
 */
export function parseProxyResult(payload: Uint8Array | unknown, decodeBase64 = true): ProxyResponse | MalformedProxyResult {
  let value: unknown = payload
  if (payload instanceof Uint8Array) {
    try {
      value = JSON.parse(decoder.decode(payload))
    } catch {
      return malformed('the function result is not JSON')
    }
  }
  if (!isPlainObject(value)) {
    return malformed(`the function result must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`)
  }
  for (const key of Object.keys(value)) {
    if (!RESULT_FIELDS.has(key)) return malformed(`unknown field "${key}" in the function result`)
  }

  const sc = value['statusCode']
  let statusCode: number
  if (sc === undefined || sc === null) statusCode = 200 // recorded: {"headers": {...}} answers 200
  else if (typeof sc === 'number') statusCode = sc
  else if (typeof sc === 'string' && /^\d{3}$/.test(sc)) statusCode = Number(sc)
  else return malformed('statusCode must be an integer')
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    return malformed(`statusCode ${statusCode} is not a valid HTTP status code`)
  }

  const headers: string[] = []
  const single = value['headers']
  const multi = value['multiValueHeaders']
  /** lower-case name → the spelling multiValueHeaders used (null without multiValueHeaders: nothing to merge into). */
  let multiNames: Map<string, string> | null = null
  if (multi !== undefined && multi !== null) {
    multiNames = new Map<string, string>()
    if (!isPlainObject(multi)) return malformed('multiValueHeaders must be an object of string arrays')
    for (const name of Object.keys(multi)) {
      const list = multi[name]
      if (list === null) continue
      if (!Array.isArray(list)) return malformed(`multiValueHeaders "${name}" must be an array of strings`)
      for (const v of list) {
        const text = scalarText(v)
        if (text === null) return malformed(`multiValueHeaders "${name}" must be an array of strings`)
        headers.push(name, text)
      }
      multiNames.set(name.toLowerCase(), name)
    }
  }
  if (single !== undefined && single !== null) {
    if (!isPlainObject(single)) return malformed('headers must be an object of strings')
    for (const name of Object.keys(single)) {
      const v = single[name]
      if (v === null) continue
      const text = scalarText(v)
      if (text === null) return malformed(`header "${name}" must be a string`)
      // Both maps name it: the value joins the multi values, under their spelling.
      const spelled = multiNames === null ? undefined : multiNames.get(name.toLowerCase())
      if (spelled === undefined) headers.push(name, text)
      else insertAfterLast(headers, spelled, text)
    }
  }

  const b64 = value['isBase64Encoded']
  if (b64 !== undefined && b64 !== null && typeof b64 !== 'boolean') return malformed('isBase64Encoded must be a boolean')
  const rawBody = value['body']
  let body: Uint8Array = EMPTY
  if (rawBody !== undefined && rawBody !== null) {
    const text = scalarText(rawBody)
    if (text === null) return malformed('body must be a string (JSON.stringify an object body)')
    // The guide: a base64 body is decoded only for a binary response (binaryMediaTypes
    // matching the request's Accept); otherwise the base64 text is the body (recorded:
    // "invoke-api-b64-encoded-true" answers "dGVzdC1kYXRh").
    body = b64 === true && decodeBase64 ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8')
  }
  return { kind: 'response', statusCode, headers, body }
}
