// Mapping templates render exactly as API Gateway renders them: one case per documented fact,
// from test/fixtures/templates/mapping-cases.ts (each names the page it pins).
import t from 'tap'
import { MappingEngine } from '../../src/mapping/engine.js'
import { cases, CONTEXT, PARAMS, PETS, STAGE } from '../fixtures/templates/mapping-cases.js'

const engine = MappingEngine.load()
const encoder = new TextEncoder()
const decoder = new TextDecoder()

t.ok(cases.length >= 150, `at least 150 cases (${cases.length})`)

for (const c of cases) {
  t.test(c.name, async (t) => {
    const compiled = engine.compile(c.template)
    if (!compiled.ok) {
      t.fail(`compile error ${compiled.line}:${compiled.column} ${compiled.message}`, { doc: c.doc })
      return
    }
    const body = c.body === undefined ? PETS : c.body
    const r = engine.render(compiled.id, {
      body: body === null ? null : encoder.encode(body),
      params: {
        path: c.params?.path ?? PARAMS.path,
        querystring: c.params?.querystring ?? PARAMS.querystring,
        header: c.params?.header ?? PARAMS.header,
      },
      context: c.context ?? CONTEXT,
      stageVariables: c.stageVariables ?? STAGE,
    })
    if (c.error !== undefined) {
      t.equal(r.ok, false, 'render fails', { doc: c.doc })
      if (!r.ok) t.match(r.message, c.error)
      return
    }
    if (!r.ok) {
      t.fail(`render error: ${r.message}`, { doc: c.doc })
      return
    }
    t.equal(decoder.decode(r.output), c.expect, c.doc)
    if (c.overrides !== undefined) t.strictSame(r.overrides, c.overrides, 'overrides')
  })
}
