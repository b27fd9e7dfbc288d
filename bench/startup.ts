// The gateway's start-up time (issue 11): from spawning `backplane serve` to its listening
// line, to the first answered request (GET /test/mock, polled every POLL_MS from the
// listening line on), and to /ready (every worker's front listening with the configuration
// compiled; polled on the admin port). Each run starts a fresh process; medians are printed.
//
//   node dist/bench/startup.js [runs=5] [gateway flags...]
//   e.g. node dist/bench/startup.js 5 --workers 2 --front main
//   BENCH_ROOT=/path/to/other/checkout node dist/bench/startup.js 5   (its build, this harness)
//
// It serves bench/fixtures/bench-gateway.json (MOCK, HTTP_PROXY, Lambda routes: the function
// host starts too) with the backend stage variable pointing nowhere (the MOCK route needs none);
// STARTUP_API=1 serves bench/fixtures/bench-api.json alone instead (no config: no function host,
// no usage plans).
// Run it under the bench lock like every measurement.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { request } from 'undici'

/** BENCH_ROOT: time another checkout's build (e.g. main's, for a before/after). */
const ROOT = process.env.BENCH_ROOT ?? fileURLToPath(new URL('../../', import.meta.url))
/** Between two tries at the first request. */
const POLL_MS = 5
/** Bound on one start. */
const START_TIMEOUT_MS = 60_000

interface Times {
  listening: number
  firstAnswer: number
  ready: number
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

async function answered(url: string): Promise<boolean> {
  try {
    const res = await request(url, { headersTimeout: 10_000, bodyTimeout: 10_000 })
    await res.body.text()
    return res.statusCode === 200
  } catch {
    return false
  }
}

async function pollUntil(url: string, since: number): Promise<number> {
  for (;;) {
    if (await answered(url)) return performance.now() - since
    if (performance.now() - since > START_TIMEOUT_MS) throw new Error(`${url}: no answer in ${START_TIMEOUT_MS} ms`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

async function once(flags: string[]): Promise<Times> {
  const t0 = performance.now()
  const source = process.env.STARTUP_API === '1' ? [join(ROOT, 'bench', 'fixtures', 'bench-api.json')] : ['--config', join(ROOT, 'bench', 'fixtures', 'bench-gateway.json')]
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'serve', ...source, '--port', '0', '--host', '127.0.0.1', '--admin-port', '0', '--stage-var', 'backend=http://127.0.0.1:9', ...flags], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  try {
    const lines = await new Promise<{ url: string; admin: string; listening: number }>((resolve, reject) => {
      let out = ''
      let url: string | null = null
      let listening = 0
      const timer = setTimeout(() => reject(new Error(`no listening line in ${START_TIMEOUT_MS} ms: ${err}`)), START_TIMEOUT_MS)
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /backplane listening on (\S+)/.exec(out)
        if (m !== null && url === null) {
          url = m[1]!
          listening = performance.now() - t0
        }
        const a = /backplane admin on (\S+)/.exec(out)
        if (url !== null && a !== null) {
          clearTimeout(timer)
          resolve({ url, admin: a[1]!, listening })
        }
      })
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)))
    })
    const firstAnswer = lines.listening + (await pollUntil(`${lines.url}/test/mock`, t0 + lines.listening))
    const ready = await pollUntil(`${lines.admin}/ready`, t0)
    return { listening: lines.listening, firstAnswer, ready }
  } finally {
    child.kill('SIGKILL')
  }
}

const runs = Number(process.argv[2] ?? 5)
const flags = process.argv.slice(3)
const all: Times[] = []
for (let i = 0; i < runs; i++) {
  const t = await once(flags)
  all.push(t)
  console.log(`run ${i + 1}: listening ${t.listening.toFixed(0)} ms, first answer ${t.firstAnswer.toFixed(0)} ms, ready ${t.ready.toFixed(0)} ms`)
}
console.log(`startup ${flags.join(' ') || '(defaults)'}: median of ${runs}: listening ${median(all.map((t) => t.listening)).toFixed(0)} ms, first answer ${median(all.map((t) => t.firstAnswer)).toFixed(0)} ms, ready ${median(all.map((t) => t.ready)).toFixed(0)} ms`)
