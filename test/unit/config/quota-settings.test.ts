// A usage plan's quota (QuotaSettings) as the loader reads it: limit and offset integers with
// CloudFormation's "Minimum: 0" (AWS::ApiGateway::UsagePlan QuotaSettings), period one of
// "DAY", "WEEK" or "MONTH" (UsagePlan API reference, QuotaSettings: "Valid Values"); offset is
// "the number of requests subtracted from the given limit in the initial time period", 0 when absent.
import t from 'tap'
import { parseQuotaSettings } from '../../../src/config/quota-settings.js'

function parse(raw: unknown) {
  const errors: string[] = []
  const unknown: string[] = []
  const q = parseQuotaSettings(raw, '/usagePlans/0/quota', (p, m) => errors.push(`${p}: ${m}`), (entry) => unknown.push(...Object.keys(entry).filter((k) => !['limit', 'period', 'offset'].includes(k))))
  return { q, errors, unknown }
}

t.test('valid quotas', async (t) => {
  t.strictSame(parse({ limit: 10000, period: 'DAY', offset: 0 }).q, { limit: 10000, period: 'DAY', offset: 0 })
  t.strictSame(parse({ limit: 5, period: 'WEEK' }).q, { limit: 5, period: 'WEEK', offset: 0 }, 'offset defaults to 0')
  t.strictSame(parse({ limit: 0, period: 'MONTH', offset: 3 }).q, { limit: 0, period: 'MONTH', offset: 3 }, 'limit 0 (Minimum: 0) refuses every request')
  t.equal(parse(undefined).q, null)
  t.equal(parse(null).q, null)
  t.ok(Object.isFrozen(parse({ limit: 1, period: 'DAY' }).q))
})

t.test('what AWS refuses is refused with its pointer', async (t) => {
  t.strictSame(parse('daily').errors, ['/usagePlans/0/quota: must be a map'])
  t.strictSame(parse({ limit: -1, period: 'DAY' }).errors, ['/usagePlans/0/quota/limit: must be an integer from 0 to 2147483647: the requests a key may make per period'])
  t.strictSame(parse({ limit: 1.5, period: 'HOUR', offset: -2 }).errors, [
    '/usagePlans/0/quota/limit: must be an integer from 0 to 2147483647: the requests a key may make per period',
    '/usagePlans/0/quota/offset: must be an integer from 0 to 2147483647: the requests subtracted from the limit in the initial period',
    '/usagePlans/0/quota/period: must be DAY, WEEK or MONTH',
  ])
  t.strictSame(parse({ period: 'day' }).errors, [
    '/usagePlans/0/quota/limit: must be an integer from 0 to 2147483647: the requests a key may make per period',
    '/usagePlans/0/quota/period: must be DAY, WEEK or MONTH',
  ], 'period is case-sensitive, limit is required')
  t.strictSame(parse({ limit: 2 ** 31, period: 'DAY' }).errors.length, 1, 'past a 32-bit Integer')
  t.equal(parse({ limit: -1, period: 'DAY' }).q, null)
  t.strictSame(parse({ limit: 1, period: 'DAY', perod: 'x' }).unknown, ['perod'], 'unknown keys go to the warning')
})
