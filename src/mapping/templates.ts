// The seam between the pipeline and the mapping-template engine: the worker installs the
// WASM engine at start-up (pipeline/install-engine.ts).

export interface TemplateVariables {
  /** $context, nested (error, identity, authorizer …). */
  readonly context: Record<string, unknown>
  readonly stageVariables: Readonly<Record<string, string>>
  readonly params: { readonly path: Record<string, string>; readonly querystring: Record<string, string>; readonly header: Record<string, string> }
  readonly body: Uint8Array | null
}

export interface TemplateOverrides {
  /** responseOverride.status, null when unset. */
  readonly status: number | null
  /** Request and response header overrides merged. */
  readonly header: Record<string, string>
  readonly querystring: Record<string, string>
  readonly path: Record<string, string>
  /** requestOverride.header alone. */
  readonly requestHeader: Record<string, string>
  /** responseOverride.header alone. */
  readonly responseHeader: Record<string, string>
  /** responseOverride's other keys, as text. */
  readonly responseExtra: Record<string, string>
}

export type TemplateOutcome = { ok: true; output: Uint8Array; overrides: TemplateOverrides | null } | { ok: false; message: string }

export interface TemplateRenderer {
  render(template: string, vars: TemplateVariables): TemplateOutcome
}

/** Until an engine is installed every template fails: a worker never runs without one. */
const NO_ENGINE: TemplateRenderer = {
  render: () => ({ ok: false, message: 'no mapping engine installed' }),
}

let current: TemplateRenderer = NO_ENGINE

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
