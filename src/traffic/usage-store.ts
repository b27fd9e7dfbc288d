// Durable usage on one machine: requests counted per usage plan, API key and UTC day, in an
// embedded SQLite database under the gateway config's state directory (better-sqlite3,
// which builds from the registry package on Node 20 with no download of its own).
//
// Only the main thread writes: workers count in shared memory and the main thread adds the
// deltas here once a second (USAGE_FLUSH_MS), so a kill -9 loses at most that window. WAL
// with synchronous=NORMAL keeps every committed flush across a process crash.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { quotaPeriodBounds, utcDay, utcDaysBetween, type QuotaPeriod } from './quota.js'

/** How often counted usage reaches the database: the loss window of a kill -9. */
export const USAGE_FLUSH_MS = 1_000
export const USAGE_DB_FILE = 'usage.sqlite'

/** One delta: `count` more requests by `keyId` under `planId` on `day` (YYYY-MM-DD). */
export interface UsageDelta {
  readonly planId: string
  readonly keyId: string
  readonly day: string
  readonly count: number
}

export class UsageStore {
  readonly #db: Database.Database
  readonly #add: Database.Statement<[string, string, string, number]>
  readonly #sum: Database.Statement<[string, string, string, string], { n: number | null }>
  readonly #days: Database.Statement<[string, string, string], { key_id: string; day: string; count: number }>
  readonly #addAll: (deltas: readonly UsageDelta[]) => void

  /** Opens (creating) the database in `dir`. */
  constructor(dir: string) {
    mkdirSync(dir, { recursive: true })
    this.#db = new Database(join(dir, USAGE_DB_FILE))
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('synchronous = NORMAL')
    this.#db.exec(`CREATE TABLE IF NOT EXISTS usage (
      plan_id TEXT NOT NULL, key_id TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,
      PRIMARY KEY (plan_id, key_id, day)) WITHOUT ROWID`)
    this.#add = this.#db.prepare('INSERT INTO usage (plan_id, key_id, day, count) VALUES (?, ?, ?, ?) ON CONFLICT (plan_id, key_id, day) DO UPDATE SET count = count + excluded.count')
    this.#sum = this.#db.prepare('SELECT SUM(count) AS n FROM usage WHERE plan_id = ? AND key_id = ? AND day >= ? AND day < ?')
    this.#days = this.#db.prepare('SELECT key_id, day, count FROM usage WHERE plan_id = ? AND day >= ? AND day <= ? ORDER BY key_id, day')
    this.#addAll = this.#db.transaction((deltas: readonly UsageDelta[]) => {
      for (const d of deltas) if (d.count !== 0) this.#add.run(d.planId, d.keyId, d.day, d.count)
    })
  }

  /** Adds the deltas in one transaction (one flush). */
  add(deltas: readonly UsageDelta[]): void {
    if (deltas.length > 0) this.#addAll(deltas)
  }

  /** Requests counted for a key in the quota period holding `epochMs`. */
  usedInPeriod(planId: string, keyId: string, period: QuotaPeriod, epochMs: number): number {
    const { start, end } = quotaPeriodBounds(period, epochMs)
    return this.#sum.get(planId, keyId, utcDay(start), utcDay(end))?.n ?? 0
  }

  /**
   * GetUsage's items: key id → one [used, remaining] pair per day from `from` to `to`.
   * `remaining` is the quota left in that day's period after that day, or null without a quota.
   */
  usage(planId: string, keyIds: readonly string[], from: string, to: string, quota: { limit: number; period: QuotaPeriod } | null): Record<string, [number, number | null][]> {
    const counts = new Map<string, number>()
    for (const row of this.#days.all(planId, from, to)) counts.set(`${row.key_id}\n${row.day}`, row.count)
    const days = utcDaysBetween(from, to)
    const out: Record<string, [number, number | null][]> = {}
    for (const key of keyIds) {
      out[key] = days.map((day) => {
        const used = counts.get(`${key}\n${day}`) ?? 0
        if (quota === null) return [used, null]
        const t = Date.parse(`${day}T00:00:00Z`)
        const { start } = quotaPeriodBounds(quota.period, t)
        const inPeriod = this.#sum.get(planId, key, utcDay(start), utcDay(t + 86_400_000))?.n ?? 0
        return [used, Math.max(0, quota.limit - inPeriod)]
      })
    }
    return out
  }

  close(): void {
    this.#db.close()
  }
}
