// Helpers of the quota tests: a gateway config with usage plans and a state directory, the
// test clock (BACKPLANE_TEST_CLOCK_FILE, tests only), and `backplane usage`.
import { execFile } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeApi, type TestdirOwner } from './api.js'
import { CLI_PATH, REPO_ROOT } from './gateway.js'
import { request } from './request.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': '{"ok":true}' } } } }

/** An API `petstore` with GET /pets (requires a key), GET /search (a key and a required query string `q`) and GET /open (no key), MOCK integrations. */
export function writeQuotaApi(t: TestdirOwner): string {
  return writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'quota', version: '1' },
    components: { securitySchemes: { api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' } } },
    paths: {
      '/pets': { get: { security: [{ api_key: [] }], 'x-amazon-apigateway-integration': mock } },
      '/open': { get: { 'x-amazon-apigateway-integration': mock } },
      '/search': { get: { security: [{ api_key: [] }], parameters: [{ name: 'q', in: 'query', required: true, schema: { type: 'string' } }], 'x-amazon-apigateway-request-validator': 'params', 'x-amazon-apigateway-integration': mock } },
    },
    'x-amazon-apigateway-request-validators': { params: { validateRequestParameters: true, validateRequestBody: false } },
  }, 'quota-api.json')
}

/** The value of test key `id` (20+ characters, as API Gateway requires). */
export const keyValue = (id: string) => `value-of-${id}-0123456789abcdef`

/** Writes backplane.json: API petstore stage prod, keys `k…` and `plans` (each { id, quota?, keys }). */
export function writeQuotaConfig(t: TestdirOwner & { testdirName: string }, file: string, opts: { plans: { id: string; quota?: object; keys: string[] }[]; state: object; workers?: number }): string {
  const keys = opts.plans.flatMap((p) => p.keys)
  const config = join(t.testdirName, file)
  writeFileSync(config, JSON.stringify({
    workers: opts.workers ?? 1,
    state: opts.state,
    apis: [{ id: 'petstore', file: writeQuotaApi(t), stages: { prod: {} } }],
    apiKeys: keys.map((id) => ({ id, value: keyValue(id), enabled: true })),
    usagePlans: opts.plans.map((p) => ({ id: p.id, apiStages: [{ apiId: 'petstore', stage: 'prod' }], apiKeys: p.keys, ...(p.quota === undefined ? {} : { quota: p.quota }) })),
  }))
  return config
}

/** Moves the gateway's test clock and waits (bounded) until it is in force. */
export async function setTestClock(file: string, iso: string): Promise<void> {
  const ms = Date.parse(iso)
  writeFileSync(file, iso)
  const until = Date.now() + 5_000
  for (;;) {
    let ack = ''
    try { ack = readFileSync(`${file}.ack`, 'utf8') } catch { /* not yet */ }
    if (ack === String(ms)) return
    if (Date.now() > until) throw new Error(`the gateway did not take the test clock ${iso} within 5 s`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Runs `backplane usage …`; bounded. */
export function runUsageCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_PATH, 'usage', ...args], { cwd: REPO_ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1, stdout, stderr })
    })
  })
}

/** Polls `backplane usage` (bounded) until its JSON equals `expected`; returns the last output. */
export async function usageOnceFlushed(args: string[], expected: unknown, timeoutMs = 5_000): Promise<unknown> {
  const until = Date.now() + timeoutMs
  let last: unknown = null
  for (;;) {
    const r = await runUsageCli(args)
    if (r.code === 0) last = JSON.parse(r.stdout)
    if (JSON.stringify(last) === JSON.stringify(expected) || Date.now() > until) return last
    await new Promise((res) => setTimeout(res, 200))
  }
}

/** Today, UTC, as GetUsage names days (the real clock: the Redis tests run without the test clock). */
export const utcToday = () => new Date().toISOString().slice(0, 10)

/** GET /prod/pets with test key `key`. */
export const getPets = (gw: { url: string }, key = 'k1') => request(`${gw.url}/prod/pets`, { headers: { 'x-api-key': keyValue(key) } })

/** Waits (bounded) until `ok()`. */
export async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
