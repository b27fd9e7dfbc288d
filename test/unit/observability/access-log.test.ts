// Access log formats compile once into literal pieces and variable ids (STYLE §D.4).
import t from 'tap'
import { compileAccessLogFormat } from '../../../src/observability/access-log.js'
import { ACCESS_LOG_PRESETS } from '../../../src/config/stage-settings.js'
import type { ConfigProblem } from '../../../src/errors.js'

t.test('the console\'s four formats compile without a problem', async (t) => {
  for (const [name, format] of Object.entries(ACCESS_LOG_PRESETS)) {
    const problems: ConfigProblem[] = []
    const c = compileAccessLogFormat(format, 'gw.yaml', '/p', problems)
    t.strictSame(problems, [], name)
    t.equal(c.literals.length, c.vars.length + 1, `${name}: a literal around every variable`)
    t.equal(c.literals.join(''), format.replace(/\$context\.[A-Za-z.]+/g, ''), `${name}: the literals are the rest of the text`)
  }
})

t.test('literals keep what surrounds each variable; a trailing dot is text', async (t) => {
  const c = compileAccessLogFormat('[$context.requestId] $context.status.', 'gw.yaml', '/p', [])
  t.strictSame(c.literals, ['[', '] ', '.'])
  t.equal(c.vars.length, 2)
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.literals))
})

t.test('unknown variables warn; authorizer.* and requestOverride.* are known; a format needs a request id', async (t) => {
  const problems: ConfigProblem[] = []
  compileAccessLogFormat('$context.extendedRequestId $context.authorizer.tenant $context.nope', 'gw.yaml', '/apis/0/stages/prod/accessLogSettings/format', problems)
  t.strictSame(problems.map((p) => [p.severity, p.message]), [['warning', '$context.nope is not a variable for access logging; it prints "-"']])
  const none: ConfigProblem[] = []
  compileAccessLogFormat('$context.status', 'gw.yaml', '/f', none)
  t.strictSame(none.map((p) => [p.code, p.severity, p.pointer]), [['BP_ERR_CONFIG_ACCESS_LOG', 'error', '/f']])
})

t.test('a multi-line YAML format becomes one line', async (t) => {
  const c = compileAccessLogFormat('{ "id": "$context.requestId",\n  "s": $context.status }\n', 'gw.yaml', '/p', [])
  t.strictSame(c.literals, ['{ "id": "', '",   "s": ', ' }'])
})
