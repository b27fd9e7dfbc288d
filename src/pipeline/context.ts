// The per-request state in a worker. One shape: every field is set in the constructor,
// in a fixed order, and absent stages are null (STYLE §D.3).
import type { RequestRecord, ReplyRecord } from '../pool/protocol.js'
import type { CompiledApi, CompiledMethod, CompiledStage } from './compile.js'
import type { RouteMatch } from '../router/match.js'
import type { TemplateVariables } from '../mapping/templates.js'
import type { AuthorizerOutcome } from '../method-request/authorization/authorizer-outcome.js'
import { newApigwId, newRequestId, newTraceId } from '../util/ids.js'
import { compressBody, responseEncoding } from '../payload/compression.js'
import { parseQuery } from '../util/query.js'
import type { CallerIdentity } from '../method-request/authorization/identity.js'
import type { ApiKeySource, UsagePlanSource } from '../config/model.js'
import { observeReply, type TraceState } from '../observability/observe.js'
import { CACHE_CONTROL_WARNING, storeCachedResponse } from '../response-cache/store.js'

/** Where a finished reply goes: the worker's reply channel. */
export interface ReplySink {
  reply(record: ReplyRecord): void
}

export class RequestContext {
  readonly request: RequestRecord
  readonly sink: ReplySink
  /** $context.requestId, also x-amzn-RequestId. */
  readonly requestId: string
  /** $context.extendedRequestId, also x-amz-apigw-id. */
  readonly extendedRequestId: string
  api: CompiledApi | null = null
  stage: CompiledStage | null = null
  method: CompiledMethod | null = null
  match: RouteMatch | null = null
  /** Resource path within the stage, still percent-encoded ('/pets/1'). */
  path = ''
  /** The method request body (decompressed when the API compresses), or null. */
  body: Uint8Array | null
  /** Set when the body was decompressed: its Content-Encoding no longer applies. */
  bodyDecompressed = false
  /** $context.error.validationErrorString once validation failed. */
  validationErrorString: string | null = null
  /** What templates see, built on first use and shared by request and response templates. */
  templateVariables: TemplateVariables | null = null
  /** What the authorizer decided (principalId, context, claims, usageIdentifierKey); null without one or before it ran. */
  authorizer: AuthorizerOutcome | null = null
  /** The authenticated caller ($context.identity.accessKey, caller, user, userArn, …): set by AWS_IAM; null otherwise. */
  identity: CallerIdentity | null = null
  /** The API key the request was let in with (method-request/api-key.ts): $context.identity.apiKey / apiKeyId. */
  apiKey: ApiKeySource | null = null
  /** The usage plan through which apiKey covers this stage (one at most: AWS refuses a key in two plans of one stage); its throttle and quota apply. */
  usagePlan: UsagePlanSource | null = null
  /** The next method request step to run (method-request/run.ts). */
  methodRequestStep = 0
  /** Set once a reply is sent: later outcomes (a late timeout) are dropped. */
  done = false
  // What access logs, execution logs, metrics and spans read (observability/), set as the stages run.
  /** Epoch ms the integration request was sent; 0 when no integration was called. */
  integrationStart = 0
  /** $context.integrationLatency in ms; -1 until the integration answered or failed. */
  integrationLatency = -1
  /** $context.integration.status: the backend's status code; 0 when none. */
  integrationStatus = 0
  /** $context.integration.error: why the integration failed, or null. */
  integrationError: string | null = null
  /** The backend URL, kept for execution logs at INFO; null otherwise. */
  endpointUri: string | null = null
  /** The backend request's headers and body, kept only with dataTraceEnabled. */
  endpointRequestHeaders: readonly string[] | null = null
  endpointRequestBody: Uint8Array | null = null
  /** The backend response's headers and body before transformations, kept only with dataTraceEnabled. */
  endpointResponseHeaders: readonly string[] | null = null
  endpointResponseBody: Uint8Array | null = null
  /** $context.error.responseType once a gateway response answered, else null. */
  errorType: string | null = null
  /** $context.error.message once a gateway response answered, else null. */
  errorMessage: string | null = null
  /** Epoch ms the authorizer was called (issue 8 sets it); 0 when none ran. */
  authorizerStart = 0
  /** The authorizer's latency in ms; -1 when none ran. */
  authorizerLatency = -1
  /** X-Amzn-Trace-Id / traceparent / span ids when the stage traces; null otherwise. */
  trace: TraceState | null = null
  /** The response cache entry this request's answer is stored under (a miss or an invalidation); null otherwise. */
  cacheKey: string | null = null
  /** SUCCEED_WITH_RESPONSE_HEADER ignored this request's Cache-Control: the reply says so. */
  cacheWarning = false
  /** The query string parsed, on first use (validation, mappings and templates share it). */
  #query: Map<string, string[]> | null = null
  /** X-Amzn-Trace-Id: the client's, or one made on first use. */
  #traceId: string | null = null

  constructor(request: RequestRecord, sink: ReplySink) {
    this.request = request
    this.sink = sink
    this.body = request.body === null ? null : new Uint8Array(request.body)
    this.requestId = newRequestId()
    this.extendedRequestId = newApigwId()
  }

  /** Query string names → values (form-decoded, in order), parsed once per request. */
  queryParameters(): Map<string, string[]> {
    if (this.#query === null) this.#query = parseQuery(this.request.query)
    return this.#query
  }

  /** The X-Ray trace id API Gateway passes to integrations and returns: the client's X-Amzn-Trace-Id if sent. */
  traceId(): string {
    // With tracingEnabled the stage's trace (observability/tracing.ts) names it: Root, Parent, Sampled.
    if (this.#traceId === null) this.#traceId = this.trace !== null && this.trace.amznTraceId !== '' ? this.trace.amznTraceId : this.header('x-amzn-trace-id') ?? newTraceId(this.request.receivedAt)
    return this.#traceId
  }

  /** First value of a request header (name lower-case), or null. */
  header(name: string): string | null {
    const h = this.request.headers
    for (let i = 0; i < h.length; i += 2) if (h[i] === name) return h[i + 1]!
    return null
  }

  /** Sends the reply once: compresses it where the API asks, adds the ids every API Gateway response carries. */
  send(status: number, headers: string[], body: Uint8Array | null): void {
    if (this.done) return
    this.done = true
    // The response cache keeps what the integration response made, before per-request parts.
    if (this.cacheKey !== null) storeCachedResponse(this, this.cacheKey, status, headers, body)
    if (this.cacheWarning) headers.push('Warning', CACHE_CONTROL_WARNING)
    const min = this.api === null ? null : this.api.minimumCompressionSize
    if (min !== null && body !== null) {
      let current: string | null = null
      for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === 'content-encoding') current = headers[i + 1]!
      const coding = responseEncoding(min, this.header('accept-encoding'), body.byteLength, current)
      if (coding !== null) {
        body = compressBody(body, coding)
        headers.push('Content-Encoding', coding)
      }
    }
    headers.push('x-amzn-RequestId', this.requestId, 'x-amz-apigw-id', this.extendedRequestId)
    this.sink.reply({ id: this.request.id, status, headers, body })
    // Access log, execution log, metrics, spans: after the reply has left (STYLE §D.7).
    if (this.stage !== null) observeReply(this, status, headers, body)
  }
}
