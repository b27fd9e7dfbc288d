// Load-time check of every mapping template: a template that does not compile is named with
// the API file, the template's JSON pointer, line and column. Strict (`check`, `serve --strict`)
// refuses it; otherwise (`serve`) it is a warning, the rest of the API is served and its method
// answers 500 with the reason logged (API Gateway's "Execution failed due to configuration error").
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import { MappingEngine } from './engine.js'
import type { ApiSource } from '../config/model.js'

/** The compile error of a template, or null when it compiles. */
function compileError(engine: MappingEngine, template: string): string | null {
  const c = engine.compile(template)
  return c.ok ? null : `mapping template error at line ${c.line}, column ${c.column}: ${c.message}`
}

function check(engine: MappingEngine, file: string, pointer: string, template: string, problems: ConfigProblem[]): void {
  const e = compileError(engine, template)
  if (e !== null) problems.push({ code: Codes.TEMPLATE, file, pointer, message: e, severity: 'error' })
}

export function checkTemplates(apis: readonly ApiSource[], problems: ConfigProblem[], strict = true): void {
  // A throwaway engine: compiled templates are never freed inside one.
  const engine = MappingEngine.load()
  for (const api of apis) {
    for (const [type, gr] of Object.entries(api.gatewayResponses)) {
      for (const [ct, t] of Object.entries(gr.responseTemplates)) check(engine, api.file, pointerJoin('/x-amazon-apigateway-gateway-responses', type, 'responseTemplates', ct), t, problems)
    }
    for (const op of api.operations) {
      const i = op.integration
      if (i === null) continue
      const found: [string, string][] = []
      for (const [ct, t] of Object.entries(i.requestTemplates)) {
        const e = compileError(engine, t)
        if (e !== null) found.push([pointerJoin(i.pointer, 'requestTemplates', ct), e])
      }
      for (const r of i.responses) {
        for (const [ct, t] of Object.entries(r.responseTemplates)) {
          const e = compileError(engine, t)
          if (e !== null) found.push([pointerJoin(i.pointer, 'responses', r.selectionPattern, 'responseTemplates', ct), e])
        }
      }
      for (const [pointer, e] of found) {
        problems.push({ code: Codes.TEMPLATE, file: api.file, pointer, message: strict ? e : `${e}; requests to this method get 500 Internal server error`, severity: strict ? 'error' : 'warning' })
      }
      i.templateError = found.length === 0 ? null : `${found[0]![1]} (${found[0]![0]})`
    }
  }
}
