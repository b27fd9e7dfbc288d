// SIGHUP reloads the API files: a valid change replaces the running configuration in
// every worker; an invalid one is refused with file, pointer and reason, and the running
// configuration stays (DESIGN.md: config swapped atomically on reload).
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { startGateway, writeApi, request } from '../helpers/index.js'

const mock = (body: string) => ({
  type: 'mock',
  requestTemplates: { 'application/json': '{"statusCode": 200}' },
  responses: { default: { statusCode: '200', responseTemplates: { 'application/json': body } } },
})
const api = (paths: Record<string, unknown>) => ({ openapi: '3.0.1', info: { title: 'reload', version: '1' }, paths })

async function until(fn: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('SIGHUP reloads the API files without a restart', async (t) => {
  const file = writeApi(t, api({ '/v': { get: { 'x-amazon-apigateway-integration': mock('"v1"') } } }))
  const gw = await startGateway({ args: [file, '--workers', '2'] })
  t.teardown(() => gw.stop())
  t.equal((await request(`${gw.url}/test/v`)).text, '"v1"')
  t.equal((await request(`${gw.url}/test/added`)).status, 403)

  writeFileSync(file, JSON.stringify(api({
    '/v': { get: { 'x-amazon-apigateway-integration': mock('"v2"') } },
    '/added': { get: { 'x-amazon-apigateway-integration': mock('"new"') } },
  })))
  gw.signal('SIGHUP')
  await until(async () => /reloaded: configuration version 1/.test(gw.output()), 'the reload line')
  // Two workers: every request, whichever worker runs it, sees the new version.
  const answers = await Promise.all(Array.from({ length: 20 }, () => request(`${gw.url}/test/v`)))
  t.strictSame([...new Set(answers.map((r) => r.text))], ['"v2"'])
  t.equal((await request(`${gw.url}/test/added`)).text, '"new"')

  writeFileSync(file, JSON.stringify(api({ '/v': { get: { 'x-amazon-apigateway-integration': { type: 'nope' } } } })))
  gw.signal('SIGHUP')
  await until(async () => /reload refused/.test(gw.output()), 'the refusal')
  t.match(gw.output(), /: \/paths\/~1v\/get\/x-amazon-apigateway-integration\/type: unknown integration type "nope"/)
  t.equal((await request(`${gw.url}/test/v`)).text, '"v2"', 'the running configuration stays')
})
