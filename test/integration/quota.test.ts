// Usage plan quotas over HTTP, on the test clock (BACKPLANE_TEST_CLOCK_FILE).
// Sources: the guide's "Gateway response types" (QUOTA_EXCEEDED: 429, LimitExceededException)
// and LocalStack's AWS-validated snapshot of the default gateway responses
// (test_apigateway_api.snapshot.json: QUOTA_EXCEEDED, statusCode 429, template
// {"message":$context.error.messageString}) → {"message":"Limit Exceeded"}; the UsagePlan API
// reference (QuotaSettings: period DAY | WEEK | MONTH; offset "the number of requests
// subtracted from the given limit in the initial time period"); GetUsage's shape
// (usagePlanId, startDate, endDate, items: {keyId: [[used, remaining], …]}).
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { startGateway, request } from '../helpers/index.js'
import { keyValue, runUsageCli, setTestClock, usageOnceFlushed, writeQuotaConfig } from '../helpers/quota.js'

t.test('quotas: Limit Exceeded, per key, across DAY, WEEK and MONTH boundaries, exact with 2 workers, backplane usage', async (t) => {
  const config = writeQuotaConfig(t, 'backplane.json', {
    workers: 2,
    state: { dir: './state' },
    plans: [
      { id: 'gold', quota: { limit: 5, period: 'DAY', offset: 0 }, keys: ['k1', 'k2'] },
      { id: 'silver', quota: { limit: 3, period: 'WEEK', offset: 1 }, keys: ['k3'] },
      { id: 'bronze', quota: { limit: 2, period: 'MONTH' }, keys: ['k4'] },
      { id: 'free', keys: ['k5'] },
      { id: 'burst', quota: { limit: 30, period: 'DAY' }, keys: ['k6'] },
      { id: 'strict', quota: { limit: 2, period: 'DAY' }, keys: ['k7'] },
    ],
  })
  // After the config: writeApi makes the test directory afresh.
  const clock = join(t.testdirName, 'clock')
  writeFileSync(clock, '2026-12-05T23:59:00Z') // a Saturday
  const gw = await startGateway({ args: ['--config', config, '--admin-port', '0'], env: { BACKPLANE_TEST_CLOCK_FILE: clock } })
  t.teardown(gw.stop)
  t.match(gw.output(), /BACKPLANE_TEST_CLOCK_FILE is set: quotas and usage run on the test clock in .* \(for tests only\)/, 'the test clock says so in the log')
  t.notMatch(gw.output(), /not enforced/, 'a quota is enforced: no not-enforced warning')

  const get = (key: string | null, path = '/prod/pets') => request(`${gw.url}${path}`, key === null ? {} : { headers: { 'x-api-key': keyValue(key) } })
  const statuses = async (key: string, n: number) => {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push((await get(key)).status)
    return out
  }

  // DAY: 5 requests, then 429 Limit Exceeded through QUOTA_EXCEEDED.
  t.strictSame(await statuses('k1', 5), [200, 200, 200, 200, 200])
  for (let i = 0; i < 2; i++) {
    const r = await get('k1')
    t.equal(r.status, 429, 'over quota: 429')
    t.equal(r.text, '{"message":"Limit Exceeded"}')
    t.equal(r.headers['x-amzn-errortype'], 'LimitExceededException')
    t.equal(r.headers['content-type'], 'application/json')
    t.ok(typeof r.headers['x-amzn-requestid'] === 'string')
  }
  t.equal((await get('k2')).status, 200, 'the quota is per key: another key of the plan still has its own')
  t.strictSame(await statuses('k5', 8), [200, 200, 200, 200, 200, 200, 200, 200], 'a plan without a quota: no limit')
  t.equal((await get(null, '/prod/open')).status, 200, 'a method without a key: no quota')
  t.equal((await get(null)).status, 403, 'no key: 403 before any quota')

  // Which requests count: those let in to the integration. An AWS support note (Classmethod,
  // "Why is there a difference between the Count value and the usage plan usage value"): quota
  // is consumed by requests with valid keys that are accepted, even when the backend then
  // errs; gateway response errors are not counted. Here: a request refused by request validation.
  const search = (q: boolean) => request(`${gw.url}/prod/search${q ? '?q=x' : ''}`, { headers: { 'x-api-key': keyValue('k7') } })
  for (let i = 0; i < 3; i++) t.equal((await search(false)).status, 400, 'invalid: 400 before the quota')
  t.strictSame([(await search(true)).status, (await search(true)).status, (await search(true)).status], [200, 200, 429], 'the 3 invalid requests used none of the 2')

  // WEEK with offset 1: the initial week (the quota first ran this Saturday) allows 3 - 1.
  t.strictSame(await statuses('k3', 3), [200, 200, 429])
  // MONTH: 2 in December.
  t.strictSame(await statuses('k4', 3), [200, 200, 429])

  // Exact across 2 workers: 60 requests at once against 30.
  const burst = await Promise.all(Array.from({ length: 60 }, () => get('k6')))
  t.equal(burst.filter((r) => r.status === 200).length, 30, 'exactly the limit let in')
  t.equal(burst.filter((r) => r.status === 429).length, 30)

  // Sunday 00:00 UTC: a new DAY and a new WEEK (weeks start on Sunday), not a new MONTH.
  await setTestClock(clock, '2026-12-06T00:00:00Z')
  t.strictSame(await statuses('k1', 1), [200], 'DAY reset at midnight UTC')
  t.strictSame(await statuses('k3', 4), [200, 200, 200, 429], 'WEEK reset on Sunday: the full limit after the initial week')
  t.strictSame(await statuses('k4', 1), [429], 'same MONTH')
  await setTestClock(clock, '2026-12-07T12:00:00Z')
  t.strictSame(await statuses('k3', 1), [429], 'Monday: same week')
  await setTestClock(clock, '2026-12-31T23:59:59Z')
  t.strictSame(await statuses('k4', 1), [429], 'the last second of December')
  await setTestClock(clock, '2027-01-01T00:00:00Z')
  t.strictSame(await statuses('k4', 3), [200, 200, 429], 'MONTH reset on the 1st, 00:00 UTC')

  // Every refusal is counted in backplane_quota_exceeded_total: k1 2, k3 1 + 1 + 1, k4 1 + 1 + 1 + 1, k6 30, k7 1.
  const admin = /backplane admin on (http:\/\/\S+)/.exec(gw.output())![1]!
  const metrics = (await request(`${admin}/metrics`)).text
  const exceeded = [...metrics.matchAll(/^backplane_quota_exceeded_total\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0)
  t.equal(exceeded, 40, 'the quota refusals in the metrics')

  // backplane usage, while the gateway runs: GetUsage's shape, refused requests not counted.
  const gold = {
    usagePlanId: 'gold', startDate: '2026-12-05', endDate: '2026-12-07',
    items: { k1: [[5, 0], [1, 4], [0, 5]], k2: [[1, 4], [0, 5], [0, 5]] },
  }
  t.strictSame(await usageOnceFlushed(['--config', config, '--plan', 'gold', '--from', '2026-12-05', '--to', '2026-12-07'], gold), gold, 'used and remaining per key per day')
  const r = await runUsageCli(['--config', config, '--plan', 'silver', '--key', 'k3', '--from', '2026-12-05', '--to', '2026-12-07'])
  t.equal(r.code, 0)
  t.strictSame(JSON.parse(r.stdout), { usagePlanId: 'silver', startDate: '2026-12-05', endDate: '2026-12-07', items: { k3: [[2, 0], [3, 0], [0, 0]] } }, 'the initial week has limit - offset')
  t.notMatch(r.stdout + r.stderr, /value-of-/, 'no key value printed')
  const bronze = await runUsageCli(['--config', config, '--plan', 'bronze', '--from', '2026-12-31', '--to', '2027-01-01'])
  t.strictSame(JSON.parse(bronze.stdout).items, { k4: [[0, 0], [2, 0]] })
  const burstUsage = await runUsageCli(['--config', config, '--plan', 'burst', '--from', '2026-12-05', '--to', '2026-12-05'])
  t.strictSame(JSON.parse(burstUsage.stdout).items, { k6: [[30, 0]] }, 'the 30 refused requests were not counted')
})
