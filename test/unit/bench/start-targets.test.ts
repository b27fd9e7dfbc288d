// The bench's shared start-up (bench/e2e/start-targets.ts, used by runner.ts and guard.ts):
// dependencies start first and each target once, a target that cannot run is named with its
// reason, the check request throws on a wrong answer, a scenario's load keeps its method,
// headers and body.
import t from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { checkAnswer, scenarioLoad, startOrder, unavailableTargets } from '../../../bench/e2e/start-targets.js'
import type { Scenario } from '../../../bench/e2e/scenarios.js'
import type { Knobs } from '../../../bench/e2e/knobs.js'

const scenario = (fields: Partial<Scenario> = {}): Scenario => ({
  name: 's',
  description: 'd',
  target: 'gateway',
  path: '/x',
  expect: { status: 200, body: (text) => text === 'ok' },
  ...fields
})

t.test('start order: what a target needs first, every target once', async (t) => {
  t.strictSame(startOrder(['gateway']), ['echo', 'gateway'])
  t.strictSame(startOrder(['gateway', 'floor', 'hello-uws']), ['echo', 'gateway', 'floor', 'hello-uws'])
  t.strictSame(startOrder(['gateway-grpc', 'gateway']), ['grpc-echo', 'gateway-grpc', 'echo', 'gateway'])
  t.throws(() => startOrder(['nope']), { message: 'unknown target "nope"' })
})

t.test('targets that cannot run here are each named with the reason', async (t) => {
  // A root without dist/: the gateway CLI is not built there.
  const ctx = { root: t.testdir(), urls: {}, knobs: {} as Knobs }
  const out = unavailableTargets(['gateway'], ctx)
  t.strictSame(out, [{ name: 'gateway', why: 'dist/src/cli.js not built' }])
})

t.test('the check request: passes on the expected answer, throws naming the request otherwise', async (t) => {
  const server = createServer((req, res) => { res.end(req.url === '/x' ? 'ok' : 'wrong') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  await t.resolves(checkAnswer(`${base}/x`, scenario(), 5_000))
  await t.rejects(checkAnswer(`${base}/y`, scenario(), 5_000), { message: `check failed: GET ${base}/y answered 200 "wrong"` })
  await t.rejects(checkAnswer(`${base}/x`, scenario({ method: 'POST', expect: { status: 201, body: () => true } }), 5_000), { message: `check failed: POST ${base}/x answered 200 "ok"` })
})

t.test("a scenario's load: its method, headers and body, only when it has them", async (t) => {
  const pacing = { connections: 8, pipelining: 1, rate: null, duration: 2 }
  t.strictSame(scenarioLoad(scenario(), 'http://127.0.0.1:1/x', pacing), { url: 'http://127.0.0.1:1/x', connections: 8, pipelining: 1, rate: null, duration: 2 })
  t.strictSame(scenarioLoad(scenario({ method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 'http://127.0.0.1:1/x', { ...pacing, rate: 500 }), {
    url: 'http://127.0.0.1:1/x', connections: 8, pipelining: 1, rate: 500, duration: 2, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}'
  })
})
