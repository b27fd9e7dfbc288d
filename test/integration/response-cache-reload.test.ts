// SIGHUP and the stage cache: a stage whose cache keeps its bound keeps its entries; a new
// cacheClusterSize starts an empty cache, as API Gateway "changes caching capacity by removing
// the existing cache instance and creating a new one … All existing cached data is deleted"
// (developer guide, "Cache settings for REST APIs").
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { request } from '../helpers/index.js'
import { config, startCached } from '../helpers/response-cache.js'

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (fn()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('a reload keeps the entries of an unchanged cache and empties a resized one', async (t) => {
  const stage = { methodSettings: { '*/*': { cachingEnabled: true } } }
  const { base, calls, gw, file } = await startCached(t, stage)
  await request(`${base}/pets/1`)
  t.equal(calls('/pets/1'), 1)

  writeFileSync(file, JSON.stringify(config({ ...stage, variables: { changed: 'yes' } })))
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 1/.test(gw.output()), 'the first reload')
  await request(`${base}/pets/1`)
  t.equal(calls('/pets/1'), 1, 'the same bound: the entry survived the reload')

  writeFileSync(file, JSON.stringify(config({ ...stage, cacheClusterSize: '1.6' })))
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 2/.test(gw.output()), 'the second reload')
  await request(`${base}/pets/1`)
  t.equal(calls('/pets/1'), 2, 'a new cacheClusterSize: a new, empty cache')
})
