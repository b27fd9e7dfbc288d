// The guard's data and arithmetic, apart from any process (unit-tested in
// test/unit/bench/guard-floors.test.ts): the committed floors file (bench/guard-floors.json),
// the ratio of each metric, medians over rounds, the verdicts.
//
// Every ratio reads "higher is better", so that a floor is always a minimum:
//   cpu  base's CPU µs per request ÷ the scenario's, both at the same fixed rate
//        (how many times cheaper the scenario is; steadier than req/s on a shared machine)
//   rps  the scenario's req/s ÷ base's, both as fast as they answer
//   p99  base's p99 ÷ the scenario's, both as fast as they answer
// Never absolute times: a slower or busier machine moves both sides of a ratio.

export type GuardMetric = 'cpu' | 'rps' | 'p99'
export const GUARD_METRICS: readonly GuardMetric[] = ['cpu', 'rps', 'p99']

/** One committed floor: one line of bench/guard-floors.json. */
export interface Floor {
  /** The scenario guarded (a name in bench/e2e/scenarios.ts). */
  scenario: string
  /** The scenario it is compared with, measured in the same rounds. */
  base: string
  metric: GuardMetric
  /** The ratio's median over the rounds must be ≥ this. */
  min: number
  /** What was measured when the floor was set (documentation only). */
  seen?: string
}

/** bench/guard-floors.json. */
export interface GuardPlan {
  /** Fixed total req/s of the cpu rounds. */
  rate: number
  /** Connections of the cpu rounds (fixed rate). */
  rateConnections: number
  /** Connections of the rps/p99 rounds (as fast as the server answers). */
  connections: number
  /** Seconds of fixed-rate load per scenario per round (in slices, interleaved with the others'). */
  seconds: number
  /** Seconds of each as-fast-as-possible measurement (whole seconds: wrk's -d). */
  saturatedSeconds: number
  /** Rounds; each measures every scenario once; the median of the per-round ratios counts. */
  rounds: number
  /** Fewest rounds: past budgetSeconds the guard stops after this many (a loaded machine stretches every round). */
  minRounds: number
  /** Seconds from the start after which no new round begins once minRounds are done. */
  budgetSeconds: number
  /** Seconds of fixed-rate load per scenario before the rounds, thrown away. */
  warmup: number
  /** Pin the load generator to CPU 0 and the servers to CPU 1 (PIN=0 overrides). */
  pin: boolean
  floors: Floor[]
}

/** One scenario's figures in one round (null where that mode was not measured). */
export interface RoundFigures {
  /** Server CPU µs per response, fixed-rate measurement. */
  cpuUs: number | null
  /** req/s, as-fast-as-possible measurement. */
  rps: number | null
  /** p99 ms, as-fast-as-possible measurement. */
  p99: number | null
}

function isRecord (x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** Parses and checks the floors file; `known` is every scenario name. Errors name the field. */
export function parseGuardPlan (text: string, known: readonly string[], file = 'bench/guard-floors.json'): GuardPlan {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new Error(`${file}: not JSON: ${(err as Error).message}`)
  }
  if (!isRecord(raw)) throw new Error(`${file}: must be an object`)
  const num = (key: string, min: number, integer: boolean): number => {
    const v = raw[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new Error(`${file}: /${key}: must be ${integer ? 'an integer' : 'a number'} ≥ ${min}`)
    }
    return v
  }
  if (typeof raw.pin !== 'boolean') throw new Error(`${file}: /pin: must be true or false`)
  if (!Array.isArray(raw.floors) || raw.floors.length === 0) throw new Error(`${file}: /floors: must be a non-empty array`)
  const floors = raw.floors.map((f: unknown, i: number): Floor => {
    const at = `${file}: /floors/${i}`
    if (!isRecord(f)) throw new Error(`${at}: must be an object`)
    for (const key of ['scenario', 'base'] as const) {
      const name = f[key]
      if (typeof name !== 'string' || !known.includes(name)) {
        throw new Error(`${at}/${key}: ${JSON.stringify(name)} is not a scenario (known: ${known.join(', ')})`)
      }
    }
    if (f.scenario === f.base) throw new Error(`${at}: scenario and base are the same`)
    if (typeof f.metric !== 'string' || !(GUARD_METRICS as readonly string[]).includes(f.metric)) {
      throw new Error(`${at}/metric: must be one of ${GUARD_METRICS.join(', ')}`)
    }
    if (typeof f.min !== 'number' || !Number.isFinite(f.min) || f.min <= 0) throw new Error(`${at}/min: must be a number > 0`)
    if (f.seen !== undefined && typeof f.seen !== 'string') throw new Error(`${at}/seen: must be a string`)
    return { scenario: f.scenario as string, base: f.base as string, metric: f.metric as GuardMetric, min: f.min, ...(f.seen !== undefined ? { seen: f.seen as string } : {}) }
  })
  const seen = new Set<string>()
  for (const f of floors) {
    const key = `${f.scenario} ${f.base} ${f.metric}`
    if (seen.has(key)) throw new Error(`${file}: /floors: ${f.scenario} ÷ ${f.base} (${f.metric}) twice`)
    seen.add(key)
  }
  return {
    rate: num('rate', 1, true),
    rateConnections: num('rateConnections', 1, true),
    connections: num('connections', 1, true),
    seconds: num('seconds', 0.1, false),
    saturatedSeconds: num('saturatedSeconds', 1, true),
    rounds: num('rounds', 1, true),
    minRounds: Math.min(num('minRounds', 1, true), num('rounds', 1, true)),
    budgetSeconds: num('budgetSeconds', 1, false),
    warmup: num('warmup', 0, false),
    pin: raw.pin,
    floors
  }
}

/** The floors whose two scenarios are both in `only` (all when null): SCENARIOS narrows a guard run. */
export function selectFloors (floors: readonly Floor[], only: readonly string[] | null): Floor[] {
  return floors.filter((f) => only === null || (only.includes(f.scenario) && only.includes(f.base)))
}

/** Which scenarios need which kind of round: fixed rate (cpu) and/or as fast as possible (rps, p99). */
export function measurementsOf (floors: readonly Floor[]): { fixed: string[], saturated: string[] } {
  const fixed: string[] = []
  const saturated: string[] = []
  for (const f of floors) {
    const list = f.metric === 'cpu' ? fixed : saturated
    for (const name of [f.base, f.scenario]) if (!list.includes(name)) list.push(name)
  }
  return { fixed, saturated }
}

/** The ratio of one round ("higher is better"); null when a side is missing or not positive. */
export function ratioOf (metric: GuardMetric, scenario: RoundFigures | undefined, base: RoundFigures | undefined): number | null {
  if (scenario === undefined || base === undefined) return null
  const pair: [number | null, number | null] =
    metric === 'cpu' ? [base.cpuUs, scenario.cpuUs]
      : metric === 'rps' ? [scenario.rps, base.rps]
        : [base.p99, scenario.p99]
  const [top, bottom] = pair
  if (top === null || bottom === null || !(top > 0) || !(bottom > 0)) return null
  return top / bottom
}

export function median (values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export interface FloorVerdict {
  floor: Floor
  /** The ratio of each round where both sides were measured. */
  ratios: number[]
  median: number | null
  /** Fails when the median is below min, or when no round measured it (a guard never passes blind). */
  pass: boolean
}

/** Paired ratios: round i of the scenario against round i of its base, then the median. */
export function evaluateFloors (floors: readonly Floor[], rounds: ReadonlyArray<Record<string, RoundFigures>>): FloorVerdict[] {
  return floors.map((floor) => {
    const ratios: number[] = []
    for (const round of rounds) {
      const r = ratioOf(floor.metric, round[floor.scenario], round[floor.base])
      if (r !== null) ratios.push(r)
    }
    const m = median(ratios)
    return { floor, ratios, median: m, pass: m !== null && m >= floor.min }
  })
}

/** "http-proxy ÷ floor-proxy" in the metric's direction (base first for cpu and p99). */
export function ratioName (f: Floor): string {
  return f.metric === 'rps' ? `${f.scenario} ÷ ${f.base} req/s` : f.metric === 'cpu' ? `${f.base} ÷ ${f.scenario} cpu/req` : `${f.base} ÷ ${f.scenario} p99`
}
