// The per-worker front (`--front workers`, issue 11): every worker listens on the gateway's
// port with its own uWebSockets.js app and serves requests end to end in its thread;
// reload and /ready (every front listening with the newest configuration) cover them all.
// worker-front-clients.test.ts: pipelining and clients that leave; worker-front-stop.test.ts:
// the drain and the second signal.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { writeApi, request, until, adminUrl, mockIntegration as mock } from '../helpers/index.js'
import { startWorkerFrontGateway } from '../helpers/worker-front.js'
import { rawExchange } from '../helpers/raw-http.js'

const mockApi = (body: string) => ({ openapi: '3.0.1', info: { title: 'fronts', version: '1' }, paths: { '/v': { get: { 'x-amazon-apigateway-integration': mock(body) } } } })

/** Listening TCP sockets on 127.0.0.1:`port` (/proc/net/tcp: local address, state 0A = LISTEN). */
function listeners(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((l) => {
    const f = l.trim().split(/\s+/)
    return f[1] === local && f[3] === '0A'
  }).length
}

/** One request on a fresh connection (no keep-alive), so the kernel picks a front each time. */
function freshGet(port: number, path: string): Promise<string> {
  return rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`, { expect: 1 }).then((r) => r.responses[0]?.body.toString() ?? `no answer (${r.error ?? 'closed'})`)
}

t.test('two workers, two listeners on one port; reload and /ready cover both', async (t) => {
  const file = writeApi(t, mockApi('"v1"'))
  const gw = await startWorkerFrontGateway([file, '--workers', '2', '--admin-port', '0'])
  t.teardown(() => gw.stop())
  await until(() => /front end: .*, one per worker/.test(gw.output()), 'the front end line')
  const admin = await adminUrl(gw)
  // /ready once both fronts listen with the configuration (the second may still be starting).
  await until(async () => (await request(`${admin}/ready`)).status === 200, '/ready')
  t.equal(listeners(gw.port), 2, 'each worker listens on the shared port (SO_REUSEPORT)')
  const answers = await Promise.all(Array.from({ length: 30 }, () => freshGet(gw.port, '/test/v')))
  t.strictSame([...new Set(answers)], ['"v1"'], 'every connection answered, whichever front took it')

  writeFileSync(file, JSON.stringify(mockApi('"v2"')))
  gw.signal('SIGHUP')
  await until(() => /reloaded: configuration version 1/.test(gw.output()), 'the reload line')
  t.equal((await request(`${admin}/ready`)).status, 200, 'ready: every front compiled version 1')
  const after = await Promise.all(Array.from({ length: 30 }, () => freshGet(gw.port, '/test/v')))
  t.strictSame([...new Set(after)], ['"v2"'], 'both fronts serve the new version')
})

