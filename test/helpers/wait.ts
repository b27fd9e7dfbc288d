// until(): waits, bounded, for something a test cannot be told about directly (a log line,
// a file, a count at a backend), polling every 50 ms.
//
//   const line = await until(() => gw.output().split('\n').find((l) => l.startsWith(id)), 'the access log line')

/** Default bound on a wait: a loaded 2-core CI machine is slow, but a test must still end. */
export const UNTIL_TIMEOUT_MS = 15_000
/** How often the condition is asked again. */
const POLL_MS = 50

/** Resolves with `fn()`'s first truthy value; throws `timed out waiting for {what}` after `ms`. */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms = UNTIL_TIMEOUT_MS): Promise<NonNullable<T>> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v as NonNullable<T>
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}
