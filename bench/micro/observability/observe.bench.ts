// What access logs and metrics cost a worker per request: GET /test/mock of the bench API run
// through the whole worker pipeline (handleRequest, no threads, no sockets), with the plain bench
// gateway and with bench-gateway-observed.json (CLF access log to /dev/null, detailed metrics),
// alternated round by round. Requests run in batches of BATCH with a turn of the event loop
// between them, as a worker runs them, so the log writer's timers and writes happen as in
// the gateway. Outputs are checked before timing (status 200, lines reach the writer).
//
// Run:  npx tsc -p tsconfig.json && node dist/bench/micro/observability/observe.bench.js
// Knobs: ROUND_MS (default 500), ROUNDS (default 5, the median and the best are reported), BATCH (default 64).
import { join } from 'node:path'
import { setImmediate as turn } from 'node:timers/promises'
import { loadGateway } from '../../../src/config/load.js'
import { compileGateway, type CompiledGateway } from '../../../src/pipeline/compile.js'
import { handleRequest } from '../../../src/pipeline/handle-request.js'
import { installMappingEngine } from '../../../src/mapping/install-engine.js'
import type { ReplyRecord, RequestRecord } from '../../../src/pool/protocol.js'
import { writerFor } from '../../../src/observability/log-writer.js'

const ROUND_MS = Number(process.env.ROUND_MS ?? 500)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const BATCH = Number(process.env.BATCH ?? 64)
const FIXTURES = join(import.meta.dirname, '..', '..', '..', '..', 'bench', 'fixtures')

function gatewayOf(file: string): CompiledGateway {
  const { gateway } = loadGateway({ apiFiles: [], configFile: join(FIXTURES, file), stageVariables: { backend: 'http://127.0.0.1:9' } })
  const gw = compileGateway(gateway, [])
  installMappingEngine(gw)
  return gw
}

const HEADERS = ['host', '127.0.0.1:8080', 'user-agent', 'wrk', 'accept', '*/*']
let id = 1
let status = 0
const sink = { reply: (r: ReplyRecord) => { status = r.status } }
function one(gw: CompiledGateway): void {
  const req: RequestRecord = { id: id++, method: 'GET', url: '/test/mock', query: '', headers: HEADERS, remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.now() }
  handleRequest(gw, req, sink)
}

async function round(gw: CompiledGateway): Promise<number> {
  let n = 0
  const start = performance.now()
  let now = start
  while (now - start < ROUND_MS) {
    for (let i = 0; i < BATCH; i++) one(gw)
    n += BATCH
    await turn()
    now = performance.now()
  }
  return ((now - start) * 1e3) / n
}

const targets: [string, CompiledGateway][] = [['plain', gatewayOf('bench-gateway.json')], ['observed', gatewayOf('bench-gateway-observed.json')]]
for (const [name, gw] of targets) {
  status = 0
  one(gw)
  if (status !== 200) throw new Error(`${name}: GET /test/mock answered ${status}`)
}
const log = writerFor('/dev/null')
one(targets[1]![1])
if (log.pendingLines === 0) throw new Error('observed: no access log line queued')
for (const [, gw] of targets) for (let i = 0; i < 20; i++) await round(gw)

const perRequest: number[][] = targets.map(() => [])
for (let r = 0; r < ROUNDS; r++) for (let i = 0; i < targets.length; i++) perRequest[i]!.push(await round(targets[i]![1]))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const best = (xs: number[]) => Math.min(...xs)
for (let i = 0; i < targets.length; i++) console.log(`${targets[i]![0].padEnd(9)} ${median(perRequest[i]!).toFixed(2).padStart(6)} µs per request (median of ${ROUNDS}), best ${best(perRequest[i]!).toFixed(2)}`)
console.log(`observed − plain: ${(median(perRequest[1]!) - median(perRequest[0]!)).toFixed(2)} µs (medians), ${(best(perRequest[1]!) - best(perRequest[0]!)).toFixed(2)} µs (best)`)
