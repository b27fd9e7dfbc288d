// Loads the gateway config's account section: region, accountId, credentials (IAM
// principals), userPools (Cognito), apiKeys and usagePlans. Runs at load only.
//
// Shapes are validated here and every reference is checked (a usage plan naming an unknown
// key, API or stage is an error with its JSON pointer). Policies are only checked for shape:
// method-request/authorization compiles them (config/ never imports the pipeline). Secrets
// may be written `${env:NAME}` (secrets.ts). No secret or key value is ever put in a message.
import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { Codes, pointerJoin, type ConfigProblem } from '../errors.js'
import {
  DEFAULT_ACCOUNT_ID, DEFAULT_REGION,
  type AccessSource, type ApiKeySource, type ApiSource, type CredentialSource, type PolicyDocumentSource,
  type UsagePlanApiStageSource, type UsagePlanSource, type UserPoolSource,
} from './model.js'
import { resolveEnvRefs } from './secrets.js'
import { parseApiStageThrottle, parseThrottleLimits } from './throttling.js'
import { warnUnknownKeys } from './unknown-keys.js'
import { isRecord } from '../util/is-record.js'
import { QUOTA_KEYS, parseQuotaSettings } from './quota-settings.js'

/** The account section's keys at the top level of the gateway config. */
export const ACCESS_KEYS = ['region', 'accountId', 'credentials', 'userPools', 'apiKeys', 'usagePlans'] as const
const CREDENTIAL_KEYS = ['accessKeyId', 'secretAccessKey', 'sessionToken', 'arn', 'policy']
const USER_POOL_KEYS = ['issuer', 'jwks']
// `description` (and a plan's `name`) are API Gateway's descriptive fields: accepted, they change nothing.
const API_KEY_KEYS = ['id', 'name', 'value', 'enabled', 'description']
const USAGE_PLAN_KEYS = ['id', 'name', 'description', 'apiStages', 'apiKeys', 'throttle', 'quota']
const API_STAGE_KEYS = ['apiId', 'stage', 'throttle']

/** API Gateway's limits on an API key (CreateApiKey: "API Key value should be at least 20 characters", "exceeds maximum size of 128 characters"; names at most 1024). */
export const MIN_API_KEY_VALUE_LENGTH = 20
export const MAX_API_KEY_VALUE_LENGTH = 128
export const MAX_API_KEY_NAME_LENGTH = 1024

/** us-east-1, eu-central-2, us-gov-west-1, cn-north-1, … */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/
const ACCOUNT_ID = /^\d{12}$/
/** Ids of keys and plans as written in the config: no spaces, no slashes. */
const ID = /^[A-Za-z0-9._-]{1,128}$/
const IAM_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$/
const USER_POOL_ARN = /^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[\w-]+_[0-9A-Za-z]+$/

/** What loading the section needs besides the config map. */
export interface AccessLoadContext {
  /** The gateway config file (for messages). */
  readonly file: string
  /** Its directory: relative jwks files resolve against it. */
  readonly baseDir: string
  /** The APIs loaded, with their stages: usage plans must name them. */
  readonly apis: readonly ApiSource[]
  readonly problems: ConfigProblem[]
  /** Where `${env:NAME}` reads (default process.env). */
  readonly env?: NodeJS.ProcessEnv
}

/** The account section of `cfg` (the whole gateway config map), validated; defaults for what is absent. */
export function loadAccess(cfg: Readonly<Record<string, unknown>>, cx: AccessLoadContext): AccessSource {
  const err = (pointer: string, message: string) => cx.problems.push({ code: Codes.GATEWAY, file: cx.file, pointer, message, severity: 'error' })
  let region = DEFAULT_REGION
  if (cfg.region !== undefined) {
    if (typeof cfg.region === 'string' && REGION.test(cfg.region)) region = cfg.region
    else err('/region', 'must be an AWS region name such as us-east-1')
  }
  let accountId = DEFAULT_ACCOUNT_ID
  if (cfg.accountId !== undefined) {
    // YAML reads an unquoted 123456789012 as a number: accept it when it keeps its 12 digits.
    const text = typeof cfg.accountId === 'number' && Number.isInteger(cfg.accountId) ? String(cfg.accountId) : cfg.accountId
    if (typeof text === 'string' && ACCOUNT_ID.test(text)) accountId = text
    else err('/accountId', 'must be a 12-digit AWS account id, as a string ("012345678901": quote it in YAML)')
  }
  const credentials = loadCredentials(cfg.credentials, cx, err)
  const userPools = loadUserPools(cfg.userPools, cx, err)
  const apiKeys = loadApiKeys(cfg.apiKeys, cx, err)
  const usagePlans = loadUsagePlans(cfg.usagePlans, apiKeys, cx, err)
  return Object.freeze({ file: cx.file, region, accountId, credentials, userPools, apiKeys, usagePlans })
}

type Err = (pointer: string, message: string) => void

/** A list in the config, or [] with an error when it is not one. */
function listOf(raw: unknown, pointer: string, err: Err): readonly unknown[] {
  if (raw === undefined) return []
  if (Array.isArray(raw)) return raw
  err(pointer, 'must be a list')
  return []
}

/** A secret string: `${env:NAME}` resolved; never echoed in a message. */
function secretString(raw: unknown, pointer: string, cx: AccessLoadContext, err: Err, what: string): string | null {
  if (typeof raw !== 'string' || raw === '') {
    err(pointer, `${what} must be a non-empty string (or \${env:NAME})`)
    return null
  }
  const before = cx.problems.length
  const v = resolveEnvRefs(raw, cx.file, pointer, cx.problems, cx.env)
  if (cx.problems.length > before) return null
  if (v === '') {
    err(pointer, `${what} is empty once its environment variables are read`)
    return null
  }
  return v
}

function loadCredentials(raw: unknown, cx: AccessLoadContext, err: Err): CredentialSource[] {
  const out: CredentialSource[] = []
  const seen = new Set<string>()
  listOf(raw, '/credentials', err).forEach((entry, i) => {
    const ptr = pointerJoin('/credentials', i)
    if (!isRecord(entry)) return err(ptr, 'each credential must be a map with accessKeyId, secretAccessKey and arn')
    warnUnknownKeys(entry, CREDENTIAL_KEYS, cx.file, ptr, cx.problems)
    const accessKeyId = secretString(entry.accessKeyId, pointerJoin(ptr, 'accessKeyId'), cx, err, 'accessKeyId')
    const secretAccessKey = secretString(entry.secretAccessKey, pointerJoin(ptr, 'secretAccessKey'), cx, err, 'secretAccessKey')
    const sessionToken = entry.sessionToken === undefined ? null : secretString(entry.sessionToken, pointerJoin(ptr, 'sessionToken'), cx, err, 'sessionToken')
    let arn: string | null = null
    if (typeof entry.arn === 'string' && IAM_ARN.test(entry.arn)) arn = entry.arn
    else err(pointerJoin(ptr, 'arn'), 'must be an IAM principal ARN, arn:aws:iam::{accountId}:user/{name} (or role/…, sts assumed-role/…)')
    let policy: PolicyDocumentSource | null = null
    if (entry.policy !== undefined) {
      const pptr = pointerJoin(ptr, 'policy')
      if (!isRecord(entry.policy)) err(pptr, 'must be an IAM policy document (a map with Statement)')
      else if (!Array.isArray(entry.policy.Statement) && !isRecord(entry.policy.Statement)) err(pointerJoin(pptr, 'Statement'), 'must be a statement or a list of statements')
      else policy = entry.policy
    }
    if (accessKeyId === null || secretAccessKey === null || arn === null || (entry.sessionToken !== undefined && sessionToken === null)) return
    if (seen.has(accessKeyId)) return err(pointerJoin(ptr, 'accessKeyId'), 'this access key id is given to another credential too')
    seen.add(accessKeyId)
    out.push(Object.freeze({ accessKeyId, secretAccessKey, sessionToken, arn, policy, pointer: ptr }))
  })
  return out
}

function loadUserPools(raw: unknown, cx: AccessLoadContext, err: Err): Record<string, UserPoolSource> {
  const out: Record<string, UserPoolSource> = {}
  if (raw === undefined) return out
  if (!isRecord(raw)) {
    err('/userPools', 'must be a map of user pool ARNs')
    return out
  }
  for (const [arn, entry] of Object.entries(raw)) {
    const ptr = pointerJoin('/userPools', arn)
    if (!USER_POOL_ARN.test(arn)) {
      err(ptr, 'the key must be a user pool ARN, arn:aws:cognito-idp:{region}:{accountId}:userpool/{poolId}')
      continue
    }
    if (!isRecord(entry)) {
      err(ptr, 'must be a map with issuer and jwks')
      continue
    }
    warnUnknownKeys(entry, USER_POOL_KEYS, cx.file, ptr, cx.problems)
    let issuer: string | null = null
    if (typeof entry.issuer === 'string' && /^https?:\/\/\S+$/.test(entry.issuer)) issuer = entry.issuer
    else err(pointerJoin(ptr, 'issuer'), 'must be the pool\'s issuer URL, https://cognito-idp.{region}.amazonaws.com/{poolId}')
    const jwks = loadJwksLocation(entry.jwks, pointerJoin(ptr, 'jwks'), cx, err)
    if (issuer !== null && jwks !== null) out[arn] = Object.freeze({ arn, issuer, jwks })
  }
  return out
}

/** A JWKS URL as written, or a file resolved against the config's directory (read once here to catch mistakes early). */
function loadJwksLocation(raw: unknown, pointer: string, cx: AccessLoadContext, err: Err): string | null {
  if (typeof raw !== 'string' || raw === '') {
    err(pointer, 'must be a JWKS file (relative to this config) or an http(s) URL')
    return null
  }
  if (/^https?:\/\//i.test(raw)) return raw
  const file = isAbsolute(raw) ? raw : resolve(cx.baseDir, raw)
  if (!existsSync(file)) {
    err(pointer, `JWKS file ${file} does not exist`)
    return null
  }
  try {
    const doc: unknown = JSON.parse(readFileSync(file, 'utf8'))
    if (!isRecord(doc) || !Array.isArray(doc.keys)) throw new Error('no "keys" list')
  } catch (e) {
    err(pointer, `JWKS file ${file} is not a JSON Web Key Set: ${(e as Error).message}`)
    return null
  }
  return file
}

function loadApiKeys(raw: unknown, cx: AccessLoadContext, err: Err): ApiKeySource[] {
  const out: ApiKeySource[] = []
  const ids = new Map<string, number>()
  const values = new Map<string, string>()
  listOf(raw, '/apiKeys', err).forEach((entry, i) => {
    const ptr = pointerJoin('/apiKeys', i)
    if (!isRecord(entry)) return err(ptr, 'each API key must be a map with id and value')
    warnUnknownKeys(entry, API_KEY_KEYS, cx.file, ptr, cx.problems)
    let id: string | null = null
    if (typeof entry.id === 'string' && ID.test(entry.id)) id = entry.id
    else err(pointerJoin(ptr, 'id'), 'must be an id of letters, digits, ".", "_" or "-" ($context.identity.apiKeyId)')
    let name = id ?? ''
    if (entry.name !== undefined) {
      if (typeof entry.name === 'string' && entry.name.length <= MAX_API_KEY_NAME_LENGTH) name = entry.name
      else err(pointerJoin(ptr, 'name'), `must be a string of at most ${MAX_API_KEY_NAME_LENGTH} characters`)
    }
    const vptr = pointerJoin(ptr, 'value')
    let value = secretString(entry.value, vptr, cx, err, 'the key value')
    if (value !== null && (value.length < MIN_API_KEY_VALUE_LENGTH || value.length > MAX_API_KEY_VALUE_LENGTH)) {
      err(vptr, `the key value must be ${MIN_API_KEY_VALUE_LENGTH} to ${MAX_API_KEY_VALUE_LENGTH} characters long, as API Gateway requires`)
      value = null
    }
    // CreateApiKey leaves a key disabled unless told otherwise: so does the config, with a warning.
    let enabled = false
    if (entry.enabled === undefined) {
      if (id !== null) cx.problems.push({ code: Codes.GATEWAY, file: cx.file, pointer: ptr, message: `API key ${id} has no "enabled": it is disabled, as API Gateway creates keys, and requests with it get 403 Forbidden`, severity: 'warning' })
    } else if (typeof entry.enabled === 'boolean') enabled = entry.enabled
    else err(pointerJoin(ptr, 'enabled'), 'must be true or false')
    if (id === null || value === null) return
    if (ids.has(id)) return err(pointerJoin(ptr, 'id'), `API key id ${id} is also used by /apiKeys/${ids.get(id)}`)
    ids.set(id, i)
    const other = values.get(value)
    if (other !== undefined) return err(vptr, `API key ${id} has the same value as API key ${other}: each key needs its own value`)
    values.set(value, id)
    out.push(Object.freeze({ id, name, value, enabled }))
  })
  return out
}

/** A list of strings, or null with an error. */
function stringList(raw: unknown, pointer: string, err: Err, what: string): string[] | null {
  if (raw === undefined) return []
  if (!Array.isArray(raw)) {
    err(pointer, `must be a list of ${what}`)
    return null
  }
  const out: string[] = []
  raw.forEach((v, i) => {
    if (typeof v === 'string') out.push(v)
    else err(pointerJoin(pointer, i), `must be ${what.replace(/s$/, '')}`)
  })
  return out
}

function loadUsagePlans(raw: unknown, keys: readonly ApiKeySource[], cx: AccessLoadContext, err: Err): UsagePlanSource[] {
  const out: UsagePlanSource[] = []
  const ids = new Set<string>()
  const keyIds = new Set(keys.map((k) => k.id))
  listOf(raw, '/usagePlans', err).forEach((entry, i) => {
    const ptr = pointerJoin('/usagePlans', i)
    if (!isRecord(entry)) return err(ptr, 'each usage plan must be a map with id, apiStages and apiKeys')
    warnUnknownKeys(entry, USAGE_PLAN_KEYS, cx.file, ptr, cx.problems)
    let id: string | null = null
    if (typeof entry.id === 'string' && ID.test(entry.id)) {
      if (ids.has(entry.id)) err(pointerJoin(ptr, 'id'), `usage plan id ${entry.id} is used twice`)
      else id = entry.id
      ids.add(entry.id)
    } else err(pointerJoin(ptr, 'id'), 'must be an id of letters, digits, ".", "_" or "-"')
    const apiStages: UsagePlanApiStageSource[] = []
    listOf(entry.apiStages, pointerJoin(ptr, 'apiStages'), err).forEach((s, j) => {
      const sptr = pointerJoin(ptr, 'apiStages', j)
      if (!isRecord(s)) return err(sptr, 'each API stage must be a map with apiId and stage')
      warnUnknownKeys(s, API_STAGE_KEYS, cx.file, sptr, cx.problems)
      const api = typeof s.apiId === 'string' ? cx.apis.find((a) => a.id === s.apiId) : undefined
      if (api === undefined) return err(pointerJoin(sptr, 'apiId'), typeof s.apiId === 'string' ? `names no API of this gateway: ${JSON.stringify(s.apiId)} (APIs: ${cx.apis.map((a) => a.id).join(', ') || 'none'})` : 'must be the id of an API of this gateway')
      if (typeof s.stage !== 'string' || !api.stages.some((st) => st.name === s.stage)) {
        return err(pointerJoin(sptr, 'stage'), `names no stage of API ${api.id}: ${JSON.stringify(s.stage)} (stages: ${api.stages.map((st) => st.name).join(', ')})`)
      }
      const throttle = parseApiStageThrottle(s.throttle, api, cx.file, pointerJoin(sptr, 'throttle'), cx.problems)
      apiStages.push(Object.freeze({ apiId: api.id, stage: s.stage, throttle }))
    })
    const planKeys = stringList(entry.apiKeys, pointerJoin(ptr, 'apiKeys'), err, 'API key ids') ?? []
    planKeys.forEach((k, j) => {
      // Not echoed: a key's value written here by mistake must not reach a log.
      if (!keyIds.has(k)) err(pointerJoin(ptr, 'apiKeys', j), 'names no API key id of /apiKeys (list the keys\' ids, not their values)')
    })
    const throttle = entry.throttle === undefined || entry.throttle === null ? null : parseThrottleLimits(entry.throttle, cx.file, pointerJoin(ptr, 'throttle'), cx.problems)
    const qptr = pointerJoin(ptr, 'quota')
    const quota = parseQuotaSettings(entry.quota, qptr, err, (q) => warnUnknownKeys(q, QUOTA_KEYS, cx.file, qptr, cx.problems))
    if (id !== null) out.push(Object.freeze({ id, apiStages: Object.freeze(apiStages), apiKeys: Object.freeze(planKeys.filter((k) => keyIds.has(k))), throttle, quota }))
  })
  refuseKeysInTwoPlansOfOneStage(raw, err)
  return out
}

/**
 * AWS refuses a usage plan key whose key is already in another plan of the same API stage
 * (CreateUsagePlanKey: ConflictException "API Key … cannot reference multiple Usage Plans with
 * the same API Stage"): a request's throttle and quota come from exactly one plan.
 */
function refuseKeysInTwoPlansOfOneStage(raw: unknown, err: Err): void {
  const owner = new Map<string, string>()
  listOf(raw, '/usagePlans', () => {}).forEach((entry, i) => {
    if (!isRecord(entry) || typeof entry.id !== 'string' || !Array.isArray(entry.apiStages) || !Array.isArray(entry.apiKeys)) return
    const planId = entry.id
    for (const s of entry.apiStages) {
      if (!isRecord(s)) continue
      entry.apiKeys.forEach((keyId, j) => {
        const slot = `${String(keyId)}\n${String(s.apiId)}\n${String(s.stage)}`
        const first = owner.get(slot)
        if (first === undefined) owner.set(slot, planId)
        else if (first !== planId) err(pointerJoin('/usagePlans', i, 'apiKeys', j), `API key ${String(keyId)} is already in usage plan ${first} for stage ${String(s.stage)} of API ${String(s.apiId)}: a key may be in one usage plan per API stage (AWS: ConflictException)`)
      })
    }
  })
}

/**
 * Warns of each API stage whose methods require an API key while no usage plan covers it:
 * API Gateway answers every request to them 403 Forbidden (a key is only valid on the
 * stages of its usage plans). One warning per API stage, at its first such method.
 */
export function warnUncoveredKeyStages(apis: readonly ApiSource[], access: AccessSource, problems: ConfigProblem[]): void {
  for (const api of apis) {
    const op = api.operations.find((o) => o.apiKeyRequired)
    if (op === undefined) continue
    for (const stage of api.stages) {
      const covered = access.usagePlans.some((p) => p.apiKeys.length > 0 && p.apiStages.some((s) => s.apiId === api.id && s.stage === stage.name))
      if (covered) continue
      problems.push({ code: Codes.AUTHORIZATION, file: api.file, pointer: op.securityPointer === '' ? op.pointer : op.securityPointer, message: `${op.method} ${op.path} requires an API key, but no usage plan with keys covers stage ${stage.name} of API ${api.id}: every request to it gets 403 Forbidden`, severity: 'warning' })
    }
  }
}
