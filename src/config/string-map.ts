// Reads a map of names to strings from an API or config file (requestParameters,
// templates, stage variables…), recording a problem for each entry that is not one.
import { pointerJoin, type ConfigProblem } from '../errors.js'
import { isRecord } from '../util/is-record.js'

export interface StringMapOptions {
  /** Accept numbers and booleans as their text (YAML stage variables such as `port: 8080`). */
  readonly coerceScalars?: boolean
  /** Further checks of each entry (name, value, its pointer). */
  readonly check?: (name: string, value: string, pointer: string) => void
}

export function readStringMap(problems: ConfigProblem[], file: string, code: string, raw: unknown, pointer: string, opts: StringMapOptions = {}): Record<string, string> {
  const out: Record<string, string> = {}
  if (raw === undefined || raw === null) return out
  if (!isRecord(raw)) {
    problems.push({ code, file, pointer, message: 'must be a map of strings', severity: 'error' })
    return out
  }
  for (const [name, v] of Object.entries(raw)) {
    const ptr = pointerJoin(pointer, name)
    const value = typeof v === 'string' ? v : opts.coerceScalars === true && (typeof v === 'number' || typeof v === 'boolean') ? String(v) : null
    if (value === null) {
      problems.push({ code, file, pointer: ptr, message: 'must be a string', severity: 'error' })
      continue
    }
    opts.check?.(name, value, ptr)
    out[name] = value
  }
  return out
}
