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
  /** Static value, or the source's name (header names lower-cased); '' for the whole body. */
  readonly value: string
  /** method.request.body.{JSONPath}: the path's steps (names and indices); null otherwise. */
  readonly bodyPath: readonly (string | number)[] | null
}

/**
 * Steps of a JSONPath into the body ('$.a.b[0]', 'a.b', "a['b c']"), or null when the
 * expression uses more than names and indices.
 */
export function compileBodyPath(expr: string): (string | number)[] | null {
  let rest = expr.startsWith('$') ? expr.slice(1) : '.' + expr
  const steps: (string | number)[] = []
  while (rest !== '') {
    let m = /^\.([A-Za-z0-9_$@-]+)/.exec(rest)
    if (m !== null) steps.push(m[1]!)
    else if ((m = /^\[(\d+)\]/.exec(rest)) !== null) steps.push(Number(m[1]))
    else if ((m = /^\[['"]([^'"]*)['"]\]/.exec(rest)) !== null) steps.push(m[1]!)
    else return null
    rest = rest.slice(m[0].length)
  }
  return steps
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
    const bodyPath = source === SourceKind.MethodBody && value !== '' ? compileBodyPath(value) : null
    out.push({ target: kind, name: kind === TargetKind.Header ? m[2]!.toLowerCase() : m[2]!, source, value, bodyPath })
  }
  return out
}
