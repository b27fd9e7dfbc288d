// `backplane usage`: bad command lines exit 2 without printing a key value; a state
// directory without a database yet reports zeros (nothing was counted).
import t from 'tap'
import { keyValue, runUsageCli, writeQuotaConfig } from '../helpers/quota.js'

t.test('backplane usage: errors and an empty state', async (t) => {
  const config = writeQuotaConfig(t, 'backplane.json', { state: { dir: './state' }, plans: [{ id: 'gold', quota: { limit: 5, period: 'DAY' }, keys: ['k1', 'k2'] }] })
  const empty = await runUsageCli(['--config', config, '--plan', 'gold', '--key', 'k2', '--from', '2026-12-30', '--to', '2027-01-01'])
  t.equal(empty.code, 0)
  t.strictSame(JSON.parse(empty.stdout), { usagePlanId: 'gold', startDate: '2026-12-30', endDate: '2027-01-01', items: { k2: [[0, 5], [0, 5], [0, 5]] } }, 'one pair per day, across a year end')
  // Bad command lines: exit 2, never a key value.
  const bad = await runUsageCli(['--config', config, '--plan', 'gold', '--key', keyValue('k1'), '--from', '2026-12-05', '--to', '2026-12-07'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /--key names no API key id of usage plan gold/)
  t.notMatch(bad.stderr + bad.stdout, /value-of-/)
  const backwards = await runUsageCli(['--config', config, '--plan', 'gold', '--from', '2026-12-07', '--to', '2026-12-05'])
  t.equal(backwards.code, 2)
  t.match(backwards.stderr, /--to 2026-12-05 is before --from 2026-12-07/)
  const noPlan = await runUsageCli(['--config', config, '--plan', 'platinum', '--from', '2026-12-05', '--to', '2026-12-05'])
  t.equal(noPlan.code, 2)
  t.match(noPlan.stderr, /no usage plan platinum/)
  const badDate = await runUsageCli(['--config', config, '--plan', 'gold', '--from', '2026-02-30', '--to', '2026-03-01'])
  t.equal(badDate.code, 2)
  t.match(badDate.stderr, /--from must be a date, YYYY-MM-DD: 2026-02-30/)
})
