// Usage plan quotas and a reload (SIGHUP): a quota added, a limit raised, a period changed.
import t from 'tap'
import { startGateway, request } from '../helpers/index.js'
import { keyValue, writeQuotaConfig } from '../helpers/quota.js'

t.test('a reload (SIGHUP) that adds a quota enforces it; one that changes the limit keeps the counts', async (t) => {
  const plans = (quota?: object) => [{ id: 'gold', ...(quota === undefined ? {} : { quota }), keys: ['k1'] }]
  const config = writeQuotaConfig(t, 'backplane.json', { state: { dir: './state' }, plans: plans() })
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(gw.stop)
  const get = () => request(`${gw.url}/prod/pets`, { headers: { 'x-api-key': keyValue('k1') } })
  const reload = async (quota: object) => {
    writeQuotaConfig(t, 'backplane.json', { state: { dir: './state' }, plans: plans(quota) })
    const n = (gw.output().match(/reloaded: configuration version/g) ?? []).length
    gw.signal('SIGHUP')
    const until = Date.now() + 10_000
    while ((gw.output().match(/reloaded: configuration version/g) ?? []).length === n) {
      if (Date.now() > until) throw new Error('no reload line')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  for (let i = 0; i < 3; i++) t.equal((await get()).status, 200, 'no quota yet')
  await reload({ limit: 2, period: 'DAY' })
  t.strictSame([(await get()).status, (await get()).status, (await get()).status], [200, 200, 429], 'the new quota, counted from the reload')
  await reload({ limit: 4, period: 'DAY' })
  t.strictSame([(await get()).status, (await get()).status, (await get()).status], [200, 200, 429], 'a raised limit: the 2 used still count')
  await reload({ limit: 5, period: 'WEEK' })
  t.strictSame([(await get()).status, (await get()).status], [200, 429], 'a new period type: the week so far holds the 4 used today')
})
