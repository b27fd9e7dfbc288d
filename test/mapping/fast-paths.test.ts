// The engine's fast paths render exactly what the general paths render: JSON strings kept as bytes
// until read, object keys shared by objects of one shape (copied on write), interned keys,
// $util.escapeJavaScript written straight to the output, ASCII case mapping, JSON numbers parsed from
// bytes, and request sections a template never reads left unencoded. Expected texts follow Java's
// String / Double / LinkedHashMap semantics, as Velocity in API Gateway sees them.
import t from 'tap'
import { MappingEngine } from '../../src/mapping/engine.js'
import type { MappingInput } from '../../src/mapping/engine.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

function input (body: string | null, extra: Partial<MappingInput> = {}): MappingInput {
  return {
    body: body === null ? null : encoder.encode(body),
    params: { path: { p: 'path-value' }, querystring: { q: 'query-value' }, header: { h: 'header-value' } },
    context: { requestId: 'r-1', identity: { sourceIp: '127.0.0.1' } },
    stageVariables: { env: 'prod' },
    ...extra,
  }
}

function render (engine: MappingEngine, template: string, inp: MappingInput): string {
  const c = engine.compile(template)
  if (!c.ok) throw new Error(`${c.line}:${c.column} ${c.message}`)
  const r = engine.render(c.id, inp)
  if (!r.ok) throw new Error(r.message)
  return decoder.decode(r.output)
}

t.test('objects of one shape: changing one (put, remove) changes no other', async (t) => {
  const engine = MappingEngine.load()
  const body = '{"l":[{"a":1,"b":2},{"a":3,"b":4},{"a":5,"b":6}]}'
  // Map.put returns the previous value (null: nothing printed), Map.remove the removed one (3)
  t.equal(render(engine, '#set($l = $input.path(\'$.l\'))$l[0].put("z", 1)$l[1].remove("a")#foreach($o in $l)$o.keySet() #end', input(body)),
    '3[a, b, z] [b] [a, b] ')
  t.equal(render(engine, '#set($l = $input.path(\'$.l\'))$l[2].put("q", 9)#foreach($o in $l)$o #end', input(body)),
    '{a=1, b=2} {a=3, b=4} {a=5, b=6, q=9} ')
  t.equal(render(engine, '#set($l = $input.path(\'$.l\'))$l[0].put("b", 7)#foreach($o in $l)$o #end', input(body)),
    '2{a=1, b=7} {a=3, b=4} {a=5, b=6} ', 'put on an existing key changes that object\'s value only')
})

t.test('objects whose keys differ from their neighbours keep their own keys, in order, duplicates once', async (t) => {
  const engine = MappingEngine.load()
  const body = '{"l":[{"a":1,"b":2},{"a":3,"b":4,"c":0},{"a":5},{"b":1,"a":2},{},{"a":1,"a":2},{"a":9,"b":8}]}'
  t.equal(render(engine, '#foreach($o in $input.path(\'$.l\'))$o.keySet()/$o.size()/$o.a #end', input(body)),
    '[a, b]/2/1 [a, b, c]/3/3 [a]/1/5 [b, a]/2/2 []/0/ [a]/1/2 [a, b]/2/9 ', 'a duplicate key keeps its first place and its last value')
  t.equal(render(engine, '$input.json(\'$.l[3]\') $input.json(\'$.l[1]\')', input(body)), '{"b":1,"a":2} {"a":3,"b":4,"c":0}')
  t.equal(render(engine, '#set($n = $input.path(\'$\'))$n.o.x.y|$n.p.x.y', input('{"o":{"x":{"y":1}},"p":{"x":{"y":2}}}')), '1|2', 'nested objects of one shape')
})

t.test('keys: more distinct keys than the intern table holds, non-ASCII and escaped keys', async (t) => {
  const engine = MappingEngine.load()
  const obj: Record<string, number> = {}
  for (let i = 0; i < 3000; i++) obj[`key${i}`] = i
  const doc = JSON.stringify({ o: obj, 'clé': 'accent', 'a\\"b': 'escaped', 'with space': 's' })
  t.equal(render(engine, '#set($o = $input.path(\'$.o\'))$o.key0 $o.key1234 $o.key2999 $o.size()', input(doc)), '0 1234 2999 3000')
  t.equal(render(engine, '$input.path(\'$\').get("clé") $input.path(\'$\').get(\'a\\"b\') $input.path(\'$\').get("with space")', input(doc)), 'accent escaped s')
  // a template that failed to compile leaves nothing behind that a later render could read
  const failed = engine.compile('$x.key7.key8 #if(')
  t.equal(failed.ok, false)
  t.equal(render(engine, '$input.path(\'$.o\').key7 $input.path(\'$.o\').key8', input(doc)), '7 8')
  // the same names from two templates, rendered one after the other
  t.equal(render(engine, '$input.path(\'$.o\').key5', input(doc)), '5')
  t.equal(render(engine, '$input.path(\'$.o\').key5', input('{"o":{"key5":"five"}}')), 'five')
})

t.test('JSON strings print as their text, whether or not a method read them first', async (t) => {
  const engine = MappingEngine.load()
  const body = JSON.stringify({ ascii: 'plain text', utf8: 'ünïcödé ✓ 😀', esc: 'say "hi"\n\tand \u00e9', empty: '' })
  t.equal(render(engine, '#set($b = $input.path(\'$\'))$b.ascii|$b.utf8|$b.esc|$b.empty|', input(body)), 'plain text|ünïcödé ✓ 😀|say "hi"\n\tand é||')
  t.equal(render(engine, '#set($b = $input.path(\'$\'))$b.ascii.length() $b.ascii $b.utf8.length() $b.utf8', input(body)), '10 plain text 12 ünïcödé ✓ 😀',
    'length() counts UTF-16 units (😀 is two)')
  t.equal(render(engine, '#set($b = $input.path(\'$\'))#if($b.ascii == "plain text")eq#end #if($b.utf8.startsWith("ünï"))starts#end', input(body)), 'eq starts')
  t.equal(render(engine, '$input.json(\'$.esc\') $input.json(\'$.utf8\')', input(body)), '"say \\"hi\\"\\n\\tand \u00e9" "ünïcödé ✓ 😀"', '$input.json copies the source text')
})

t.test('$util.escapeJavaScript printed where it stands equals the escaped string taken through #set', async (t) => {
  const engine = MappingEngine.load()
  const body = JSON.stringify({ a: "it's a/b \\ c", b: 'quote " and\nnewline', c: 'café ✓ 😀', d: 'plain', n: 42, f: 1.5, t: true, z: null })
  for (const name of ['a', 'b', 'c', 'd', 'n', 'f', 't', 'z', 'missing']) {
    const direct = render(engine, `[$util.escapeJavaScript($input.path('$.${name}'))]`, input(body))
    const viaSet = render(engine, `#set($e = $util.escapeJavaScript($input.path('$.${name}')))[$e]`, input(body))
    t.equal(direct, viaSet, name)
  }
  // commons-lang 2 escapeJavaScript: \' and \/ too, non-ASCII as upper-case \uXXXX (surrogates one by one)
  t.equal(render(engine, "$util.escapeJavaScript($input.path('$.a'))", input(body)), "it\\'s a\\/b \\\\ c")
  t.equal(render(engine, "$util.escapeJavaScript($input.path('$.c'))", input(body)), 'caf\\u00E9 \\u2713 \\uD83D\\uDE00')
  t.equal(render(engine, "$util.escapeJavaScript($input.path('$.n'))|$util.escapeJavaScript($input.path('$.z'))|", input(body)), '42||', 'a number prints as its text; null prints nothing')
  t.equal(render(engine, "$util.escapeJavaScript($input.params('q'))", input(null)), 'query-value')
})

t.test('toUpperCase / toLowerCase: ASCII and beyond, as Java maps them', async (t) => {
  const engine = MappingEngine.load()
  const body = JSON.stringify({ s: 'Hello World!', u: 'ALREADY', l: 'lower', x: 'straße ünï' })
  t.equal(render(engine, '#set($b = $input.path(\'$\'))$b.s.toUpperCase() $b.s.toLowerCase() $b.u.toUpperCase() $b.l.toLowerCase() $b.u.toLowerCase()', input(body)),
    'HELLO WORLD! hello world! ALREADY lower already')
  t.equal(render(engine, '#set($b = $input.path(\'$\'))$b.x.toUpperCase() $b.x.toUpperCase().toLowerCase()', input(body)), 'STRASSE ÜNÏ strasse ünï', 'ß upper-cases to SS')
})

t.test('JSON numbers: integers stay Integer/Long, others are Double printed as Java does', async (t) => {
  const engine = MappingEngine.load()
  const body = '{"a":1.5,"b":-0.25,"c":1e2,"d":0.1,"e":123456789012345678901234,"f":2.5E-3,"g":-7,"h":100.0,"i":1.7976931348623157e308,"j":0.000001}'
  t.equal(render(engine, '#set($n = $input.path(\'$\'))$n.a $n.b $n.c $n.d $n.e $n.f $n.g $n.h $n.i $n.j', input(body)),
    '1.5 -0.25 100.0 0.1 1.2345678901234569E23 0.0025 -7 100.0 1.7976931348623157E308 1.0E-6')
  t.equal(render(engine, '#set($n = $input.path(\'$\'))#set($s = $n.a + $n.g)$s', input(body)), '-5.5')
})

t.test('sections a template never names are not needed to render it; an alias of $input still reads them', async (t) => {
  const engine = MappingEngine.load()
  t.equal(render(engine, '#set($i = $input)$i.params(\'p\') $i.params(\'q\') $i.params(\'h\') $i.body $i.path(\'$.a\') $i.json(\'$.a\')', input('{"a":[1]}')),
    'path-value query-value header-value {"a":[1]} [1] [1]')
  t.equal(render(engine, '#set($i = $input)#set($all = $i.params())$all.path.p $all.header.h', input(null)), 'path-value header-value')
  t.equal(render(engine, '$context.requestId $context.identity.sourceIp $stageVariables.env', input('{"a":1}')), 'r-1 127.0.0.1 prod')
  t.equal(render(engine, '#macro(show $x)$x.params(\'q\')#end#show($input)', input(null)), 'query-value', 'inside a macro')
  t.equal(render(engine, '#define($blk)$input.body#end$blk', input('{"k":true}')), '{"k":true}', 'inside #define')
  t.equal(render(engine, 'static', input('{"a":1}')), 'static')
})
