// $context.requestTime's text is cached for the second it names; every other time gets its own.
import t from 'tap'
import { formatRequestTime } from '../../../src/util/request-time.js'

t.test('formatRequestTime: CLF text per second, whatever order the times come in', async (t) => {
  const base = Date.UTC(2026, 11, 2, 6, 30, 59)
  t.equal(formatRequestTime(base), '02/Dec/2026:06:30:59 +0000')
  t.equal(formatRequestTime(base + 999), '02/Dec/2026:06:30:59 +0000', 'the same second')
  t.equal(formatRequestTime(base + 1000), '02/Dec/2026:06:31:00 +0000', 'the next second')
  t.equal(formatRequestTime(base - 1), '02/Dec/2026:06:30:58 +0000', 'an earlier time after a later one')
  t.equal(formatRequestTime(Date.UTC(2026, 11, 31, 23, 59, 59, 500)), '31/Dec/2026:23:59:59 +0000')
  t.equal(formatRequestTime(Date.UTC(2027, 0, 1, 0, 0, 0, 1)), '01/Jan/2027:00:00:00 +0000', 'across a year')
})
