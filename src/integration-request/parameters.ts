// Method request values for parameter mappings (requestParameters): path, query string,
// header, body, stage variable, context or static sources, resolved per request.
import { SourceKind, type CompiledParameterMapping } from './compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { buildTemplateVariables } from '../mapping/template-variables.js'

/** The value at `steps` in a JSON value, as text (objects and arrays as JSON); null when absent. */
export function jsonAt(value: unknown, steps: readonly (string | number)[]): string | null {
  let cur = value
  for (const s of steps) {
    if (typeof cur !== 'object' || cur === null) return null
    cur = (cur as Record<string | number, unknown>)[s]
  }
  if (cur === undefined || cur === null) return null
  return typeof cur === 'string' ? cur : JSON.stringify(cur)
}

/** $context.{name} (dotted: identity.sourceIp, authorizer.claims.sub) as text, or null. */
export function contextValue(ctx: RequestContext, name: string): string | null {
  let cur: unknown = buildTemplateVariables(ctx, null).context
  let start = 0
  while (start <= name.length) {
    let dot = name.indexOf('.', start)
    if (dot === -1) dot = name.length
    if (typeof cur !== 'object' || cur === null) return null
    cur = (cur as Record<string, unknown>)[name.slice(start, dot)]
    start = dot + 1
  }
  if (cur === undefined || cur === null) return null
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur)
}

function bodyValue(ctx: RequestContext, m: CompiledParameterMapping | null, name: string): string | null {
  const body = ctx.body
  if (body === null || body.byteLength === 0) return null
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (name === '') return text
  const steps = m !== null ? m.bodyPath : null
  if (steps === null) return null
  try {
    return jsonAt(JSON.parse(text), steps)
  } catch {
    return null
  }
}

/**
 * Every value of a source: the multi-value sources (multivaluequerystring, multivalueheader)
 * give each value, the others at most one. Used for query string targets, which API Gateway
 * sends repeated (m=a&m=b).
 */
export function resolveSourceValues(ctx: RequestContext, m: CompiledParameterMapping): readonly string[] {
  if (m.source === SourceKind.MethodMultiQuery) return ctx.queryParameters().get(m.value) ?? []
  if (m.source === SourceKind.MethodMultiHeader) {
    const h = ctx.request.headers
    const out: string[] = []
    for (let i = 0; i < h.length; i += 2) if (h[i] === m.value) out.push(h[i + 1]!)
    return out
  }
  const v = resolveMapping(ctx, m)
  return v === null ? [] : [v]
}

/** The value of one compiled mapping's source; null when absent. */
export function resolveMapping(ctx: RequestContext, m: CompiledParameterMapping): string | null {
  if (m.source === SourceKind.MethodBody) return bodyValue(ctx, m, m.value)
  return resolveSource(ctx, m.source, m.value)
}

/** The value of a method request source for a parameter mapping; null when absent. */
export function resolveSource(ctx: RequestContext, source: SourceKind, name: string): string | null {
  switch (source) {
    case SourceKind.Static:
      return name
    case SourceKind.MethodPath: {
      const p = ctx.match!.params
      for (let i = 0; i < p.length; i += 2) if (p[i] === name) return p[i + 1]!
      return null
    }
    case SourceKind.MethodQuery:
    case SourceKind.MethodMultiQuery: {
      const values = ctx.queryParameters().get(name)
      if (values === undefined) return null
      return source === SourceKind.MethodQuery ? values[values.length - 1]! : values.join(',')
    }
    case SourceKind.MethodHeader:
      return ctx.header(name)
    case SourceKind.MethodMultiHeader: {
      const h = ctx.request.headers
      const out: string[] = []
      for (let i = 0; i < h.length; i += 2) if (h[i] === name) out.push(h[i + 1]!)
      return out.length === 0 ? null : out.join(',')
    }
    case SourceKind.StageVariable:
      return ctx.stage!.variables[name] ?? null
    case SourceKind.Context:
      return contextValue(ctx, name)
    case SourceKind.MethodBody:
      return bodyValue(ctx, null, name)
  }
  return null
}
