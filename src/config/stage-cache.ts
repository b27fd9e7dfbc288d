// A stage's cache cluster, as API Gateway's Stage resource holds it: cacheClusterEnabled and
// cacheClusterSize (GB), plus Backplane's cacheMemoryBytes for a bound below 0.5 GB (small
// machines, tests). Read by src/response-cache/. Runs at load only.
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'

/** API Gateway's cache sizes in GB (API reference, CreateStage cacheClusterSize). */
export const CACHE_CLUSTER_SIZES = ['0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118', '237'] as const

/** cacheClusterSize when the stage names none: API Gateway's default, 0.5 GB. */
export const DEFAULT_CACHE_CLUSTER_SIZE = '0.5'

/** The smallest cacheMemoryBytes: room for a few entries and the table that indexes them. */
export const MIN_CACHE_MEMORY_BYTES = 65_536

/** The stage keys this file reads. */
export const STAGE_CACHE_KEYS = ['cacheClusterEnabled', 'cacheClusterSize', 'cacheMemoryBytes'] as const

export interface StageCacheSource {
  /** cacheClusterEnabled: the stage has a response cache. */
  readonly enabled: boolean
  /** cacheClusterSize as written (GB), one of CACHE_CLUSTER_SIZES. */
  readonly size: string
  /** The memory bound in bytes: cacheMemoryBytes, else cacheClusterSize GB × 2^30. */
  readonly bytes: number
  /** The gateway config file and the JSON pointer of cacheClusterEnabled, for compile-time messages. */
  readonly file: string
  readonly pointer: string
}

export const DEFAULT_STAGE_CACHE: StageCacheSource = Object.freeze({ enabled: false, size: DEFAULT_CACHE_CLUSTER_SIZE, bytes: 0, file: '', pointer: '' })

/** Reads cacheClusterEnabled, cacheClusterSize and cacheMemoryBytes of one stage body. */
export function parseStageCache(body: Readonly<Record<string, unknown>>, file: string, pointer: string, problems: ConfigProblem[]): StageCacheSource {
  const error = (key: string, message: string) => problems.push({ code: Codes.GATEWAY, file, pointer: pointerJoin(pointer, key), message, severity: 'error' })
  if (body.cacheClusterEnabled === undefined && body.cacheClusterSize === undefined && body.cacheMemoryBytes === undefined) return DEFAULT_STAGE_CACHE
  let enabled = false
  if (body.cacheClusterEnabled !== undefined) {
    if (typeof body.cacheClusterEnabled === 'boolean') enabled = body.cacheClusterEnabled
    else error('cacheClusterEnabled', 'must be true or false')
  }
  let size: string = DEFAULT_CACHE_CLUSTER_SIZE
  if (body.cacheClusterSize !== undefined) {
    // YAML reads 0.5 as a number: accept both spellings of a listed size.
    const raw = typeof body.cacheClusterSize === 'number' ? String(body.cacheClusterSize) : body.cacheClusterSize
    if (typeof raw === 'string' && (CACHE_CLUSTER_SIZES as readonly string[]).includes(raw)) size = raw
    else error('cacheClusterSize', `must be one of API Gateway's cache sizes in GB: ${CACHE_CLUSTER_SIZES.join(', ')}`)
  }
  let bytes = Math.round(Number(size) * 2 ** 30)
  if (body.cacheMemoryBytes !== undefined) {
    const v = body.cacheMemoryBytes
    if (typeof v === 'number' && Number.isInteger(v) && v >= MIN_CACHE_MEMORY_BYTES && v <= bytes) bytes = v
    else error('cacheMemoryBytes', `must be an integer from ${MIN_CACHE_MEMORY_BYTES} to the cacheClusterSize in bytes (${bytes})`)
  }
  return Object.freeze({ enabled, size, bytes, file, pointer: pointerJoin(pointer, 'cacheClusterEnabled') })
}
