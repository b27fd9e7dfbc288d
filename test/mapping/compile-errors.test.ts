// Compile errors carry the line and column (1-based) of the fault; the caller adds file and JSON pointer.
import t from 'tap'
import { MappingEngine } from '../../src/mapping/engine.js'

const engine = MappingEngine.load()

const cases: Array<{ name: string; template: string; line: number; column: number; message: RegExp }> = [
  { name: '#if without #end points at the #if', template: 'a\n  #if($a)\nb', line: 2, column: 3, message: /not closed by #end/ },
  { name: '#foreach without #end points at the #foreach', template: '#foreach($a in $b)\nx', line: 1, column: 1, message: /not closed by #end/ },
  { name: '#macro without #end points at the #macro', template: 'x\n#macro(m)\n', line: 2, column: 1, message: /not closed by #end/ },
  { name: 'a stray #end', template: 'hello\n#end', line: 2, column: 1, message: /#end without/ },
  { name: 'a stray #else', template: '#else', line: 1, column: 1, message: /#else or #elseif without #if/ },
  { name: 'a second #else', template: '#if(true)#else#else#end', line: 1, column: 15, message: /#else or #elseif without #if/ },
  { name: 'a missing expression in #set', template: '#set($a = )', line: 1, column: 11, message: /expected an expression/ },
  { name: '#set without parentheses', template: '#set $a = 1', line: 1, column: 1, message: /expected '\('/ },
  { name: '#set without a reference', template: '#set(a = 1)', line: 1, column: 6, message: /expected a reference/ },
  { name: '#set without =', template: '#set($a 1)', line: 1, column: 9, message: /expected '='/ },
  { name: '#foreach without in', template: '#foreach($x $list)#end', line: 1, column: 13, message: /expected 'in'/ },
  { name: 'an unclosed #* comment', template: 'a\n  #* never closed', line: 2, column: 3, message: /unclosed #\* comment/ },
  { name: 'an unclosed string literal', template: '#set($a = "abc)', line: 1, column: 11, message: /unclosed string/ },
  { name: 'an unclosed method call at the end of the template (CRLF lines)', template: 'line1\r\nline2 $a.b(', line: 2, column: 12, message: /expected an expression/ },
  { name: 'a missing ) in #if', template: '#if($a == 1 x', line: 1, column: 13, message: /expected '\)'/ },
  { name: 'an unclosed list literal', template: '#set($l = [1, 2)', line: 1, column: 16, message: /expected '\]'/ },
  { name: 'a map literal without a colon', template: '#set($m = {"a" 1})', line: 1, column: 16, message: /expected ':'/ },
  { name: '#macro without a name', template: '#macro()#end', line: 1, column: 8, message: /expected a macro name/ },
  { name: 'a macro named like a directive', template: '#macro(if)#end', line: 1, column: 8, message: /directive/ },
  { name: 'an error inside an interpolated string points into the string', template: '#set($a = "x $b.c(")', line: 1, column: 19, message: /expected an expression/ },
  { name: 'an unclosed #[[ block', template: '#[[ raw', line: 1, column: 1, message: /unclosed #\[\[/ },
  { name: 'the column counts UTF-16 code units after the last newline', template: 'é\n\t#if(', line: 2, column: 6, message: /expected an expression/ },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    const r = engine.compile(c.template)
    t.equal(r.ok, false)
    if (r.ok) return
    t.match(r.message, c.message)
    t.strictSame({ line: r.line, column: r.column }, { line: c.line, column: c.column })
  })
}

t.test('a failed compile leaves the engine usable and ids dense', async (t) => {
  const bad = engine.compile('#if(')
  t.equal(bad.ok, false)
  const a = engine.compile('A')
  const b = engine.compile('B')
  t.ok(a.ok && b.ok)
  if (a.ok && b.ok) t.equal(b.id, a.id + 1)
})
