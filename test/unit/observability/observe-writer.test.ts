// observe.ts remembers the writer of the last access log destination (no lookup by name per
// request); it must follow a change of destination and never keep a writer that was closed
// (closeLogWriters on a drain or reload), whose lines would all be dropped.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { closeLogWriters, writerFor } from '../../../src/observability/log-writer.js'
import { writerOf } from '../../../src/observability/observe.js'

t.test('the remembered writer: the destination\'s, another for another destination, a new one once closed', async (t) => {
  const dir = t.testdir()
  const a = join(dir, 'a.log')
  const b = join(dir, 'b.log')
  const first = writerOf(a)
  t.equal(first, writerFor(a), 'the destination\'s writer')
  t.equal(writerOf(a), first, 'remembered')
  const other = writerOf(b)
  t.not(other, first, 'another destination, another writer')
  t.equal(writerOf(a), first, 'and back')
  first.writeLine('before')
  await closeLogWriters()
  t.ok(first.closed)
  const next = writerOf(a)
  t.not(next, first, 'a closed writer is not kept')
  t.notOk(next.closed)
  t.equal(next, writerFor(a), 'the one writerFor now gives')
  next.writeLine('after')
  await closeLogWriters()
  t.equal(readFileSync(a, 'utf8'), 'before\nafter\n', 'both lines written')
})
