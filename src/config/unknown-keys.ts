// Unknown keys in a config map or an extension: a warning naming the closest known key,
// so a misspelling (`passthroughBehaviour`, `rateLimt`) is never silently ignored.
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'

/** Edit distance (Levenshtein), case-insensitive; small strings only, load time only. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase()
  b = b.toLowerCase()
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)))
    prev = row
  }
  return prev[b.length]!
}

/** The known key closest to `key`, when it is close enough to be a likely misspelling. */
export function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null
  let bestDistance = Infinity
  for (const k of known) {
    const d = editDistance(key, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  // A third of the length (at least 2 edits) separates misspellings from other words.
  return best !== null && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null
}

/** Warns of each key of `raw` not in `known` ("did you mean" when one is close). */
export function warnUnknownKeys(raw: Readonly<Record<string, unknown>>, known: readonly string[], file: string, pointer: string, problems: ConfigProblem[], code: string = Codes.UNKNOWN_KEY): void {
  for (const key of Object.keys(raw)) {
    if (known.includes(key)) continue
    const near = closestKey(key, known)
    problems.push({ code, file, pointer: pointerJoin(pointer, key), message: `unknown key "${key}" is ignored${near === null ? '' : `; did you mean "${near}"?`}`, severity: 'warning' })
  }
}
