// Installs the WASM mapping engine (mapping/engine.ts) as this thread's template renderer.
// Templates are compiled once, by their text: at start-up for every template of the
// gateway, so no request pays for a compile.
import { MappingEngine, type MappingInput } from './engine.js'
import type { CompiledApi, CompiledGateway } from '../pipeline/compile.js'
import { setTemplateRenderer, type TemplateOutcome, type TemplateRenderer, type TemplateVariables } from './templates.js'

/** Template text → engine id, or the compile error's text. */
class EngineRenderer implements TemplateRenderer {
  readonly #engine: MappingEngine
  readonly #ids = new Map<string, number | string>()

  constructor(engine: MappingEngine) {
    this.#engine = engine
  }

  compile(template: string): number | string {
    let id = this.#ids.get(template)
    if (id === undefined) {
      const c = this.#engine.compile(template)
      id = c.ok ? c.id : `line ${c.line}, column ${c.column}: ${c.message}`
      this.#ids.set(template, id)
    }
    return id
  }

  render(template: string, vars: TemplateVariables): TemplateOutcome {
    const id = this.compile(template)
    if (typeof id === 'string') return { ok: false, message: id }
    return this.#engine.render(id, vars as unknown as MappingInput)
  }
}

/** Every template text of a compiled gateway (integration and gateway responses). */
export function* gatewayTemplates(gw: CompiledGateway): Generator<string> {
  for (const api of gw.apis) {
    yield* apiTemplates(api)
    // A stage's canary runs its own definition's templates.
    for (const s of api.stages.values()) if (s.canary !== null) yield* apiTemplates(s.canary.api)
  }
}

function* apiTemplates(api: CompiledApi): Generator<string> {
  for (const gr of Object.values(api.gatewayResponses)) yield* Object.values(gr.responseTemplates)
  const stage = api.stages.values().next().value
  if (stage === undefined) return
  for (const m of stage.methods) {
    const i = m.integration
    if (i === null) continue
    yield* Object.values(i.requestTemplates)
    for (const r of i.responses) yield* Object.values(r.responseTemplates)
    if (i.defaultResponse !== null) yield* Object.values(i.defaultResponse.responseTemplates)
  }
}

export function installMappingEngine(gw: CompiledGateway | null = null): void {
  const renderer = new EngineRenderer(MappingEngine.load())
  if (gw !== null) for (const t of gatewayTemplates(gw)) renderer.compile(t)
  setTemplateRenderer(renderer)
}
