// The clock quotas and usage run on. Production: Date.now(). Tests of period boundaries set
// BACKPLANE_TEST_CLOCK_FILE (documented as for tests only; the gateway says so in its log at
// start): the main thread reads the epoch ms (or an ISO instant) from that file every
// TEST_CLOCK_POLL_MS, stores it in the quota table's header, and writes `<file>.ack` with
// the value once it is in force. Workers read the header: no env var is read in a worker,
// and an unset variable leaves the header 0 (the real clock).
import { readFile, writeFile } from 'node:fs/promises'
import type { QuotaTable } from './quota-table.js'

/** The variable that turns the test clock on. Tests only. */
export const TEST_CLOCK_ENV = 'BACKPLANE_TEST_CLOCK_FILE'
/** How often the main thread rereads the test clock file. */
export const TEST_CLOCK_POLL_MS = 20

/** Now, in epoch ms, on the table's clock. */
export function quotaNow(table: QuotaTable): number {
  const t = table.header[0]!
  return t !== 0 ? t : Date.now()
}

/** Parses a test clock file's text: epoch ms or an ISO 8601 instant; null when it is neither. */
export function parseTestClock(text: string): number | null {
  const s = text.trim()
  if (/^\d+$/.test(s)) return Number(s)
  const ms = Date.parse(s)
  return Number.isNaN(ms) ? null : ms
}

/**
 * Starts the test clock when TEST_CLOCK_ENV is set: reads the file once before returning (the
 * gateway starts on it), then polls it; `beforeChange` flushes the counts before the clock moves. Returns a stop function, or null when the variable is unset.
 */
export async function startTestClock(table: QuotaTable, env: NodeJS.ProcessEnv, log: (line: string) => void, beforeChange: () => Promise<void> | void = () => {}): Promise<(() => void) | null> {
  const file = env[TEST_CLOCK_ENV]
  if (file === undefined || file === '') return null
  log(`warning: ${TEST_CLOCK_ENV} is set: quotas and usage run on the test clock in ${file} (for tests only)`)
  let last = ''
  const apply = async () => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      return
    }
    if (text === last) return
    const ms = parseTestClock(text)
    if (ms === null) return
    last = text
    // What was counted goes to the store first, under the day it was counted on.
    if (table.header[0] !== 0) await beforeChange()
    table.header[0] = ms
    await writeFile(`${file}.ack`, String(ms)).catch(() => {})
  }
  await apply()
  if (last === '') log(`warning: ${TEST_CLOCK_ENV}: ${file} cannot be read as an instant yet: the real clock runs until it can`)
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  const loop = () => {
    timer = setTimeout(() => {
      void apply().finally(() => {
        if (!stopped) loop()
      })
    }, TEST_CLOCK_POLL_MS)
    timer.unref()
  }
  loop()
  return () => {
    stopped = true
    if (timer !== null) clearTimeout(timer)
  }
}
