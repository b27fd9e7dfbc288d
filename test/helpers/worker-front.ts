// The per-worker front (`--front workers`, issue 11): a gateway whose workers each listen on
// its port. Used by the worker-front*.test.ts files.
import { startGateway, type Gateway } from './gateway.js'

/**
 * The listening line waits for the first worker's front: a worker's start (module graph,
 * compile, WASM) is on its path, which the main-thread front does not wait for. Bounded
 * wider than startGateway's default for a loaded CI machine.
 */
export const WORKER_FRONT_START_TIMEOUT_MS = 60_000

/** startGateway with `args` and `--front workers`, waiting WORKER_FRONT_START_TIMEOUT_MS for the listening line. */
export function startWorkerFrontGateway(args: string[]): Promise<Gateway> {
  return startGateway({ args: [...args, '--front', 'workers'], timeoutMs: WORKER_FRONT_START_TIMEOUT_MS })
}
