// Quota counters survive a restart and a kill -9 (SIGKILL of a started gateway): usage is in
// SQLite under state.dir, flushed every USAGE_FLUSH_MS (1 s), the named loss window.
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { startGateway, request } from '../helpers/index.js'
import { keyValue, runUsageCli, writeQuotaConfig } from '../helpers/quota.js'
import { USAGE_FLUSH_MS } from '../../src/traffic/usage-store.js'

t.test('kill -9 loses at most USAGE_FLUSH_MS of usage; a clean stop loses none', async (t) => {
  t.equal(USAGE_FLUSH_MS, 1_000, 'the README names a 1 s window')
  const config = writeQuotaConfig(t, 'backplane.json', { workers: 2, state: { dir: './state' }, plans: [{ id: 'gold', quota: { limit: 40, period: 'DAY' }, keys: ['k1'] }] })
  // After the config: writeApi makes the test directory afresh.
  const clock = join(t.testdirName, 'clock')
  writeFileSync(clock, '2026-12-02T10:00:00Z')
  const env = { BACKPLANE_TEST_CLOCK_FILE: clock }
  const get = (url: string) => request(`${url}/prod/pets`, { headers: { 'x-api-key': keyValue('k1') } })
  const ok = async (url: string, n: number) => {
    let c = 0
    for (let i = 0; i < n; i++) if ((await get(url)).status === 200) c++
    return c
  }

  let gw = await startGateway({ args: ['--config', config], env })
  t.teardown(() => gw.stop())
  t.equal(await ok(gw.url, 20), 20)
  // Past one flush: these 20 are on disk.
  await new Promise((r) => setTimeout(r, USAGE_FLUSH_MS + 500))
  t.equal(await ok(gw.url, 5), 5, '5 more, within the loss window')
  gw.signal('SIGKILL')
  const exit = await gw.exited
  t.equal(exit.signal, 'SIGKILL', 'killed -9')

  gw = await startGateway({ args: ['--config', config], env })
  // 40 - 20 kept; the 5 of the last window may be lost (at most them).
  const left = await ok(gw.url, 25)
  t.ok(left >= 15 && left <= 20, `after kill -9: ${left} requests left of 40 (20 flushed were kept; at most the 5 of the last second were lost)`)
  t.equal((await get(gw.url)).status, 429)
  await gw.stop()

  // A clean stop (SIGTERM) flushes everything: the quota stays used up after a restart.
  gw = await startGateway({ args: ['--config', config], env })
  t.equal((await get(gw.url)).status, 429, 'after a clean restart: still used up')
  const r = await runUsageCli(['--config', config, '--plan', 'gold', '--from', '2026-12-02', '--to', '2026-12-02'])
  t.equal(r.code, 0)
  const [[used, remaining]] = JSON.parse(r.stdout).items.k1 as [[number, number]]
  t.equal(used, 40, 'the store holds the whole quota: what survived the kill plus what the restarted gateway let in')
  t.equal(remaining, 0)
})
