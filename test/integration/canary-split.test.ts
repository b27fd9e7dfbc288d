// Canary release: the traffic split measured at the HTTP level (its own file: 20 000 requests
// take a while on a loaded machine). Source: the developer guide's "Set up an API Gateway canary
// release deployment": percentTraffic of the stage's requests go to the canary release, the
// rest to the stage; the canary's definition (its own resources) serves its share.
import t from 'tap'
import { Pool } from 'undici'
import { startGateway, writeApi, UNTHROTTLED, waitForReady, mockIntegration as mock, apiDoc as api } from '../helpers/index.js'

/** `total` GETs of `url` over `connections` keep-alive connections; the bodies counted. */
async function countBodies(origin: string, path: string, total: number, connections: number): Promise<Map<string, number>> {
  const pool = new Pool(origin, { connections, headersTimeout: 30_000, bodyTimeout: 30_000 })
  const counts = new Map<string, number>()
  let next = 0
  try {
    await Promise.all(Array.from({ length: connections }, async () => {
      while (next < total) {
        next++
        const res = await pool.request({ method: 'GET', path })
        const text = `${res.statusCode} ${await res.body.text()}`
        counts.set(text, (counts.get(text) ?? 0) + 1)
      }
    }))
  } finally {
    await pool.close()
  }
  return counts
}

t.test('percentTraffic: 10 % of 20 000 requests go to the canary (±1 %, and within one request per worker)', async (t) => {
  writeApi(t, api('split', { '/v': { get: { 'x-amazon-apigateway-integration': mock('"stage"') } } }), 'v1.json')
  writeApi(t, api('split', {
    '/v': { get: { 'x-amazon-apigateway-integration': mock('"canary"') } },
    '/new': { get: { 'x-amazon-apigateway-integration': mock('"new"') } },
  }), 'v2.json')
  const workers = 3
  const config = writeApi(t, {
    workers,
    admin: { host: '127.0.0.1', port: 0 },
    throttling: UNTHROTTLED,
    apis: [{ id: 'split', file: 'v1.json', stages: { prod: { canarySettings: { percentTraffic: 10, file: 'v2.json' } }, dev: {} } }],
  }, 'gateway.json')
  const gw = await startGateway({ args: ['--config', config] })
  t.teardown(() => gw.stop())
  await waitForReady(gw)

  const total = 20_000
  const counts = await countBodies(gw.url, '/prod/v', total, 24)
  const canary = counts.get('200 "canary"') ?? 0
  const stage = counts.get('200 "stage"') ?? 0
  t.equal(canary + stage, total, `every request answered 200 by one of the two (${JSON.stringify([...counts])})`)
  t.ok(canary >= 1800 && canary <= 2200, `within ±1 % of 10 %: ${canary} of ${total}`)
  // Each worker's error-diffusion split is within one request of its exact share.
  t.ok(Math.abs(canary - total / 10) < workers, `within ${workers} requests of 2000: ${canary}`)

  // The canary's own definition: a resource only it has answers on its share of requests.
  // (The split goes on from where it was: each worker is within two requests of its share of these.)
  const added = await countBodies(gw.url, '/prod/new', 1000, 8)
  const news = added.get('200 "new"') ?? 0
  t.ok(Math.abs(news - 100) < 2 * workers, `the canary's resource answers on its 10 % share (${news} of 1000)`)
  t.equal(added.get('403 {"message":"Missing Authentication Token"}') ?? 0, 1000 - news, 'the stage does not have it')
  // A stage without canarySettings is not split.
  const dev = await countBodies(gw.url, '/dev/v', 500, 4)
  t.strictSame([...dev], [['200 "stage"', 500]])
})
