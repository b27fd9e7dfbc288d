// Scenario server: the loopback echo backend (bench/e2e/echo-backend.ts) on its own, the
// upstream of every proxy scenario and a scenario itself. Run by bench/run.ts:
//   node dist/bench/e2e/servers/echo-backend.js   → "echo-backend listening on http://127.0.0.1:PORT"

import { ECHO_COUNT_PATH, startEchoBackend } from '../echo-backend.js'

const backend = await startEchoBackend({
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  record: false, // a bench run sends millions of requests
  countPath: ECHO_COUNT_PATH
})
console.log(`echo-backend listening on ${backend.url}`)

async function shutdown (): Promise<void> {
  await backend.close()
  process.exit(0)
}
process.on('SIGTERM', () => { void shutdown() })
process.on('SIGINT', () => { void shutdown() })
