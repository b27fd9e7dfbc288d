// Tracing: X-Amzn-Trace-Id as API Gateway passes it when a stage has tracingEnabled
// (Root=1-{8 hex epoch seconds}-{24 hex random};Parent={16 hex};Sampled=1|0, the X-Ray trace
// header), W3C traceparent passed on, and OpenTelemetry spans for the request's stages
// exported over OTLP/HTTP when the gateway config names a collector. The X-Ray root and
// the W3C trace id are one id written two ways, so both tools see one trace.
// Spans are made once the reply has left, from the times the request recorded: the hot
// path only takes timestamps.
import { randomFillSync } from 'node:crypto'
// The SDK loads only when a collector is configured (its import costs a worker's start-up).
import type { Context, Span, Tracer } from '@opentelemetry/api'
import type { BasicTracerProvider, IdGenerator } from '@opentelemetry/sdk-trace-base'
import type { RequestContext } from '../pipeline/context.js'
import { setHeader } from '../util/header-pairs.js'

/** How long finished spans wait before a batch goes to the collector. */
export const OTLP_EXPORT_DELAY_MS = 500
/** Spans queued per worker before new ones are dropped (the SDK's bound). */
const OTLP_MAX_QUEUE = 8192

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/
const ZERO_TRACE = '00000000000000000000000000000000'
const ZERO_SPAN = '0000000000000000'

/** The trace of one request. */
export class TraceState {
  /** X-Ray root: 1-{epoch hex}-{24 hex}. */
  readonly root: string
  /** The X-Amzn-Trace-Id sent to the backend and in the reply. */
  readonly amznTraceId: string
  /** Whether the reply carries X-Amzn-Trace-Id (API Gateway: not for MOCK or HTTP_PROXY methods, nor gateway responses). */
  readonly responseHeader: boolean
  /** The W3C trace id (32 hex): the root's digits. */
  readonly traceId: string
  /** The caller's span (from traceparent), or null. */
  readonly parentSpanId: string | null
  /** W3C trace flags: '01' sampled. */
  readonly flags: string
  /** The request's span and the integration's span (ids made up front: the backend gets the latter). */
  readonly requestSpanId: string
  readonly integrationSpanId: string
  /** Spans go to the collector. */
  readonly exported: boolean
  /** The traceparent sent to the backend, or null to send none. */
  readonly traceparentOut: string | null

  constructor(ctx: RequestContext, xray: boolean, otlp: boolean, responseHeader: boolean) {
    const amzn = ctx.header('x-amzn-trace-id')
    const tp = ctx.header('traceparent')
    let root: string | null = null
    let parent: string | null = null
    let sampled: string | null = null
    if (amzn !== null) {
      for (const part of amzn.split(';')) {
        const eq = part.indexOf('=')
        if (eq <= 0) continue
        const k = part.slice(0, eq).trim().toLowerCase()
        const v = part.slice(eq + 1).trim()
        if (k === 'root' && /^1-[0-9a-f]{8}-[0-9a-f]{24}$/.test(v)) root = v
        else if (k === 'parent' && /^[0-9a-f]{16}$/.test(v)) parent = v
        else if (k === 'sampled' && (v === '0' || v === '1')) sampled = v
      }
    }
    const m = tp === null ? null : TRACEPARENT.exec(tp)
    const w3c = m !== null && m[1] !== 'ff' && m[2] !== ZERO_TRACE && m[3] !== ZERO_SPAN ? m : null
    let traceId: string
    if (w3c !== null) {
      traceId = w3c[2]!
      if (root === null) root = `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`
    } else {
      if (root === null) root = `1-${Math.floor(ctx.request.receivedAt / 1000).toString(16).padStart(8, '0')}-${randomHex(12)}`
      traceId = root.slice(2, 10) + root.slice(11)
    }
    this.root = root
    this.traceId = traceId
    this.parentSpanId = w3c === null ? null : w3c[3]!
    this.flags = w3c === null ? (sampled === '0' ? '00' : '01') : w3c[4]!
    this.requestSpanId = randomHex(8)
    this.integrationSpanId = otlp ? randomHex(8) : ZERO_SPAN
    this.exported = otlp && (parseInt(this.flags, 16) & 1) === 1
    // The caller's Parent is kept, else one is made; Sampled as the caller said, else 1 (tracing is on).
    this.amznTraceId = xray ? `Root=${root};Parent=${parent ?? randomHex(8)};Sampled=${sampled ?? '1'}` : ''
    this.responseHeader = xray && responseHeader
    this.traceparentOut = otlp ? `00-${traceId}-${this.integrationSpanId}-${this.flags}` : w3c === null ? null : tp
  }
}

const scratch = Buffer.alloc(16)
function randomHex(bytes: number): string {
  randomFillSync(scratch, 0, bytes)
  return scratch.toString('hex', 0, bytes)
}

/** Adds X-Amzn-Trace-Id and traceparent to a backend request's header pairs. */
export function addTraceHeaders(t: TraceState, headers: string[]): void {
  if (t.amznTraceId !== '') setHeader(headers, 'X-Amzn-Trace-Id', t.amznTraceId)
  if (t.traceparentOut !== null) setHeader(headers, 'traceparent', t.traceparentOut)
}

// ---- OpenTelemetry: one provider per worker, made when the first traced stage compiles ----

/** Gives the SDK the ids the request already chose (set just before each startSpan). */
class PresetIds implements IdGenerator {
  nextTraceId = ''
  nextSpanId = ''
  generateTraceId(): string {
    const id = this.nextTraceId
    this.nextTraceId = ''
    return id !== '' ? id : randomHex(16)
  }
  generateSpanId(): string {
    const id = this.nextSpanId
    this.nextSpanId = ''
    return id !== '' ? id : randomHex(8)
  }
}

// @opentelemetry/api's enums, as numbers (the module itself loads lazily).
const SpanKind = { INTERNAL: 0, SERVER: 1, CLIENT: 2 } as const
type SpanKind = (typeof SpanKind)[keyof typeof SpanKind]
const SPAN_STATUS_ERROR = 2

let provider: BasicTracerProvider | null = null
let tracer: Tracer | null = null
let api: typeof import('@opentelemetry/api') | null = null
let providerUrl: string | null = null
let loading: Promise<void> = Promise.resolve()
const ids = new PresetIds()

/** Starts (or keeps) the exporter for `otlp` ({otlp}/v1/traces); null stops it. Spans finished before the SDK has loaded are not exported. */
export function configureOtlp(otlp: string | null): Promise<void> {
  if (otlp === providerUrl) return loading
  const old = provider
  provider = null
  tracer = null
  providerUrl = otlp
  if (old !== null) void old.shutdown().catch(() => {})
  if (otlp === null) return (loading = Promise.resolve())
  return (loading = Promise.all([import('@opentelemetry/api'), import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/exporter-trace-otlp-http'), import('@opentelemetry/resources')]).then(([otelApi, sdk, otlpHttp, resources]) => {
    if (providerUrl !== otlp) return
    api = otelApi
    const exporter = new otlpHttp.OTLPTraceExporter({ url: `${otlp}/v1/traces` })
    provider = new sdk.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'backplane' }),
      idGenerator: ids,
      spanProcessors: [new sdk.BatchSpanProcessor(exporter, { scheduledDelayMillis: OTLP_EXPORT_DELAY_MS, maxQueueSize: OTLP_MAX_QUEUE })],
    })
    tracer = provider.getTracer('backplane')
  }))
}

/** Whether the exporter is ready (the SDK has loaded). */
export function otlpReady(): boolean {
  return tracer !== null
}

/** Sends what is queued (on stop). */
export async function flushSpans(): Promise<void> {
  if (provider !== null) await provider.forceFlush().catch(() => {})
}

function child(parent: Span, name: string, start: number, end: number, spanId: string | null, kind: SpanKind = SpanKind.INTERNAL, status = 0, error: string | null = null): void {
  if (spanId !== null) ids.nextSpanId = spanId
  const span = tracer!.startSpan(name, { kind, startTime: start, attributes: status !== 0 ? { 'http.response.status_code': status } : {} }, api!.trace.setSpan(api!.ROOT_CONTEXT, parent))
  if (error !== null) span.setStatus({ code: SPAN_STATUS_ERROR, message: error })
  span.end(end)
}

/** The request's spans: the request, then method request, authorizer, integration, integration response. */
export function exportSpans(ctx: RequestContext, status: number, now: number): void {
  const t = ctx.trace!
  if (tracer === null || api === null) return
  const start = ctx.request.receivedAt
  let parent: Context = api.ROOT_CONTEXT
  if (t.parentSpanId !== null) parent = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: t.traceId, spanId: t.parentSpanId, traceFlags: 1, isRemote: true })
  else ids.nextTraceId = t.traceId
  ids.nextSpanId = t.requestSpanId
  const resource = ctx.method === null ? ctx.path : ctx.method.resourcePath
  const span = tracer.startSpan(`${ctx.request.method} ${resource}`, {
    kind: SpanKind.SERVER,
    startTime: start,
    attributes: {
      'http.request.method': ctx.request.method,
      'http.response.status_code': status,
      'url.path': ctx.request.url,
      'http.route': resource,
      'aws.api_gateway.api_id': ctx.api!.id,
      'aws.api_gateway.stage': ctx.stage!.name,
      'aws.request_id': ctx.requestId,
      'aws.xray.trace_id': t.root,
    },
  }, parent)
  if (status >= 500) span.setStatus({ code: SPAN_STATUS_ERROR, message: ctx.errorMessage ?? `status ${status}` })
  const integrationEnd = ctx.integrationStart === 0 ? 0 : ctx.integrationLatency >= 0 ? ctx.integrationStart + ctx.integrationLatency : now
  const methodRequestEnd = ctx.authorizerStart !== 0 ? ctx.authorizerStart : ctx.integrationStart !== 0 ? ctx.integrationStart : now
  child(span, 'Method request', start, methodRequestEnd, null)
  if (ctx.authorizerStart !== 0) child(span, 'Authorizer', ctx.authorizerStart, ctx.authorizerStart + Math.max(0, ctx.authorizerLatency), null)
  if (ctx.integrationStart !== 0) {
    child(span, 'Integration', ctx.integrationStart, integrationEnd, t.integrationSpanId, SpanKind.CLIENT, ctx.integrationStatus, ctx.integrationError)
    child(span, 'Integration response', integrationEnd, now, null)
  }
  span.end(now)
}
