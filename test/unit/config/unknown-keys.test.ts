import t from 'tap'
import { closestKey, warnUnknownKeys } from '../../../src/config/unknown-keys.js'
import { resolveEnvRefs } from '../../../src/config/secrets.js'
import type { ConfigProblem } from '../../../src/errors.js'

t.test('closestKey names a likely misspelling and nothing for another word', async (t) => {
  t.equal(closestKey('passthroughBehaviour', ['passthroughBehavior', 'requestTemplates']), 'passthroughBehavior')
  t.equal(closestKey('requestTemplate', ['passthroughBehavior', 'requestTemplates']), 'requestTemplates')
  t.equal(closestKey('zzz', ['listen', 'workers']), null)
})

t.test('warnUnknownKeys warns with the pointer and a did-you-mean', async (t) => {
  const problems: ConfigProblem[] = []
  warnUnknownKeys({ listen: {}, wrokers: 2, other: 1 }, ['listen', 'workers'], 'f.yaml', '', problems)
  t.strictSame(problems.map((p) => [p.pointer, p.message, p.severity]), [
    ['/wrokers', 'unknown key "wrokers" is ignored; did you mean "workers"?', 'warning'],
    ['/other', 'unknown key "other" is ignored', 'warning'],
  ])
})

t.test('resolveEnvRefs reads the environment and never prints a value', async (t) => {
  const problems: ConfigProblem[] = []
  t.equal(resolveEnvRefs('k-${env:BP_T_KEY}', 'f', '/apiKeys/0/value', problems, { BP_T_KEY: 's3cret' }), 'k-s3cret')
  t.equal(resolveEnvRefs('${env:BP_T_MISSING}', 'f', '/apiKeys/0/value', problems, {}), '')
  t.strictSame(problems.map((p) => p.message), ['environment variable BP_T_MISSING is not set'])
})
