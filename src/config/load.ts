// Reads API files and the gateway config from disk: runs at load only.
import { readFileSync } from 'node:fs'
import { basename, dirname, extname, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import { Codes, ConfigError, pointerJoin, type ConfigProblem } from '../errors.js'
import { DEFAULT_ACCESS, DEFAULT_STAGE_NAME, type AccessSource, type AdminSource, type ApiSource, type AwsCredentialsSource, type AwsSettings, type GatewaySource, type StageSource, type TracingSource } from './model.js'
import { resolveEnvRefs } from './secrets.js'
import { warnUnknownKeys } from './unknown-keys.js'
import { normalizeApi } from './normalize.js'
import { compileFunctionsConfig } from '../functions/config.js'
import { isRecord } from '../util/is-record.js'
import { readStringMap } from './string-map.js'
import { ACCESS_KEYS, loadAccess, warnUncoveredKeyStages } from './access.js'
import { loadCanarySettings } from './canary-settings.js'

/**
 * The gateway config's top-level keys: anything else is warned of with "did you mean".
 * Besides this loader's own, the names other sections of the config take (admin, tracing,
 * endpoints, roles, vpcLinks, state, and `throttling`: the account-level limit, config/throttling.ts).
 */
export const GATEWAY_CONFIG_KEYS: readonly string[] = [
  'listen', 'host', 'port', 'workers', 'apis', 'functions', ...ACCESS_KEYS,
  'admin', 'tracing', 'endpoints', 'roles', 'vpcLinks', 'state', 'throttling',
]
import { DEFAULT_STAGE_SETTINGS, parseStageSettings } from './stage-settings.js'
import { defaultState, parseState, type StateSource } from './state.js'
import { DEFAULT_ACCOUNT_THROTTLING, parseAccountThrottling, type ThrottleLimits } from './throttling.js'

/** Where `serve` listens when neither the CLI nor the config says. */
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PORT = 3000

/** Options of `backplane serve` that override or replace the gateway config. */
export interface LoadOptions {
  /** API files given on the command line. */
  readonly apiFiles: readonly string[]
  /** backplane.yaml, or null. */
  readonly configFile: string | null
  readonly host?: string | undefined
  readonly port?: number | undefined
  readonly workers?: number | undefined
  /** `--admin-port`: serves the admin listener on this port (host from the config, else 127.0.0.1). */
  readonly adminPort?: number | undefined
  /** Stage name for API files served without a config. */
  readonly stage?: string | undefined
  /** Stage variables added to (and overriding) every stage. */
  readonly stageVariables?: Readonly<Record<string, string>> | undefined
  /** Account-level facts given in code (createGateway): they replace the config's region, accountId, credentials, userPools, apiKeys and usagePlans. */
  readonly access?: AccessSource | undefined
  /** --strict: every warning is an error, and a template that does not compile refuses the configuration. */
  readonly strict?: boolean | undefined
}

export interface LoadResult {
  readonly gateway: GatewaySource
  /** Warnings (errors throw a ConfigError). */
  readonly warnings: readonly ConfigProblem[]
  /** The `functions:` section of the config, raw (issue 5), with its base directory. */
  readonly functions: { readonly file: string; readonly baseDir: string; readonly entries: Readonly<Record<string, unknown>> } | null
}

/** Parses a YAML or JSON file into plain data, or records a problem. */
export function readDocument(file: string, problems: ConfigProblem[]): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    problems.push({ code: Codes.READ, file, pointer: '', message: `cannot read file: ${(err as Error).message}`, severity: 'error' })
    return undefined
  }
  const ext = extname(file).toLowerCase()
  if (ext === '.json') {
    try {
      return JSON.parse(text)
    } catch (err) {
      problems.push({ code: Codes.PARSE, file, pointer: '', message: `invalid JSON${jsonErrorPlace(text, (err as Error).message)}: ${(err as Error).message}`, severity: 'error' })
      return undefined
    }
  }
  // YAML is a superset of JSON: any other extension goes through the YAML parser.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : ''
      problems.push({ code: Codes.PARSE, file, pointer: '', message: `invalid YAML${where}: ${e.message.split('\n')[0]}`, severity: 'error' })
    }
    return undefined
  }
  return doc.toJS({ maxAliasCount: 1000 })
}

/** ' at line L, column C' of a JSON.parse error (V8 names the offset: "at position N"; the end otherwise). */
export function jsonErrorPlace(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message)
  const offset = m !== null ? Math.min(Number(m[1]), text.length) : text.length
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return ` at line ${line}, column ${offset - lineStart + 1}`
}

/** Default API id: the file name without extension, reduced to [a-z0-9-]. */
export function defaultApiId(file: string): string {
  const id = basename(file, extname(file)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '')
  return id === '' ? 'api' : id
}



/** Stage names: API Gateway allows letters, digits, hyphens and underscores. */
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/

function parseStages(raw: unknown, file: string, pointer: string, problems: ConfigProblem[]): StageSource[] {
  const stages: StageSource[] = []
  const add = (name: unknown, body: unknown, ptr: string) => {
    if (typeof name !== 'string' || !STAGE_NAME.test(name)) {
      problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message: 'stage name must match [A-Za-z0-9_-]{1,128}', severity: 'error' })
      return
    }
    const vars = isRecord(body) ? readStringMap(problems, file, Codes.GATEWAY, body.variables, pointerJoin(ptr, 'variables'), { coerceScalars: true }) : {}
    const settings = isRecord(body) ? parseStageSettings(body, file, ptr, problems) : DEFAULT_STAGE_SETTINGS
    const canary = isRecord(body) && body.canarySettings !== undefined ? loadCanarySettings(body.canarySettings, file, pointerJoin(ptr, 'canarySettings'), problems) : null
    stages.push(canary === null ? { name, variables: vars, settings } : { name, variables: vars, settings, canary })
  }
  if (Array.isArray(raw)) raw.forEach((s, i) => add(isRecord(s) ? s.name : undefined, s, pointerJoin(pointer, i)))
  else if (isRecord(raw)) for (const [name, body] of Object.entries(raw)) add(name, body, pointerJoin(pointer, name))
  else problems.push({ code: Codes.GATEWAY, file, pointer, message: 'stages must be a list or a map', severity: 'error' })
  return stages
}

/** Loads the gateway: config file and/or API files → normalized GatewaySource. */
export function loadGateway(opts: LoadOptions): LoadResult {
  const problems: ConfigProblem[] = []
  const apis: ApiSource[] = []
  let host = DEFAULT_HOST
  let port = DEFAULT_PORT
  let workers = 0
  let functions: LoadResult['functions'] = null
  let access: AccessSource = DEFAULT_ACCESS
  let vpcLinks: Record<string, string> = {}
  let aws: AwsSettings = { endpoints: {}, roles: {}, defaultCredentials: envCredentials(process.env) }
  /** The config map and its file, once read: the account section is loaded after the APIs it names. */
  let config: { readonly file: string; readonly map: Record<string, unknown> } | null = null
  let admin: AdminSource | null = null
  let tracing: TracingSource = { otlp: null }
  let state: StateSource = defaultState()
  let throttling: ThrottleLimits = DEFAULT_ACCOUNT_THROTTLING
  const extraVars = opts.stageVariables ?? {}

  if (opts.configFile !== null) {
    const file = resolve(opts.configFile)
    const cfg = readDocument(file, problems)
    if (cfg !== undefined) {
      if (!isRecord(cfg)) {
        problems.push({ code: Codes.GATEWAY, file, pointer: '', message: 'gateway config must be a map', severity: 'error' })
      } else {
        config = { file, map: cfg }
        warnUnknownKeys(cfg, GATEWAY_CONFIG_KEYS, file, '', problems)
        const listen = isRecord(cfg.listen) ? cfg.listen : cfg
        if (listen.host !== undefined) {
          if (typeof listen.host === 'string') host = listen.host
          else problems.push({ code: Codes.GATEWAY, file, pointer: cfg.listen ? '/listen/host' : '/host', message: 'must be a string', severity: 'error' })
        }
        if (listen.port !== undefined) {
          if (Number.isInteger(listen.port) && (listen.port as number) >= 0 && (listen.port as number) < 65536) port = listen.port as number
          else problems.push({ code: Codes.GATEWAY, file, pointer: cfg.listen ? '/listen/port' : '/port', message: 'must be an integer from 0 to 65535', severity: 'error' })
        }
        if (cfg.workers !== undefined) {
          if (Number.isInteger(cfg.workers) && (cfg.workers as number) >= 1) workers = cfg.workers as number
          else problems.push({ code: Codes.GATEWAY, file, pointer: '/workers', message: 'must be a positive integer', severity: 'error' })
        }
        if (cfg.vpcLinks !== undefined) {
          vpcLinks = readStringMap(problems, file, Codes.GATEWAY, cfg.vpcLinks, '/vpcLinks', {
            check: (k, v, ptr) => {
              if (!/^https?:\/\/[^/?#]+$/.test(v)) problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message: `VPC link ${k}: the target must be an origin such as "http://127.0.0.1:8080" (no path)`, severity: 'error' })
            },
          })
        }
        aws = { endpoints: {}, roles: {}, defaultCredentials: aws.defaultCredentials }
        if (cfg.endpoints !== undefined) {
          aws = { ...aws, endpoints: readStringMap(problems, file, Codes.GATEWAY, cfg.endpoints, '/endpoints', {
            check: (k, v, ptr) => {
              if (!/^https?:\/\/[^/?#]+\/?$/.test(v)) problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message: `endpoint of ${k}: must be an origin such as "http://127.0.0.1:8000"`, severity: 'error' })
            },
          }) }
        }
        if (cfg.roles !== undefined) aws = { ...aws, roles: parseRoles(cfg.roles, file, problems) }
        if (cfg.admin !== undefined) admin = parseAdmin(cfg.admin, file, problems)
        if (cfg.tracing !== undefined) tracing = parseTracing(cfg.tracing, file, problems)
        if (cfg.state !== undefined) state = parseState(cfg.state, file, problems)
        if (cfg.throttling !== undefined) throttling = parseAccountThrottling(cfg.throttling, file, problems)
        if (cfg.functions !== undefined) {
          if (isRecord(cfg.functions)) {
            functions = { file, baseDir: dirname(file), entries: cfg.functions }
            try {
              compileFunctionsConfig(cfg.functions, dirname(file), file, '/functions')
            } catch (err) {
              if (!(err instanceof ConfigError)) throw err
              problems.push(...err.problems)
            }
          }
          else problems.push({ code: Codes.GATEWAY, file, pointer: '/functions', message: 'must be a map of function names', severity: 'error' })
        }
        if (!Array.isArray(cfg.apis) || cfg.apis.length === 0) {
          if (opts.apiFiles.length === 0) problems.push({ code: Codes.GATEWAY, file, pointer: '/apis', message: 'must be a non-empty list of APIs', severity: 'error' })
        } else {
          cfg.apis.forEach((entry: unknown, i: number) => {
            const ptr = pointerJoin('/apis', i)
            if (!isRecord(entry) || typeof entry.file !== 'string') {
              problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message: 'each API needs a `file`', severity: 'error' })
              return
            }
            const apiFile = resolve(dirname(file), entry.file)
            const id = typeof entry.id === 'string' ? entry.id : defaultApiId(apiFile)
            const basePath = typeof entry.basePath === 'string' ? entry.basePath.replace(/^\/+|\/+$/g, '') : ''
            let stages: StageSource[] = entry.stages === undefined ? [{ name: opts.stage ?? DEFAULT_STAGE_NAME, variables: {}, settings: DEFAULT_STAGE_SETTINGS }] : parseStages(entry.stages, file, pointerJoin(ptr, 'stages'), problems)
            stages = stages.map((s) => ({ ...s, variables: { ...s.variables, ...extraVars } }))
            const doc = readDocument(apiFile, problems)
            if (doc === undefined) return
            const api = normalizeApi(doc, { file: apiFile, id, basePath, stages }, problems)
            if (api !== null) apis.push(api)
          })
        }
      }
    }
  }

  for (const f of opts.apiFiles) {
    const apiFile = resolve(f)
    const doc = readDocument(apiFile, problems)
    if (doc === undefined) continue
    const stages = [{ name: opts.stage ?? DEFAULT_STAGE_NAME, variables: { ...extraVars }, settings: DEFAULT_STAGE_SETTINGS }]
    const api = normalizeApi(doc, { file: apiFile, id: defaultApiId(apiFile), basePath: '', stages }, problems)
    if (api !== null) apis.push(api)
  }

  checkApiSet(apis, problems)
  if (config !== null) access = loadAccess(config.map, { file: config.file, baseDir: dirname(config.file), apis, problems })
  // Given in code (createGateway), the account section replaces the config's.
  if (opts.access !== undefined) access = opts.access
  warnUncoveredKeyStages(apis, access, problems)
  if (opts.host !== undefined) host = opts.host
  if (opts.port !== undefined) port = opts.port
  if (opts.workers !== undefined) workers = opts.workers
  if (opts.adminPort !== undefined) admin = { host: admin?.host ?? DEFAULT_HOST, port: opts.adminPort }
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(problems)
  return { gateway: { host, port, workers, apis, access, ...(config !== null && config.map.accountId !== undefined ? { accountId: access.accountId } : {}), region: access.region, vpcLinks, aws, admin, tracing, state, throttling }, warnings: problems.filter((p) => p.severity === 'warning'), functions }
}

/** `admin: { host, port }`: the admin listener; absent means off. */
function parseAdmin(raw: unknown, file: string, problems: ConfigProblem[]): AdminSource | null {
  if (!isRecord(raw)) {
    problems.push({ code: Codes.GATEWAY, file, pointer: '/admin', message: 'must be a map with `host` and `port`', severity: 'error' })
    return null
  }
  warnUnknownKeys(raw, ['host', 'port'], file, '/admin', problems)
  const host = raw.host ?? DEFAULT_HOST
  if (typeof host !== 'string' || host === '') {
    problems.push({ code: Codes.GATEWAY, file, pointer: '/admin/host', message: 'must be a string', severity: 'error' })
    return null
  }
  if (!Number.isInteger(raw.port) || (raw.port as number) < 0 || (raw.port as number) > 65535) {
    problems.push({ code: Codes.GATEWAY, file, pointer: '/admin/port', message: 'must be an integer from 0 to 65535', severity: 'error' })
    return null
  }
  return { host, port: raw.port as number }
}

/** `tracing: { otlp: URL }`: the OTLP/HTTP collector spans are exported to. */
function parseTracing(raw: unknown, file: string, problems: ConfigProblem[]): TracingSource {
  if (!isRecord(raw)) {
    problems.push({ code: Codes.GATEWAY, file, pointer: '/tracing', message: 'must be a map, e.g. { otlp: "http://127.0.0.1:4318" }', severity: 'error' })
    return { otlp: null }
  }
  warnUnknownKeys(raw, ['otlp'], file, '/tracing', problems)
  if (raw.otlp === undefined || raw.otlp === null) return { otlp: null }
  if (typeof raw.otlp !== 'string' || !/^https?:\/\/[^/?#]+/.test(raw.otlp)) {
    problems.push({ code: Codes.GATEWAY, file, pointer: '/tracing/otlp', message: 'must be the http(s) URL of an OTLP/HTTP collector, e.g. http://127.0.0.1:4318', severity: 'error' })
    return { otlp: null }
  }
  return { otlp: raw.otlp.replace(/\/+$/, '') }
}

/** The standard AWS environment credentials, or null when they are not set. */
export function envCredentials(env: NodeJS.ProcessEnv): AwsCredentialsSource | null {
  const accessKeyId = env['AWS_ACCESS_KEY_ID']
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY']
  if (accessKeyId === undefined || accessKeyId === '' || secretAccessKey === undefined || secretAccessKey === '') return null
  const sessionToken = env['AWS_SESSION_TOKEN']
  return sessionToken === undefined || sessionToken === '' ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken }
}

/** roles: { "arn:aws:iam::123456789012:role/x": { accessKeyId, secretAccessKey, sessionToken? } }; values may be ${env:NAME}. */
function parseRoles(raw: unknown, file: string, problems: ConfigProblem[]): Record<string, AwsCredentialsSource> {
  const out: Record<string, AwsCredentialsSource> = {}
  if (!isRecord(raw)) {
    problems.push({ code: Codes.GATEWAY, file, pointer: '/roles', message: 'must be a map of IAM role ARNs to credentials', severity: 'error' })
    return out
  }
  for (const [arn, v] of Object.entries(raw)) {
    const ptr = pointerJoin('/roles', arn)
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(arn)) problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message: 'must be an IAM role ARN (arn:aws:iam::123456789012:role/name)', severity: 'error' })
    if (!isRecord(v)) {
      problems.push({ code: Codes.GATEWAY, file, pointer: ptr, message: 'must be { accessKeyId, secretAccessKey, sessionToken? }', severity: 'error' })
      continue
    }
    const field = (name: string, required: boolean): string | undefined => {
      const x = v[name]
      if (x === undefined && !required) return undefined
      if (typeof x !== 'string' || x === '') {
        problems.push({ code: Codes.GATEWAY, file, pointer: pointerJoin(ptr, name), message: 'must be a non-empty string (or ${env:NAME})', severity: 'error' })
        return undefined
      }
      return resolveEnvRefs(x, file, pointerJoin(ptr, name), problems)
    }
    for (const k of Object.keys(v)) if (k !== 'accessKeyId' && k !== 'secretAccessKey' && k !== 'sessionToken') problems.push({ code: Codes.GATEWAY, file, pointer: pointerJoin(ptr, k), message: `unknown credentials field "${k}"`, severity: 'error' })
    const accessKeyId = field('accessKeyId', true)
    const secretAccessKey = field('secretAccessKey', true)
    const sessionToken = field('sessionToken', false)
    if (accessKeyId !== undefined && secretAccessKey !== undefined) out[arn] = sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken }
  }
  return out
}

/** Several APIs on one listener need distinct ids and distinct base paths. */
function checkApiSet(apis: ApiSource[], problems: ConfigProblem[]): void {
  const ids = new Set<string>()
  const bases = new Set<string>()
  for (const api of apis) {
    if (ids.has(api.id)) problems.push({ code: Codes.GATEWAY, file: api.file, pointer: '', message: `API id "${api.id}" is used twice: give each API its own id in the config`, severity: 'error' })
    ids.add(api.id)
    if (bases.has(api.basePath) && api.basePath !== '') problems.push({ code: Codes.GATEWAY, file: api.file, pointer: '', message: `base path "${api.basePath}" is used by two APIs`, severity: 'error' })
    bases.add(api.basePath)
  }
}
