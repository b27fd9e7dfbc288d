// A stage's canarySettings, named as API Gateway's CanarySettings resource names them
// (percentTraffic, deploymentId, stageVariableOverrides, useStageCache). Backplane has no
// deployments: `file` takes deploymentId's place and names the canary's own API definition,
// relative to the gateway config, loaded here with every check an API file gets. The canary
// is compiled beside its stage by src/canary/compile.ts. Runs at load only.
import { dirname, resolve } from 'node:path'
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import type { ApiSource } from './model.js'
import { isRecord } from '../util/is-record.js'
import { readStringMap } from './string-map.js'
import { warnUnknownKeys } from './unknown-keys.js'
import { normalizeApi } from './normalize.js'
import { readDocument } from './load.js'

/** canarySettings of one stage, loaded. */
export interface CanarySource {
  /** Percent (0.0 to 100.0) of the stage's requests served by the canary. */
  readonly percentTraffic: number
  /** The canary's API definition file, absolute. */
  readonly file: string
  /** The canary's definition, normalized; its id, base path and stage are the stage's (set when compiled). */
  readonly api: ApiSource
  /** Stage variables the canary sees instead of the stage's (added to them). */
  readonly stageVariableOverrides: Readonly<Record<string, string>>
  /** Canary requests may be answered from (and fill) the stage cache. */
  readonly useStageCache: boolean
  /** JSON pointer of canarySettings in the gateway config, for messages. */
  readonly pointer: string
}

/** The keys of canarySettings. */
export const CANARY_SETTINGS_KEYS = ['percentTraffic', 'file', 'stageVariableOverrides', 'useStageCache'] as const

/** API Gateway's bounds of CanarySettings.percentTraffic (a double). */
export const MIN_PERCENT_TRAFFIC = 0
export const MAX_PERCENT_TRAFFIC = 100

/**
 * Reads `canarySettings` of a stage in `configFile` at `pointer`; null (problems recorded)
 * when it cannot be served. The canary file's own problems name that file.
 */
export function loadCanarySettings(raw: unknown, configFile: string, pointer: string, problems: ConfigProblem[]): CanarySource | null {
  const error = (ptr: string, message: string) => problems.push({ code: Codes.GATEWAY, file: configFile, pointer: ptr, message, severity: 'error' })
  if (!isRecord(raw)) {
    error(pointer, 'must be a map: { percentTraffic, file, stageVariableOverrides, useStageCache }')
    return null
  }
  // deploymentId names a deployment of AWS's; refused rather than ignored, with what to write instead.
  if (raw.deploymentId !== undefined) error(pointerJoin(pointer, 'deploymentId'), 'Backplane has no deployments: name the canary\'s API definition with `file` (relative to this config)')
  warnUnknownKeys(raw, [...CANARY_SETTINGS_KEYS, 'deploymentId'], configFile, pointer, problems)
  let ok = raw.deploymentId === undefined
  let percentTraffic = 0
  const pt = raw.percentTraffic
  if (pt !== undefined) {
    if (typeof pt === 'number' && Number.isFinite(pt) && pt >= MIN_PERCENT_TRAFFIC && pt <= MAX_PERCENT_TRAFFIC) percentTraffic = pt
    else {
      error(pointerJoin(pointer, 'percentTraffic'), `must be a number from ${MIN_PERCENT_TRAFFIC}.0 to ${MAX_PERCENT_TRAFFIC}.0 (the percent of requests the canary serves)`)
      ok = false
    }
  }
  let useStageCache = false
  if (raw.useStageCache !== undefined) {
    if (typeof raw.useStageCache === 'boolean') useStageCache = raw.useStageCache
    else {
      error(pointerJoin(pointer, 'useStageCache'), 'must be true or false')
      ok = false
    }
  }
  const before = problems.length
  const stageVariableOverrides = readStringMap(problems, configFile, Codes.GATEWAY, raw.stageVariableOverrides, pointerJoin(pointer, 'stageVariableOverrides'), { coerceScalars: true })
  if (problems.length > before) ok = false
  if (typeof raw.file !== 'string' || raw.file === '') {
    error(pointerJoin(pointer, 'file'), 'must name the canary\'s API definition file (OpenAPI 3 or Swagger 2), relative to this config')
    return null
  }
  const file = resolve(dirname(configFile), raw.file)
  // A file that cannot be read is the config's mistake: named at its `file` key.
  const read: ConfigProblem[] = []
  const doc = readDocument(file, read)
  for (const p of read) problems.push(p.code === Codes.READ ? { ...p, file: configFile, pointer: pointerJoin(pointer, 'file'), message: `${file}: ${p.message}` } : p)
  if (doc === undefined) return null
  // Id, base path and stage are the stage's API's: the compile step sets them.
  const api = normalizeApi(doc, { file, id: '', basePath: '', stages: [] }, problems)
  if (api === null || !ok) return null
  return Object.freeze({ percentTraffic, file, api, stageVariableOverrides: Object.freeze(stageVariableOverrides), useStageCache, pointer })
}

/** The APIs and their stages' canary definitions: what load-time checks (templates) walk. */
export function withCanaryApis(apis: readonly ApiSource[]): ApiSource[] {
  const out = [...apis]
  for (const api of apis) for (const s of api.stages) if (s.canary != null) out.push(s.canary.api)
  return out
}
