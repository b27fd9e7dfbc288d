// startGateway(): the real CLI in a child process, on a free loopback port.
//
//   const gw = await startGateway({ args: [writeApi(t, doc), '--stage-var', `backend=${echo.url}`] })
//   t.teardown(gw.stop)
//   const res = await request(`${gw.url}/test/pets`)
//
// Runs `node dist/src/cli.js serve ...args --port 0 --host 127.0.0.1` from the repo root
// (build first: `npm test` does, through pretest) and waits, bounded, for the one line
// `backplane listening on http://HOST:PORT`.

import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { spawnServer } from '../../bench/e2e/child-process.js'
import type { ExitInfo } from '../../bench/e2e/child-process.js'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const CLI_PATH = join(REPO_ROOT, 'dist', 'src', 'cli.js')

/** The contract's ready line; group 1 is the base URL. */
export const GATEWAY_READY_PATTERN = /^backplane listening on (http:\/\/\S+)$/
/**
 * Bounds start-up (WASM compile, worker pool) on a loaded 2-core CI machine. The listening
 * line waits for the first worker's front (the default front per worker, issue 11): under
 * the full suite's load a worker's start took over 20 s.
 */
export const GATEWAY_START_TIMEOUT_MS = 60_000

export interface StartGatewayOptions {
  /** After `serve`: API files and flags. `--port 0 --host 127.0.0.1` are appended. */
  args: string[]
  /** Added to the environment. */
  env?: Record<string, string>
  /** Bound on the wait for the listening line (default GATEWAY_START_TIMEOUT_MS). */
  timeoutMs?: number
  /** Script to run instead of dist/src/cli.js (the helper's own tests use a fake). */
  cli?: string
}

export interface Gateway {
  /** `http://127.0.0.1:PORT`, no stage, no trailing slash. */
  url: string
  port: number
  /** The gateway process (its RSS is in /proc/PID/status). */
  pid: number
  /** SIGTERM, SIGKILL after 5 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>
  /** stdout and stderr so far. */
  output(): string
  /** Exit code and signal, once it has exited (after stop(), or on a crash). */
  exited: Promise<ExitInfo>
  /** Sends a signal (SIGHUP reloads the function handlers). */
  signal(sig: NodeJS.Signals): void
}

export async function startGateway (opts: StartGatewayOptions): Promise<Gateway> {
  const cli = opts.cli ?? CLI_PATH
  if (!existsSync(cli)) throw new Error(`startGateway: ${cli} does not exist; run \`npm run build\` first`)
  const server = await spawnServer({
    name: 'gateway',
    args: [cli, 'serve', ...opts.args, '--port', '0', '--host', '127.0.0.1'],
    cwd: REPO_ROOT,
    ...(opts.env !== undefined ? { env: opts.env } : {}),
    readyPattern: GATEWAY_READY_PATTERN,
    timeoutMs: opts.timeoutMs ?? GATEWAY_START_TIMEOUT_MS
  })
  return {
    url: server.url,
    port: server.port,
    pid: server.pid,
    stop: async () => { await server.stop() },
    output: server.output,
    exited: server.exited,
    signal: (sig) => { process.kill(server.pid, sig) }
  }
}
