// Execution logs, in API Gateway's wording (its test-invoke logs, as recorded by
// LocalStack's AWS-validated snapshots: "Method request path: {}", "Endpoint response body
// before transformations: …", "Method completed with status: 200"), each line prefixed by
// "(requestId) " as in CloudWatch. Written once the reply has left, from what the request
// recorded on its way: loggingLevel INFO logs the execution, ERROR only the failures (every
// 5xx gets a line saying why), dataTraceEnabled adds headers and bodies.
import type { RequestContext } from '../pipeline/context.js'
import { writerFor } from './log-writer.js'

export const enum Level {
  Off,
  Error,
  Info,
}

/** Where execution logs go (API Gateway writes them to CloudWatch; here, stderr). */
export const EXECUTION_LOG_DESTINATION = 'stderr'
/** API Gateway truncates a logged value past this many characters, marking it "[TRUNCATED]" (seen in its recorded logs). */
export const MAX_LOGGED_VALUE_CHARS = 1024
/** Header values that never reach a log: credentials and session tokens. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'cookie', 'set-cookie', 'x-amz-security-token'])
/** Headers the gateway adds to every reply: not part of the method response proper. */
const GATEWAY_ID_HEADERS = new Set(['x-amzn-requestid', 'x-amz-apigw-id'])

const decoder = new TextDecoder()

function truncate(text: string): string {
  return text.length > MAX_LOGGED_VALUE_CHARS ? text.slice(0, MAX_LOGGED_VALUE_CHARS) + ' [TRUNCATED]' : text
}

/** Header pairs as Java's Map.toString, as API Gateway prints them: {Name=value, Name2=value2}. */
export function formatHeaders(pairs: readonly string[] | null, skip: ReadonlySet<string> | null = null): string {
  if (pairs === null || pairs.length === 0) return '{}'
  let out = ''
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i]!
    const lower = name.toLowerCase()
    if (skip !== null && skip.has(lower)) continue
    out += (out === '' ? '' : ', ') + name + '=' + (SECRET_HEADERS.has(lower) ? '****' : pairs[i + 1]!)
  }
  return truncate('{' + out + '}')
}

function formatMap(entries: Iterable<[string, string]>): string {
  let out = ''
  for (const [k, v] of entries) out += (out === '' ? '' : ', ') + k + '=' + v
  return truncate('{' + out + '}')
}

function formatBody(body: Uint8Array | null): string {
  return body === null ? '' : truncate(decoder.decode(body.byteLength > MAX_LOGGED_VALUE_CHARS * 4 ? body.subarray(0, MAX_LOGGED_VALUE_CHARS * 4) : body))
}

/** Why a 5xx happened, in API Gateway's words where it has some. */
export function failureReason(ctx: RequestContext, status: number): string {
  const why = ctx.integrationError ?? ctx.errorMessage
  switch (ctx.errorType) {
    case 'INTEGRATION_TIMEOUT':
      return 'Execution failed due to a timeout error'
    case 'API_CONFIGURATION_ERROR':
      return `Execution failed due to configuration error: ${ctx.integrationError ?? ctx.errorMessage ?? 'Internal server error'}`
    case null:
      // No gateway response: the backend (or the function) answered with this status itself.
      return ctx.integrationStatus !== 0 ? `Endpoint response status: ${ctx.integrationStatus}; method response status: ${status}` : `Method response status: ${status}`
    default:
      return `Execution failed due to an internal error: ${why ?? ctx.errorType}`
  }
}

/** Writes the request's execution log lines. */
export function writeExecutionLog(ctx: RequestContext, level: Level, dataTrace: boolean, status: number, headers: readonly string[], body: Uint8Array | null): void {
  const w = writerFor(EXECUTION_LOG_DESTINATION)
  const p = '(' + ctx.requestId + ') '
  if (level === Level.Error) {
    w.writeLine(p + failureReason(ctx, status))
    w.writeLine(p + 'Method completed with status: ' + status)
    return
  }
  const req = ctx.request
  w.writeLine(p + 'Extended Request Id: ' + ctx.extendedRequestId)
  w.writeLine(p + 'Starting execution for request: ' + ctx.requestId)
  w.writeLine(p + 'HTTP Method: ' + req.method + ', Resource Path: ' + (ctx.method === null ? ctx.path : ctx.method.resourcePath))
  if (dataTrace) {
    const params = ctx.match === null ? [] : ctx.match.params
    const path: [string, string][] = []
    for (let i = 0; i + 1 < params.length; i += 2) path.push([params[i]!, params[i + 1]!])
    const query: [string, string][] = []
    for (const [k, v] of ctx.queryParameters()) query.push([k, v.join(',')])
    w.writeLine(p + 'Method request path: ' + formatMap(path))
    w.writeLine(p + 'Method request query string: ' + formatMap(query))
    w.writeLine(p + 'Method request headers: ' + formatHeaders(req.headers))
    w.writeLine(p + 'Method request body before transformations: ' + formatBody(ctx.body))
  }
  if (ctx.integrationStart !== 0) {
    if (dataTrace) {
      w.writeLine(p + 'Endpoint request URI: ' + (ctx.endpointUri ?? ''))
      w.writeLine(p + 'Endpoint request headers: ' + formatHeaders(ctx.endpointRequestHeaders))
      w.writeLine(p + 'Endpoint request body after transformations: ' + formatBody(ctx.endpointRequestBody))
    }
    if (ctx.endpointUri !== null) w.writeLine(p + 'Sending request to ' + ctx.endpointUri)
    if (ctx.integrationStatus !== 0) {
      w.writeLine(p + 'Received response. Status: ' + ctx.integrationStatus + ', Integration latency: ' + ctx.integrationLatency + ' ms')
      if (dataTrace) {
        w.writeLine(p + 'Endpoint response headers: ' + formatHeaders(ctx.endpointResponseHeaders))
        w.writeLine(p + 'Endpoint response body before transformations: ' + formatBody(ctx.endpointResponseBody))
      }
    }
  }
  if (ctx.errorType !== null) {
    w.writeLine(p + 'Gateway response type: ' + ctx.errorType + ' with status code: ' + status)
    if (dataTrace) {
      w.writeLine(p + 'Gateway response body: ' + formatBody(body))
      w.writeLine(p + 'Gateway response headers: ' + formatHeaders(headers, GATEWAY_ID_HEADERS))
    }
  } else if (dataTrace) {
    w.writeLine(p + 'Method response body after transformations: ' + formatBody(body))
    w.writeLine(p + 'Method response headers: ' + formatHeaders(headers, GATEWAY_ID_HEADERS))
  }
  if (status >= 500) w.writeLine(p + failureReason(ctx, status))
  else if (ctx.errorType === null) w.writeLine(p + 'Successfully completed execution')
  w.writeLine(p + 'Method completed with status: ' + status)
}
