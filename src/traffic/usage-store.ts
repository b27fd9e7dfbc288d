// Durable usage on one machine: requests counted per usage plan, API key and UTC day, in an
// embedded SQLite database under the gateway config's state directory (better-sqlite3 12,
// which builds from the registry package on Node 20 with no download of its own).
//
// Only the main thread writes: workers count in shared memory (quota-table.ts) and the main
// thread adds the deltas here every USAGE_FLUSH_MS and at stop, so a kill -9 loses at most
// that window. WAL with synchronous=NORMAL keeps every committed flush across a process
// crash, and lets `backplane usage` read while the gateway writes.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { dayString } from './quota.js'

/** How often counted usage reaches the database: the loss window of a kill -9. */
export const USAGE_FLUSH_MS = 1_000
export const USAGE_DB_FILE = 'usage.sqlite'
/** How long a reader waits for the writer's lock. */
const BUSY_TIMEOUT_MS = 5_000

/** One delta: `count` more requests by `keyId` under `planId` on `day` (a day number). */
export interface UsageDelta {
  readonly planId: string
  readonly keyId: string
  readonly day: number
  readonly count: number
}

export class UsageStore {
  readonly #db: Database.Database
  readonly #add: Database.Statement<[string, string, string, number]>
  readonly #sum: Database.Statement<[string, string, string, string], { n: number | null }>
  readonly #days: Database.Statement<[string, string, string], { key_id: string; day: string; count: number }>
  readonly #sinceInsert: Database.Statement<[string, number]>
  readonly #sinceGet: Database.Statement<[string], { since_day: number }>
  readonly #pendingClear: Database.Statement<[]>
  readonly #pendingAdd: Database.Statement<[string, string, number, number]>
  readonly #pendingAll: Database.Statement<[], { plan_id: string; key_id: string; day: number; count: number }>
  readonly #addAll: (deltas: readonly UsageDelta[]) => void
  readonly #replacePending: (deltas: readonly UsageDelta[]) => void

  /** Opens the database in `dir`, creating both; `readonly` for `backplane usage` (the file must exist). */
  constructor(dir: string, opts: { readonly?: boolean } = {}) {
    if (opts.readonly !== true) mkdirSync(dir, { recursive: true })
    this.#db = new Database(join(dir, USAGE_DB_FILE), { readonly: opts.readonly === true, fileMustExist: opts.readonly === true, timeout: BUSY_TIMEOUT_MS })
    if (opts.readonly !== true) {
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma('synchronous = NORMAL')
      this.#db.exec(`CREATE TABLE IF NOT EXISTS usage (
        plan_id TEXT NOT NULL, key_id TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (plan_id, key_id, day)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS plans (plan_id TEXT PRIMARY KEY, since_day INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS pending (plan_id TEXT NOT NULL, key_id TEXT NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL)`)
    }
    this.#add = this.#db.prepare('INSERT INTO usage (plan_id, key_id, day, count) VALUES (?, ?, ?, ?) ON CONFLICT (plan_id, key_id, day) DO UPDATE SET count = count + excluded.count')
    this.#sum = this.#db.prepare('SELECT SUM(count) AS n FROM usage WHERE plan_id = ? AND key_id = ? AND day >= ? AND day < ?')
    this.#days = this.#db.prepare('SELECT key_id, day, count FROM usage WHERE plan_id = ? AND day >= ? AND day <= ?')
    this.#sinceInsert = this.#db.prepare('INSERT INTO plans (plan_id, since_day) VALUES (?, ?) ON CONFLICT (plan_id) DO NOTHING')
    this.#sinceGet = this.#db.prepare('SELECT since_day FROM plans WHERE plan_id = ?')
    this.#pendingClear = this.#db.prepare('DELETE FROM pending')
    this.#pendingAdd = this.#db.prepare('INSERT INTO pending (plan_id, key_id, day, count) VALUES (?, ?, ?, ?)')
    this.#pendingAll = this.#db.prepare('SELECT plan_id, key_id, day, count FROM pending')
    this.#addAll = this.#db.transaction((deltas: readonly UsageDelta[]) => {
      for (const d of deltas) if (d.count !== 0) this.#add.run(d.planId, d.keyId, dayString(d.day), d.count)
    })
    this.#replacePending = this.#db.transaction((deltas: readonly UsageDelta[]) => {
      this.#pendingClear.run()
      for (const d of deltas) if (d.count !== 0) this.#pendingAdd.run(d.planId, d.keyId, d.day, d.count)
    })
  }

  /** Adds the deltas in one transaction (one flush). */
  add(deltas: readonly UsageDelta[]): void {
    if (deltas.length > 0) this.#addAll(deltas)
  }

  /** Requests counted for a key on days [startDay, endDay). */
  usedBetween(planId: string, keyId: string, startDay: number, endDay: number): number {
    return this.#sum.get(planId, keyId, dayString(startDay), dayString(endDay))?.n ?? 0
  }

  /** Per-day counts of a plan's keys from `fromDay` to `toDay` inclusive: key → day number → count. */
  dayCounts(planId: string, fromDay: number, toDay: number): Map<string, Map<number, number>> {
    const out = new Map<string, Map<number, number>>()
    for (const row of this.#days.all(planId, dayString(fromDay), dayString(toDay))) {
      let m = out.get(row.key_id)
      if (m === undefined) out.set(row.key_id, (m = new Map()))
      m.set(Date.parse(`${row.day}T00:00:00Z`) / 86_400_000, row.count)
    }
    return out
  }

  /** The day plan `planId`'s quota first ran, recorded as `today` the first time it is asked (readonly: null when never recorded). */
  since(planId: string, today: number | null): number | null {
    if (today !== null) this.#sinceInsert.run(planId, today)
    return this.#sinceGet.get(planId)?.since_day ?? null
  }

  /** With Redis: what was counted while it was unreachable, kept here until it is back (replaces the previous copy). */
  replacePending(deltas: readonly UsageDelta[]): void {
    this.#replacePending(deltas)
  }

  /** The pending deltas a previous run left. */
  pending(): UsageDelta[] {
    return this.#pendingAll.all().map((r) => ({ planId: r.plan_id, keyId: r.key_id, day: r.day, count: r.count }))
  }

  close(): void {
    this.#db.close()
  }
}
