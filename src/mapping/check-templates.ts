// Load-time check of every mapping template: a template that does not compile is
// refused with the API file, the template's JSON pointer, line and column.
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import { MappingEngine } from './engine.js'
import type { ApiSource } from '../config/model.js'

function check(engine: MappingEngine, file: string, pointer: string, template: string, problems: ConfigProblem[]): void {
  const c = engine.compile(template)
  if (!c.ok) problems.push({ code: Codes.TEMPLATE, file, pointer, message: `mapping template error at line ${c.line}, column ${c.column}: ${c.message}`, severity: 'error' })
}

export function checkTemplates(apis: readonly ApiSource[], problems: ConfigProblem[]): void {
  // A throwaway engine: compiled templates are never freed inside one.
  const engine = MappingEngine.load()
  for (const api of apis) {
    for (const [type, gr] of Object.entries(api.gatewayResponses)) {
      for (const [ct, t] of Object.entries(gr.responseTemplates)) check(engine, api.file, pointerJoin('/x-amazon-apigateway-gateway-responses', type, 'responseTemplates', ct), t, problems)
    }
    for (const op of api.operations) {
      const i = op.integration
      if (i === null) continue
      for (const [ct, t] of Object.entries(i.requestTemplates)) check(engine, api.file, pointerJoin(i.pointer, 'requestTemplates', ct), t, problems)
      for (const r of i.responses) {
        for (const [ct, t] of Object.entries(r.responseTemplates)) check(engine, api.file, pointerJoin(i.pointer, 'responses', r.selectionPattern, 'responseTemplates', ct), t, problems)
      }
    }
  }
}
