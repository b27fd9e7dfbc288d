// X-Amzn-Trace-Id and traceparent, read and made per request (tracing.ts). The X-Ray
// header: Root=1-{8 hex epoch seconds}-{24 hex};Parent={16 hex};Sampled=0|1 (X-Ray
// developer guide, "Tracing header"); W3C Trace Context: 00-{32 hex}-{16 hex}-{2 hex flags}.
import t from 'tap'
import { TraceState, addTraceHeaders } from '../../../src/observability/tracing.js'
import type { RequestContext } from '../../../src/pipeline/context.js'

const receivedAt = Date.UTC(2026, 11, 1, 12, 0, 0)
function ctx(headers: Record<string, string>): RequestContext {
  return { header: (name: string) => headers[name] ?? null, request: { receivedAt } } as unknown as RequestContext
}

t.test('no header: a root from the request time, a parent, Sampled=1', async (t) => {
  const s = new TraceState(ctx({}), true, false, true)
  t.match(s.amznTraceId, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$/)
  t.equal(s.root.slice(2, 10), Math.floor(receivedAt / 1000).toString(16))
  t.equal(s.traceId, s.root.slice(2, 10) + s.root.slice(11), 'the W3C id is the root\'s digits')
  t.equal(s.traceparentOut, null, 'no traceparent is made without a collector')
})

t.test('the caller\'s Root, Parent and Sampled are kept (keys case-insensitive)', async (t) => {
  const s = new TraceState(ctx({ 'x-amzn-trace-id': 'root=1-3152b799-8954dae64eda91bc9a23a7e8; parent=7fa8c0f79203be72; sampled=0' }), true, true, true)
  t.equal(s.amznTraceId, 'Root=1-3152b799-8954dae64eda91bc9a23a7e8;Parent=7fa8c0f79203be72;Sampled=0')
  t.equal(s.flags, '00')
  t.equal(s.exported, false, 'an unsampled trace exports no spans')
})

t.test('traceparent: its trace id becomes the root; with a collector the backend gets the integration span', async (t) => {
  const s = new TraceState(ctx({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }), true, true, false)
  t.equal(s.root, '1-4bf92f35-77b34da6a3ce929d0e0e4736')
  t.equal(s.parentSpanId, '00f067aa0ba902b7')
  t.equal(s.traceparentOut, `00-4bf92f3577b34da6a3ce929d0e0e4736-${s.integrationSpanId}-01`)
  t.equal(s.responseHeader, false)
  const headers = ['X-Amzn-Trace-Id', 'old', 'accept', '*/*']
  addTraceHeaders(s, headers)
  t.strictSame(headers, ['X-Amzn-Trace-Id', s.amznTraceId, 'accept', '*/*', 'traceparent', s.traceparentOut])
})

t.test('malformed headers are ignored: an invalid traceparent or Root starts a new trace', async (t) => {
  for (const tp of ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'garbage']) {
    const s = new TraceState(ctx({ traceparent: tp, 'x-amzn-trace-id': 'Root=nope' }), true, false, true)
    t.equal(s.parentSpanId, null, tp)
    t.match(s.root, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/)
  }
})

t.test('without tracingEnabled no X-Amzn-Trace-Id is made', async (t) => {
  const s = new TraceState(ctx({}), false, true, true)
  t.equal(s.amznTraceId, '')
  t.equal(s.responseHeader, false)
  const headers: string[] = []
  addTraceHeaders(s, headers)
  t.strictSame(headers, ['traceparent', s.traceparentOut])
})
