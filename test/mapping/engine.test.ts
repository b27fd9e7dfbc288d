// MappingEngine drives build/mapping.wasm: failures are values, traps rebuild the instance, and the
// heap does not grow from one render to the next.
import t from 'tap'
import { MappingEngine } from '../../src/mapping/engine.js'
import type { MappingInput } from '../../src/mapping/engine.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function input (body: string | null, extra: Partial<MappingInput> = {}): MappingInput {
  return {
    body: body === null ? null : encoder.encode(body),
    params: { path: {}, querystring: {}, header: {} },
    context: { requestId: 'r-1' },
    stageVariables: {},
    ...extra,
  }
}

function compile (engine: MappingEngine, template: string): number {
  const r = engine.compile(template)
  if (!r.ok) throw new Error(`${r.line}:${r.column} ${r.message}`)
  return r.id
}

function text (engine: MappingEngine, id: number, inp: MappingInput): string {
  const r = engine.render(id, inp)
  if (!r.ok) throw new Error(r.message)
  return decoder.decode(r.output)
}

t.test('a trap rebuilds the instance and keeps every template id', async (t) => {
  const engine = MappingEngine.load()
  const a = compile(engine, 'A=$input.path(\'$.a\')')
  const b = compile(engine, 'B=$context.requestId')
  t.equal(text(engine, a, input('{"a": 1}')), 'A=1')
  const trapped = engine.trapForTest()
  t.equal(trapped.ok, false)
  if (!trapped.ok) t.match(trapped.message, /mapping template failed/)
  t.equal(text(engine, a, input('{"a": 2}')), 'A=2')
  t.equal(text(engine, b, input(null)), 'B=r-1')
})

t.test('an unknown template id is an error result', async (t) => {
  const engine = MappingEngine.load()
  const r = engine.render(99, input(null))
  t.equal(r.ok, false)
  if (!r.ok) t.match(r.message, /unknown template id/)
})

t.test('a runtime error does not leak into the next render', async (t) => {
  const engine = MappingEngine.load()
  const bad = compile(engine, '$input.path(\'$.a\')')
  const good = compile(engine, 'ok $input.json(\'$\')')
  const r = engine.render(bad, input('{not json'))
  t.equal(r.ok, false)
  t.equal(text(engine, good, input('{"x": [1, 2]}')), 'ok {"x":[1,2]}')
})

t.test('memory stays flat across many renders', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '#foreach($i in $input.path(\'$.items\'))$i.name.toUpperCase()$util.escapeJavaScript($i.note)#end')
  const items = Array.from({ length: 200 }, (_, i) => ({ name: `n${i}`, note: `it's "${i}"` }))
  const inp = input(JSON.stringify({ items }))
  text(engine, id, inp)
  const before = engine.memoryBytes
  for (let i = 0; i < 3000; i++) text(engine, id, inp)
  t.equal(engine.memoryBytes, before)
})

t.test('a request record larger than the first estimate is re-encoded', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '$input.params().header.size() $input.params(\'h1999\') $context.big.length()')
  const header: Record<string, string> = {}
  for (let i = 0; i < 2000; i++) header[`h${i}`] = `value-${i}`
  const out = text(engine, id, input(null, {
    params: { path: {}, querystring: {}, header },
    context: { big: 'x'.repeat(50_000) },
  }))
  t.equal(out, '2000 value-1999 50000')
})

t.test('a large body and a large output', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '$input.json(\'$\')')
  const body = JSON.stringify({ data: 'y'.repeat(1_000_000) })
  const r = engine.render(id, input(body))
  t.ok(r.ok)
  if (r.ok) t.equal(r.output.byteLength, body.length)
})

t.test('output over 10 MB is OUTPUT_TOO_LARGE, not a grown heap', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '#foreach($i in [1..200])$input.body#end')
  const r = engine.render(id, input('z'.repeat(60_000)))
  t.equal(r.ok, false)
  if (!r.ok) t.match(r.message, /exceeds 10 MB/)
  const small = compile(engine, 'fine')
  t.equal(text(engine, small, input(null)), 'fine')
})

t.test('deeply nested JSON is an error, not a stack overflow', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '$input.path(\'$\')')
  const r = engine.render(id, input('['.repeat(5000) + ']'.repeat(5000)))
  t.equal(r.ok, false)
  if (!r.ok) t.match(r.message, /Invalid JSON/)
})

t.test('a huge range is an error', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '#foreach($i in [1..100000000])x#end')
  const r = engine.render(id, input(null))
  t.equal(r.ok, false)
  if (!r.ok) t.match(r.message, /range is too large/)
})

t.test('regular expressions cross to the host once per call; literal splits do not', async (t) => {
  const engine = MappingEngine.load()
  const regex = compile(engine, '#set($s = "a1b2")$s.replaceAll("\\d", "#")$s.matches("[a-z0-9]+")')
  t.equal(text(engine, regex, input(null)), 'a#b#true')
  t.equal(engine.lastHostCalls, 2)
  const literal = compile(engine, '#set($s = "a,b,c")$s.split(",").size()$s.replace("a", "z")')
  t.equal(text(engine, literal, input(null)), '3z,b,c')
  t.equal(engine.lastHostCalls, 0)
})

t.test('a regex result larger than the scratch buffer is retried once', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '$input.body.replaceAll("a", "aaaaaaaaaa").length()')
  t.equal(text(engine, id, input('a'.repeat(1000))), '10000')
  t.equal(engine.lastHostCalls, 2)
})

t.test('String.split on a regex follows Java (leading empty kept, trailing dropped)', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '#set($s = ",a,,b,,")$s.split(",+") $s.split("") $s.split(",", -1).size()')
  t.equal(text(engine, id, input(null)), '[, a, b] [,, a, ,, ,, b, ,, ,] 6')
})

t.test('render output is a copy the caller owns', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '$input.body')
  const r1 = engine.render(id, input('first'))
  const r2 = engine.render(id, input('second'))
  t.ok(r1.ok && r2.ok)
  if (r1.ok && r2.ok) {
    t.equal(decoder.decode(r1.output), 'first')
    t.equal(decoder.decode(r2.output), 'second')
  }
})

t.test('a template nested deeply enough to exhaust the stack fails to compile, and the engine recovers', async (t) => {
  const engine = MappingEngine.load()
  const ok = compile(engine, 'still $context.requestId')
  const r = engine.compile('#set($a = ' + '('.repeat(200_000) + '1' + ')'.repeat(200_000) + ')')
  t.equal(r.ok, false)
  t.equal(text(engine, ok, input(null)), 'still r-1')
})

t.test('malformed UTF-8 in the body decodes to U+FFFD per bad sequence, as Java does', async (t) => {
  const engine = MappingEngine.load()
  const id = compile(engine, '$input.body.length() $util.escapeJavaScript($input.body)')
  const r = engine.render(id, { ...input(null), body: new Uint8Array([0x22, 0xc3, 0x22, 0xf0, 0x9f, 0x98, 0x80]) })
  t.ok(r.ok)
  if (r.ok) t.equal(decoder.decode(r.output), '5 \\"\\uFFFD\\"\\uD83D\\uDE00')
})
