// `backplane usage --config F --plan P [--key K ...] --from YYYY-MM-DD --to YYYY-MM-DD`:
// prints a usage plan's usage per key per day as GetUsage returns it (usage-report.ts), read
// from the state the gateway writes: the SQLite database under state.dir (WAL: readable while
// the gateway runs; at most USAGE_FLUSH_MS behind it), or Redis with state.redis. Keys are
// printed by id; their values never appear.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadGateway } from '../config/load.js'
import { USAGE_DB_FILE, UsageStore } from '../traffic/usage-store.js'
import { RedisQuotaClient } from '../traffic/quota-redis.js'
import { buildUsageReport, reportFirstDay, type UsageReport } from '../traffic/usage-report.js'
import { dayString, parseDay } from '../traffic/quota.js'

export const USAGE_HELP = `backplane usage --config FILE --plan PLAN_ID [--key KEY_ID ...] --from YYYY-MM-DD --to YYYY-MM-DD
                                print a usage plan's usage per API key per day (UTC), as GetUsage
                                returns it: {"usagePlanId", "startDate", "endDate", "items": {keyId: [[used, remaining], ...]}}`

/** A bad command line: the CLI prints it with its help and exits 2. */
export class UsageCommandError extends Error {}

interface UsageArgs {
  config: string | null
  plan: string | null
  keys: string[]
  from: string | null
  to: string | null
}

function parseUsageArgs(argv: readonly string[]): UsageArgs {
  const a: UsageArgs = { config: null, plan: null, keys: [], from: null, to: null }
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new UsageCommandError(`${name} needs a value`)
      return v
    }
    switch (name) {
      case '--config': case '-c': a.config = value(); break
      case '--plan': a.plan = value(); break
      case '--key': a.keys.push(value()); break
      case '--from': a.from = value(); break
      case '--to': a.to = value(); break
      default: throw new UsageCommandError(`usage: unknown argument ${name}`)
    }
  }
  return a
}

/** Runs the command: the report, or throws UsageCommandError (bad arguments) / Error (a failure to read). */
export async function usageReport(argv: readonly string[]): Promise<UsageReport> {
  const a = parseUsageArgs(argv)
  if (a.config === null) throw new UsageCommandError('usage needs --config')
  if (a.plan === null) throw new UsageCommandError('usage needs --plan')
  if (a.from === null || a.to === null) throw new UsageCommandError('usage needs --from and --to (YYYY-MM-DD)')
  const from = parseDay(a.from)
  const to = parseDay(a.to)
  // GetUsage: startDate and endDate "in the format of yyyy-MM-dd"; the end may not precede the start.
  if (from === null) throw new UsageCommandError(`--from must be a date, YYYY-MM-DD: ${a.from}`)
  if (to === null) throw new UsageCommandError(`--to must be a date, YYYY-MM-DD: ${a.to}`)
  if (to < from) throw new UsageCommandError(`--to ${a.to} is before --from ${a.from}`)
  const { gateway } = loadGateway({ apiFiles: [], configFile: a.config })
  const plan = gateway.access.usagePlans.find((p) => p.id === a.plan)
  if (plan === undefined) throw new UsageCommandError(`no usage plan ${a.plan} in ${a.config} (plans: ${gateway.access.usagePlans.map((p) => p.id).join(', ') || 'none'})`)
  for (const k of a.keys) {
    // Not echoed: a key's value given by mistake must not be printed.
    if (!plan.apiKeys.includes(k)) throw new UsageCommandError(`--key names no API key id of usage plan ${plan.id} (give the key's id, not its value)`)
  }
  const keyIds = a.keys.length > 0 ? a.keys : [...plan.apiKeys]
  const first = reportFirstDay(plan.quota, from)
  if (gateway.state.redis !== null) {
    const redis = new RedisQuotaClient(gateway.state.redis, () => {})
    try {
      if (!(await redis.connect())) throw new Error('Redis (state.redis) is unreachable')
      const days: string[] = []
      for (let d = first; d <= to; d++) days.push(dayString(d))
      const counts = new Map<string, number[]>()
      for (const k of keyIds) counts.set(k, await redis.dayCounts(plan.id, k, days))
      const since = (await redis.recordedSince(plan.id)) ?? Number.NEGATIVE_INFINITY
      return buildUsageReport(plan.id, keyIds, from, to, plan.quota, since, (k, d) => counts.get(k)![d - first] ?? 0)
    } finally {
      await redis.close()
    }
  }
  // No database yet: nothing was counted.
  if (!existsSync(join(gateway.state.dir, USAGE_DB_FILE))) return buildUsageReport(plan.id, keyIds, from, to, plan.quota, Number.NEGATIVE_INFINITY, () => 0)
  const store = new UsageStore(gateway.state.dir, { readonly: true })
  try {
    const counts = store.dayCounts(plan.id, first, to)
    const since = store.since(plan.id, null) ?? Number.NEGATIVE_INFINITY
    return buildUsageReport(plan.id, keyIds, from, to, plan.quota, since, (k, d) => counts.get(k)?.get(d) ?? 0)
  } finally {
    store.close()
  }
}
