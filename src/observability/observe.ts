// What a stage watches, compiled once (access log format, execution log level, metric
// slots, tracing), and the hooks the request path calls: one when the trace starts, a few
// around the integration, one after the reply has left (observeReply).
import type { ConfigProblem } from '../errors.js'
import type { ApiSource, GatewaySource, StageSource } from '../config/model.js'
import { resolveMethodSetting, stageSettingsOf, type EffectiveMethodSetting } from '../config/stage-settings.js'
import type { RequestContext } from '../pipeline/context.js'
import { accessLogLine, compileAccessLogFormat, renderAccessLogLine, renderedInPlace, type CompiledAccessLogFormat } from './access-log.js'
import { Level, writeExecutionLog } from './execution-log.js'
import { writerFor, type LogWriter } from './log-writer.js'
import { Field, metrics } from './metrics.js'
import { TraceState, exportSpans } from './tracing.js'

export { TraceState } from './tracing.js'

/** A stage's observability, frozen. */
export interface CompiledStageObservability {
  /** The access log: format and destination, or null. */
  readonly accessLog: { readonly format: CompiledAccessLogFormat; readonly destination: string } | null
  /** tracingEnabled: X-Amzn-Trace-Id generated and passed on. */
  readonly xray: boolean
  /** Spans exported (the gateway config names an OTLP collector). */
  readonly otlp: boolean
  /** Metrics are kept (the admin listener is on). */
  readonly metrics: boolean
  /** The stage-level series (Resource and Method ''). */
  readonly slot: number
  /** Settings for requests that match no method (the stage's "*\/*"). */
  readonly fallback: CompiledMethodObservability
}

/** A method's observability, frozen. */
export interface CompiledMethodObservability {
  readonly level: Level
  readonly dataTrace: boolean
  /** Its own series when metricsEnabled (detailed metrics), else -1. */
  readonly slot: number
  /** Its integration is MOCK or HTTP_PROXY: API Gateway's reply then carries no X-Amzn-Trace-Id. */
  readonly noTraceHeader: boolean
}

// A GatewaySource built by hand (tests, other tools) may lack the observability keys: they mean off.
function adminOn(gateway: GatewaySource | null): boolean {
  return gateway !== null && gateway.admin !== undefined && gateway.admin !== null
}

/** The OTLP collector of a gateway, or null. */
export function otlpOf(gateway: GatewaySource | null): string | null {
  return gateway?.tracing?.otlp ?? null
}

function levelOf(s: EffectiveMethodSetting): Level {
  return s.loggingLevel === 'INFO' ? Level.Info : s.loggingLevel === 'ERROR' ? Level.Error : Level.Off
}

export function compileStageObservability(gateway: GatewaySource | null, api: ApiSource, stage: StageSource, problems: ConfigProblem[]): CompiledStageObservability {
  const settings = stageSettingsOf(stage)
  const als = settings.accessLogSettings
  const on = adminOn(gateway)
  const fallbackSetting = resolveMethodSetting(settings.methodSettings, '', '')
  return Object.freeze({
    accessLog: als === null ? null : Object.freeze({ format: compileAccessLogFormat(als.format, als.file, als.pointer, problems), destination: als.destination }),
    xray: settings.tracingEnabled,
    otlp: otlpOf(gateway) !== null,
    metrics: on,
    slot: on ? metrics.slotFor({ api: api.title, stage: stage.name, resource: '', method: '' }) : -1,
    fallback: Object.freeze({ level: levelOf(fallbackSetting), dataTrace: fallbackSetting.dataTraceEnabled, slot: -1, noTraceHeader: true }),
  })
}

export function compileMethodObservability(gateway: GatewaySource | null, api: ApiSource, stage: StageSource, setting: EffectiveMethodSetting, resourcePath: string, httpMethod: string, integrationType: string | null): CompiledMethodObservability {
  return Object.freeze({
    level: levelOf(setting),
    dataTrace: setting.dataTraceEnabled && setting.loggingLevel === 'INFO',
    slot: adminOn(gateway) && setting.metricsEnabled ? metrics.slotFor({ api: api.title, stage: stage.name, resource: resourcePath, method: httpMethod }) : -1,
    noTraceHeader: integrationType === null || integrationType === 'MOCK' || integrationType === 'HTTP_PROXY',
  })
}

/** Once the method is known (or not): starts the trace when the stage traces. */
export function startObservation(ctx: RequestContext): void {
  const o = ctx.stage!.observe
  if (!o.xray && !o.otlp) return
  ctx.trace = new TraceState(ctx, o.xray, o.otlp, ctx.method !== null && !ctx.method.observe.noTraceHeader)
}

function dataTrace(ctx: RequestContext): boolean {
  return ctx.method !== null && ctx.method.observe.dataTrace
}

/** The execution log keeps the integration request's body (data trace): an integration then sends it in the form it logs. */
export const wantsEndpointRequestBody = dataTrace

/** The integration request leaves: latency starts; with data trace, what was sent is kept. */
export function noteIntegrationRequest(ctx: RequestContext, uri: string, headers: readonly string[] | null, body: Uint8Array | null): void {
  ctx.integrationStart = Date.now()
  if (ctx.method !== null && ctx.method.observe.level === Level.Info) ctx.endpointUri = uri
  if (dataTrace(ctx)) {
    ctx.endpointRequestHeaders = headers
    ctx.endpointRequestBody = body
  }
}

/** The backend answered (status and, with data trace, headers and body before transformations). */
export function noteIntegrationResponse(ctx: RequestContext, status: number, headers: readonly string[] | null, body: Uint8Array | null): void {
  if (ctx.integrationStart !== 0) ctx.integrationLatency = Date.now() - ctx.integrationStart
  ctx.integrationStatus = status
  if (dataTrace(ctx)) {
    ctx.endpointResponseHeaders = headers
    ctx.endpointResponseBody = body
  }
}

/** The exchange failed: $context.integration.error and the execution log's reason. */
export function noteIntegrationError(ctx: RequestContext, err: unknown): void {
  if (ctx.integrationStart !== 0 && ctx.integrationLatency < 0) ctx.integrationLatency = Date.now() - ctx.integrationStart
  if (ctx.integrationError !== null) return
  const e = err as { code?: string; message?: string } | null
  ctx.integrationError = e === null ? 'unknown error' : e.code !== undefined && e.message !== undefined ? `${e.code}: ${e.message}` : String(e.message ?? e)
}

/** A gateway response answered: $context.error.responseType and .message. */
export function noteGatewayResponse(ctx: RequestContext, type: string, message: string): void {
  ctx.errorType = type
  ctx.errorMessage = message
}

// Replies are observed together once the turn that sent them ends, not each right after its
// own. Observed one by one, each came straight after its reply's socket write and ran about 3×
// slower than in the micro bench, where nothing runs between requests (cold caches, it seems;
// this machine has no hardware counters to show it). Measured in the bench gateway (GET
// /test/mock, CLF access log and metrics, wrk -c64, the gateway on one core; hrtime around the
// calls, 4 December): 1.3 µs per request one by one, 0.85 µs at the end of the turn, 0.41 µs
// in the micro bench.
/** The replies of this turn not yet observed, one entry each in these arrays. */
const queuedContexts: RequestContext[] = []
const queuedStatus: number[] = []
/** The reply's latency (ms since the request arrived), taken as it left. */
const queuedLatency: number[] = []
const queuedHeaders: (readonly string[])[] = []
const queuedBodies: (Uint8Array | null)[] = []
let drainScheduled = false

/** After the reply left: metrics, access log, execution log, spans, made once this turn's replies have left. */
export function observeReply(ctx: RequestContext, status: number, headers: readonly string[], body: Uint8Array | null): void {
  queuedContexts.push(ctx)
  queuedStatus.push(status)
  queuedLatency.push(Date.now() - ctx.request.receivedAt)
  queuedHeaders.push(headers)
  queuedBodies.push(body)
  if (!drainScheduled) {
    drainScheduled = true
    setImmediate(observeQueued)
  }
}

/**
 * Observes every reply queued: at the end of the turn, and before anything that reads what
 * observing makes (a metrics scrape, the log writers' flush on stop; tests).
 */
export function observeQueued(): void {
  drainScheduled = false
  const n = queuedContexts.length
  for (let i = 0; i < n; i++) {
    const ctx = queuedContexts[i]!
    try {
      observe(ctx, queuedStatus[i]!, queuedLatency[i]!, queuedHeaders[i]!, queuedBodies[i]!)
    } catch (err) {
      // The reply has left: a fault here must cost a log line, never the request or the worker.
      console.error(`(${ctx.requestId}) observability failed:`, err)
    }
  }
  queuedContexts.length = 0
  queuedStatus.length = 0
  queuedLatency.length = 0
  queuedHeaders.length = 0
  queuedBodies.length = 0
}

function observe(ctx: RequestContext, status: number, latency: number, headers: readonly string[], body: Uint8Array | null): void {
  const o = ctx.stage!.observe
  const m = ctx.method === null ? o.fallback : ctx.method.observe
  // A request counts in one series: its method's (detailed metrics), else the stage's. The
  // stage-level series is the sum of both, made when /metrics is scraped (metrics.ts mergeWorkers).
  if (o.metrics) record(m.slot >= 0 ? m.slot : o.slot, status, latency, ctx.integrationLatency)
  if (o.accessLog !== null) writeAccessLog(o.accessLog.format, writerOf(o.accessLog.destination), ctx, status, body === null ? 0 : body.byteLength, latency)
  if (m.level === Level.Info || (m.level === Level.Error && status >= 500)) writeExecutionLog(ctx, m.level, m.dataTrace, status, headers, body)
  if (ctx.trace !== null && ctx.trace.exported) exportSpans(ctx, status, ctx.request.receivedAt + latency)
}

/**
 * Room most lines fit in: the writer starts a new chunk when its current one has less left.
 * A line is rendered straight into the chunk, one copy less per line (observed − plain in
 * bench/micro/observability: 1.19 → 1.03 µs, medians of four runs each, 4 December).
 */
const LINE_ROOM = 512

/** Renders the line into the writer's chunk; one that outgrows the chunk's room is finished apart and copied in. A line the writer would drop is not rendered. */
function writeAccessLog(format: CompiledAccessLogFormat, writer: LogWriter, ctx: RequestContext, status: number, length: number, latency: number): void {
  const chunk = writer.lineTarget(LINE_ROOM)
  if (chunk === null) return
  const n = renderAccessLogLine(format, ctx, status, length, latency, chunk, writer.lineStart, writer.lineEnd)
  if (renderedInPlace()) writer.commitLine(n)
  else writer.writeBytes(accessLogLine(), n)
}

// The writer of the last destination written: nearly always the one of the next request, so no
// lookup by name per request.
let lastDestination: string | null = null
let lastWriter: LogWriter | null = null

/** The writer of `destination` (writerFor), remembered for the next call; exported for its test. */
export function writerOf(destination: string): LogWriter {
  if (destination !== lastDestination || lastWriter === null || lastWriter.closed) {
    lastWriter = writerFor(destination)
    lastDestination = destination
  }
  return lastWriter
}

function record(slot: number, status: number, latency: number, integrationLatency: number): void {
  metrics.add(slot, Field.Count)
  if (status >= 500) metrics.add(slot, Field.Error5xx)
  else if (status >= 400) metrics.add(slot, Field.Error4xx)
  metrics.recordLatency(slot, latency)
  if (integrationLatency >= 0) metrics.recordIntegrationLatency(slot, integrationLatency)
}

function bump(ctx: RequestContext, field: Field): void {
  if (ctx.stage === null || !ctx.stage.observe.metrics) return
  // One series, as in observe(): the stage-level sum is made on a scrape.
  metrics.add(ctx.method !== null && ctx.method.observe.slot >= 0 ? ctx.method.observe.slot : ctx.stage.observe.slot, field)
}

// The counters later stages increment (throttling, quotas, the cache): one call each.
/** A request answered 429 by throttling. */
export function countThrottled(ctx: RequestContext): void {
  bump(ctx, Field.Throttled)
}
/** A request answered 429 because its usage plan's quota is spent. */
export function countQuotaExceeded(ctx: RequestContext): void {
  bump(ctx, Field.QuotaExceeded)
}
/** A response served from the stage cache (CacheHitCount). */
export function countCacheHit(ctx: RequestContext): void {
  bump(ctx, Field.CacheHit)
}
/** A cache-enabled method's response fetched from the backend (CacheMissCount). */
export function countCacheMiss(ctx: RequestContext): void {
  bump(ctx, Field.CacheMiss)
}
