// The bench's knobs, from environment variables (as undici's benchmarks take theirs):
//
//   CONNECTIONS=50      concurrent connections from autocannon
//   PIPELINING=1        requests in flight per connection
//   RATE=N              fixed total request rate (req/s) instead of as fast as possible:
//                       with it, the µs-per-request column compares servers doing the
//                       same work, which holds on a noisy machine where req/s does not
//   DURATION=5          seconds per measured round
//   WARMUP=2            seconds of load before the rounds, thrown away (0 = none)
//   ROUNDS=3            measured rounds per scenario; the median is reported
//   PAIR_ROUNDS=6       pairs of rounds of each interleaved pair (bench/e2e/pairs.ts: A B, B A, …);
//                       the median of the per-pair ratios is judged
//   SCENARIOS=a,b       only these scenarios (names from bench/e2e/scenarios.ts)
//   GATEWAY_WORKERS=N   pass `--workers N` to the gateway (default: the gateway's own)
//   GATEWAY_ARGS="…"    more gateway flags, split on spaces
//   PIN=1               pin the load generator and the backends to CPU 0, the measured server to CPU 1 (taskset)
//   LOADGEN=wrk|autocannon  the load generator; default wrk when installed (/usr/bin/wrk),
//                       autocannon when not, and for RATE or PIPELINING>1 runs
//   WRK_THREADS=1       wrk's threads (-t)
//   THREAD_CPU=1        also print, each round, every gateway thread's CPU µs per request
//                       (/proc/<pid>/task/*/schedstat; bench/e2e/thread-cpu.ts): the main
//                       thread's share is the serial part left (issue 11's scaling argument)
//   BENCH_TIMEOUT=S     bound on the whole run (default: derived from the knobs above)
//   FLOOR_MODE=request  the floor proxy pipes pool.request() bodies instead of using
//                       pool.stream() (measured ≈1.7× slower here: a weaker floor)

export interface Knobs {
  connections: number
  pipelining: number
  /** Fixed total req/s; null = as fast as the server answers. */
  rate: number | null
  duration: number
  warmup: number
  rounds: number
  /** Pairs of alternating rounds per interleaved pair (bench/e2e/pairs.ts). */
  pairRounds: number
  scenarios: string[] | null
  gatewayWorkers: number | null
  gatewayArgs: string[]
  pin: boolean
  /** LOADGEN: the generator asked for; null = wrk when installed and able, else autocannon. */
  loadgen: 'wrk' | 'autocannon' | null
  /** wrk's -t. */
  wrkThreads: number
  /** THREAD_CPU=1: print each gateway thread's µs per request every round. */
  threadCpu: boolean
  /** How the floor proxy calls undici: 'stream' (default, the faster) or 'request' + pipe. */
  floorMode: 'request' | 'stream'
  /** Seconds; null = derive from the scenario count. */
  timeout: number | null
}

function int (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`)
  return n
}

export function readKnobs (env: NodeJS.ProcessEnv = process.env): Knobs {
  const list = (env.SCENARIOS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  return {
    connections: int(env, 'CONNECTIONS', 50, 1),
    pipelining: int(env, 'PIPELINING', 1, 1),
    rate: env.RATE !== undefined && env.RATE !== '' ? int(env, 'RATE', 0, 1) : null,
    duration: int(env, 'DURATION', 5, 1),
    warmup: int(env, 'WARMUP', 2, 0),
    rounds: int(env, 'ROUNDS', 3, 1),
    pairRounds: int(env, 'PAIR_ROUNDS', 6, 1),
    scenarios: list.length > 0 ? list : null,
    gatewayWorkers: env.GATEWAY_WORKERS !== undefined && env.GATEWAY_WORKERS !== '' ? int(env, 'GATEWAY_WORKERS', 0, 0) : null,
    gatewayArgs: (env.GATEWAY_ARGS ?? '').split(' ').filter((s) => s !== ''),
    pin: env.PIN === '1' || env.PIN === 'true',
    loadgen: loadgen(env.LOADGEN),
    wrkThreads: int(env, 'WRK_THREADS', 1, 1),
    threadCpu: env.THREAD_CPU === '1' || env.THREAD_CPU === 'true',
    floorMode: floorMode(env.FLOOR_MODE),
    timeout: env.BENCH_TIMEOUT !== undefined && env.BENCH_TIMEOUT !== '' ? int(env, 'BENCH_TIMEOUT', 0, 1) : null
  }
}

function floorMode (raw: string | undefined): 'request' | 'stream' {
  if (raw === undefined || raw === '' || raw === 'stream') return 'stream'
  if (raw === 'request') return 'request'
  throw new Error(`FLOOR_MODE must be request or stream, got ${JSON.stringify(raw)}`)
}

function loadgen (raw: string | undefined): 'wrk' | 'autocannon' | null {
  if (raw === undefined || raw === '') return null
  if (raw === 'wrk' || raw === 'autocannon') return raw
  throw new Error(`LOADGEN must be wrk or autocannon, got ${JSON.stringify(raw)}`)
}
