// The seam between the pipeline and the mapping-template engine. The worker installs the
// WASM engine at start-up (mapping/engine.ts); until then, and for tests of the pipeline
// alone, the literal renderer serves templates that hold no VTL beyond the gateway
// response variables.

export interface TemplateVariables {
  /** $context, nested (error, identity, authorizer …). */
  readonly context: Record<string, unknown>
  readonly stageVariables: Readonly<Record<string, string>>
  readonly params: { readonly path: Record<string, string>; readonly querystring: Record<string, string>; readonly header: Record<string, string> }
  readonly body: Uint8Array | null
}

export interface TemplateOverrides {
  readonly status: number | null
  readonly header: Record<string, string>
  readonly querystring: Record<string, string>
  readonly path: Record<string, string>
}

export type TemplateOutcome = { ok: true; output: Uint8Array; overrides: TemplateOverrides | null } | { ok: false; message: string }

export interface TemplateRenderer {
  render(template: string, vars: TemplateVariables): TemplateOutcome
}

const encoder = new TextEncoder()

/** Substitutes $context.x.y / ${context.x.y} / $stageVariables.x references; no directives. */
export const literalRenderer: TemplateRenderer = {
  render(template, vars) {
    const out = template.replace(/\$!?\{?(context|stageVariables)((?:\.[A-Za-z0-9_]+)+)\}?/g, (_m, root: string, path: string) => {
      let cur: unknown = root === 'context' ? vars.context : vars.stageVariables
      for (const key of path.slice(1).split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[key] : undefined
      return cur === undefined || cur === null ? '' : String(cur)
    })
    return { ok: true, output: encoder.encode(out), overrides: null }
  },
}

let current: TemplateRenderer = literalRenderer

export function setTemplateRenderer(r: TemplateRenderer): void {
  current = r
}

export function renderTemplate(template: string, vars: TemplateVariables): TemplateOutcome {
  return current.render(template, vars)
}

/** Picks the template for a content type: exact match, else application/json, else the first. */
export function selectTemplate(templates: Readonly<Record<string, string>>, contentType: string | null): string | null {
  const keys = Object.keys(templates)
  if (keys.length === 0) return null
  if (contentType !== null) {
    const base = contentType.split(';')[0]!.trim().toLowerCase()
    for (const k of keys) if (k.toLowerCase() === base) return templates[k]!
  }
  const json = templates['application/json']
  return json !== undefined ? json : templates[keys[0]!]!
}
