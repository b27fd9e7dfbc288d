// Integration request, compile step: requestParameters → where each value comes from and goes.
// Runs at start-up; the run step is prepare.ts and parameters.ts.


/** Where a mapped parameter value comes from. */
export const enum SourceKind {
  Static = 0,
  MethodPath = 1,
  MethodQuery = 2,
  MethodHeader = 3,
  StageVariable = 4,
  Context = 5,
  MethodBody = 6,
  MethodMultiQuery = 7,
  MethodMultiHeader = 8,
}

/** Where a mapped parameter goes in the integration request. */
export const enum TargetKind {
  Path = 0,
  Query = 1,
  Header = 2,
}

export interface CompiledParameterMapping {
  readonly target: TargetKind
  /** Target name (header names lower-cased). */
  readonly name: string
  readonly source: SourceKind
  /** Static value, or the source's name (header names lower-cased). */
  readonly value: string
}

function compileSource(expr: string): { source: SourceKind; value: string } {
  if (expr.startsWith("'") && expr.endsWith("'")) return { source: SourceKind.Static, value: expr.slice(1, -1) }
  const dot = (prefix: string) => expr.slice(prefix.length)
  if (expr.startsWith('method.request.path.')) return { source: SourceKind.MethodPath, value: dot('method.request.path.') }
  if (expr.startsWith('method.request.querystring.')) return { source: SourceKind.MethodQuery, value: dot('method.request.querystring.') }
  if (expr.startsWith('method.request.header.')) return { source: SourceKind.MethodHeader, value: dot('method.request.header.').toLowerCase() }
  if (expr.startsWith('method.request.multivaluequerystring.')) return { source: SourceKind.MethodMultiQuery, value: dot('method.request.multivaluequerystring.') }
  if (expr.startsWith('method.request.multivalueheader.')) return { source: SourceKind.MethodMultiHeader, value: dot('method.request.multivalueheader.').toLowerCase() }
  if (expr.startsWith('stageVariables.')) return { source: SourceKind.StageVariable, value: dot('stageVariables.') }
  if (expr.startsWith('context.')) return { source: SourceKind.Context, value: dot('context.') }
  return { source: SourceKind.MethodBody, value: expr === 'method.request.body' ? '' : dot('method.request.body.') }
}

export function compileRequestParameters(params: Readonly<Record<string, string>>): CompiledParameterMapping[] {
  const out: CompiledParameterMapping[] = []
  for (const [target, expr] of Object.entries(params)) {
    const m = /^integration\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)\.(.+)$/.exec(target)
    if (m === null) continue
    const kind = m[1] === 'path' ? TargetKind.Path : m[1] === 'querystring' || m[1] === 'multivaluequerystring' ? TargetKind.Query : TargetKind.Header
    const { source, value } = compileSource(expr)
    out.push({ target: kind, name: kind === TargetKind.Header ? m[2]!.toLowerCase() : m[2]!, source, value })
  }
  return out
}
