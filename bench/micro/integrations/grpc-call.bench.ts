// The worker's side of one transcoded gRPC call, beside the http_proxy call it is measured
// against in `npm run bench` (grpc ≥ 60 % of http-proxy): requests go straight into
// handleRequest in this thread, without the front or the pool, against the bench's own
// backends in child processes, OUTSTANDING at a time. What one thread does per second here is
// what a worker can do; the front's cost is the same for both routes.
//   npm run build && node dist/bench/micro/integrations/grpc-call.bench.js [seconds]
//   node --cpu-prof dist/bench/micro/integrations/grpc-call.bench.js 10   (a profile of the worker path)
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadGateway } from '../../../src/config/load.js'
import { compileGateway, type CompiledGateway } from '../../../src/pipeline/compile.js'
import { handleRequest } from '../../../src/pipeline/handle-request.js'
import { installMappingEngine } from '../../../src/mapping/install-engine.js'
import type { ReplyRecord, RequestRecord } from '../../../src/pool/protocol.js'
import { spawnServer } from '../../e2e/child-process.js'

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url))
const SECONDS = Number(process.argv[2] ?? 5)
const OUTSTANDING = 64

let nextId = 1
function record(url: string, query: string): RequestRecord {
  return { id: nextId++, method: 'GET', url, query, headers: ['host', 'bench', 'accept', '*/*'], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.now() }
}

interface Rate {
  /** Calls answered per second. */
  perSecond: number
  /** CPU time of this process per call, µs: the figure that stays comparable on a busy machine. */
  cpuMicros: number
}

/** Keeps OUTSTANDING requests in flight for `ms` (after a checked warm-up second). */
async function run(gw: CompiledGateway, url: string, query: string, expect: RegExp, ms: number): Promise<Rate> {
  let done = 0
  let bad = 0
  let stopAt = 0
  let resolve!: (n: number) => void
  const finished = new Promise<number>((r) => { resolve = r })
  let inFlight = 0
  const sink = {
    reply(r: ReplyRecord) {
      inFlight--
      if (r.status !== 200 || !expect.test(Buffer.from(r.body ?? []).toString())) bad++
      done++
      if (Date.now() < stopAt) issue()
      else if (inFlight === 0) resolve(done)
    },
  }
  const issue = () => {
    inFlight++
    handleRequest(gw, record(url, query), sink)
  }
  // Warm-up, then the timed run.
  stopAt = Date.now() + 1000
  for (let i = 0; i < OUTSTANDING; i++) issue()
  await finished
  if (bad > 0) throw new Error(`${url}: ${bad} wrong answers`)
  done = 0
  const started = Date.now()
  const cpu = process.cpuUsage()
  stopAt = started + ms
  const timed = new Promise<number>((r) => { resolve = r })
  for (let i = 0; i < OUTSTANDING; i++) issue()
  const n = await timed
  const used = process.cpuUsage(cpu)
  if (bad > 0) throw new Error(`${url}: ${bad} wrong answers`)
  return { perSecond: n / ((Date.now() - started) / 1000), cpuMicros: (used.user + used.system) / n }
}

const echo = await spawnServer({ name: 'echo', args: [join(ROOT, 'dist', 'bench', 'e2e', 'servers', 'echo-backend.js')], cwd: ROOT, readyPattern: /listening on (http:\/\/\S+)/, timeoutMs: 10_000 })
const grpc = await spawnServer({ name: 'grpc-echo', args: [join(ROOT, 'dist', 'bench', 'e2e', 'servers', 'grpc-echo.js')], cwd: ROOT, readyPattern: /listening on (http:\/\/\S+)/, timeoutMs: 10_000 })
try {
  const vars = { backend: echo.url, grpcBackend: grpc.url }
  const proxy = loadGateway({ apiFiles: [join(ROOT, 'bench', 'fixtures', 'bench-api.json')], configFile: null, stageVariables: vars })
  const transcoded = loadGateway({ apiFiles: [join(ROOT, 'bench', 'fixtures', 'bench-grpc-api.json')], configFile: null, stageVariables: vars })
  const proxyGw = compileGateway(proxy.gateway, [])
  const grpcGw = compileGateway(transcoded.gateway, [])
  installMappingEngine(proxyGw)
  const p = await run(proxyGw, '/test/proxy/hello', '', /"path"/, SECONDS * 1000)
  const g = await run(grpcGw, '/test/grpc/42', 'name=bench&tags=a&tags=b', /^\{"id":"42","name":"bench","tags":\["a","b"\]\}$/, SECONDS * 1000)
  console.log(`http_proxy  ${p.perSecond.toFixed(0).padStart(7)} calls/s, ${p.cpuMicros.toFixed(1).padStart(6)} µs CPU per call`)
  console.log(`grpc        ${g.perSecond.toFixed(0).padStart(7)} calls/s, ${g.cpuMicros.toFixed(1).padStart(6)} µs CPU per call (http_proxy's CPU is ${(100 * p.cpuMicros / g.cpuMicros).toFixed(0)} % of it)`)
} finally {
  await echo.stop()
  await grpc.stop()
  process.exit(0)
}
