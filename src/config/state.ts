// `state:` of the gateway config: where state that outlives a request lives. `dir` holds
// the embedded database (quotas, usage); `redis` moves buckets, quotas, the authorizer cache
// and the response cache into Redis so that several gateway processes share them. Load only.
import { resolve, dirname } from 'node:path'
import { Codes, type ConfigProblem } from '../errors.js'
import { isRecord } from '../util/is-record.js'
import { warnUnknownKeys } from './unknown-keys.js'

/** The state directory used when the config names none, relative to the working directory. */
export const DEFAULT_STATE_DIR = '.backplane'

export interface StateSource {
  /** Absolute directory of the embedded database (quotas, usage). */
  readonly dir: string
  /** redis:// URL shared by the gateway processes, or null for one process on its own. */
  readonly redis: string | null
}

export const STATE_KEYS = ['dir', 'redis'] as const

/** The state of a gateway whose config says nothing: ./.backplane, no Redis. */
export function defaultState(cwd: string = process.cwd()): StateSource {
  return Object.freeze({ dir: resolve(cwd, DEFAULT_STATE_DIR), redis: null })
}

/** `state: { dir, redis }`; `dir` is relative to the config file. */
export function parseState(raw: unknown, file: string, problems: ConfigProblem[]): StateSource {
  if (!isRecord(raw)) {
    problems.push({ code: Codes.GATEWAY, file, pointer: '/state', message: 'must be a map, e.g. { dir: ./.backplane } or { redis: "redis://127.0.0.1:6379/0" }', severity: 'error' })
    return defaultState()
  }
  warnUnknownKeys(raw, STATE_KEYS, file, '/state', problems)
  let dir = resolve(dirname(file), DEFAULT_STATE_DIR)
  if (raw.dir !== undefined) {
    if (typeof raw.dir === 'string' && raw.dir !== '') dir = resolve(dirname(file), raw.dir)
    else problems.push({ code: Codes.GATEWAY, file, pointer: '/state/dir', message: 'must be a directory path', severity: 'error' })
  }
  let redis: string | null = null
  if (raw.redis !== undefined && raw.redis !== null) {
    if (typeof raw.redis === 'string' && /^rediss?:\/\/[^/?#]*(\/\d+)?$/.test(raw.redis)) redis = raw.redis
    // The URL may carry a password: never echoed.
    else problems.push({ code: Codes.GATEWAY, file, pointer: '/state/redis', message: 'must be a redis:// URL such as "redis://127.0.0.1:6379/0"', severity: 'error' })
  }
  return Object.freeze({ dir, redis })
}
