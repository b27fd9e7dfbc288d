// The `functions:` section of backplane.yaml, checked and compiled once at load.
//
//   functions:
//     pets:    { handler: ./functions/pets.mjs#handler, timeoutMs: 3000, memoryMb: 128,
//                environment: { TABLE: pets }, concurrency: 4 }
//     orders:  { url: http://127.0.0.1:9001, timeoutMs: 10000 }   # Lambda Invoke API (e.g. the RIE)

import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Codes, ConfigError, type ConfigProblem } from '../errors.js'

/** A function run in this process, in its own worker threads. */
export interface LocalFunctionConfig {
  /** `path/to/module.mjs#exportName` (export defaults to `handler`); ESM or CommonJS. */
  readonly handler: string
  /** The function's own timeout (Lambda's Timeout); default DEFAULT_FUNCTION_TIMEOUT_MS. */
  readonly timeoutMs?: number
  /** Heap limit of each instance (Lambda's MemorySize); default DEFAULT_FUNCTION_MEMORY_MB. */
  readonly memoryMb?: number
  /** Environment variables of the function, over Lambda's reserved ones. */
  readonly environment?: Readonly<Record<string, string>>
  /** Most instances running at once (each runs one invocation at a time). */
  readonly concurrency?: number
}

/** A function reached through the Lambda Invoke API. */
export interface RemoteFunctionConfig {
  /** Origin (and optional base path) of the endpoint: POST {url}/2015-03-31/functions/{name}/invocations. */
  readonly url: string
  readonly timeoutMs?: number
}

export type FunctionConfig = LocalFunctionConfig | RemoteFunctionConfig

/** Function name → how to run it. */
export type FunctionsConfig = Readonly<Record<string, FunctionConfig>>

/** Lambda's default function timeout. */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 3_000
/** Lambda's maximum function timeout (15 minutes). */
export const MAX_FUNCTION_TIMEOUT_MS = 900_000
/** Lambda's default memory size. */
export const DEFAULT_FUNCTION_MEMORY_MB = 128
/** Lambda's smallest and largest memory sizes. */
export const MIN_FUNCTION_MEMORY_MB = 128
export const MAX_FUNCTION_MEMORY_MB = 10_240
/** Warm instances per function: each is a worker thread (≈ 10 MB and ≈ 60 ms to start). */
export const DEFAULT_FUNCTION_CONCURRENCY = 4
/** Region and account the functions pretend to live in (context.invokedFunctionArn). */
export const DEFAULT_FUNCTION_REGION = 'us-east-1'
export const DEFAULT_FUNCTION_ACCOUNT = '123456789012'

export interface CompiledLocalFunction {
  readonly kind: 'local'
  readonly name: string
  /** The handler string as configured. */
  readonly handler: string
  /** file: URL of the module. */
  readonly moduleUrl: string
  readonly exportName: string
  readonly timeoutMs: number
  readonly memoryMb: number
  readonly environment: Readonly<Record<string, string>>
  readonly concurrency: number
}

export interface CompiledRemoteFunction {
  readonly kind: 'remote'
  readonly name: string
  /** The url with no trailing slash. */
  readonly url: string
  readonly timeoutMs: number
}

export type CompiledFunction = CompiledLocalFunction | CompiledRemoteFunction

const NAME_RE = /^[A-Za-z0-9_-]{1,64}(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$/
const ENV_NAME_RE = /^[A-Za-z][A-Za-z0-9_]*$/

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
}

/**
 * Checks the functions section and resolves handler paths against baseDir. Collects every
 * problem, then throws one ConfigError (pointers are relative to `pointer`).
 */
export function compileFunctionsConfig(
  config: unknown,
  baseDir: string,
  file = 'backplane.yaml',
  pointer = '/functions',
): ReadonlyMap<string, CompiledFunction> {
  const problems: ConfigProblem[] = []
  const out = new Map<string, CompiledFunction>()
  const problem = (at: string, message: string) =>
    problems.push({ code: Codes.FUNCTION, file, pointer: at, message, severity: 'error' })

  if (config === undefined || config === null) return out
  if (typeof config !== 'object' || Array.isArray(config)) {
    problem(pointer, 'functions must be a map of function name to { handler } or { url }')
    throw new ConfigError(problems)
  }
  for (const [name, raw] of Object.entries(config as Record<string, unknown>)) {
    const at = pointer + '/' + name.replace(/~/g, '~0').replace(/\//g, '~1')
    if (!NAME_RE.test(name)) {
      problem(at, `"${name}" is not a Lambda function name (1-64 of A-Z a-z 0-9 - _, optional :alias)`)
      continue
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problem(at, 'must be an object with handler or url')
      continue
    }
    const f = raw as Record<string, unknown>
    const hasHandler = 'handler' in f
    const hasUrl = 'url' in f
    if (hasHandler === hasUrl) {
      problem(at, 'needs exactly one of handler (a local module) or url (a Lambda Invoke API endpoint)')
      continue
    }
    const timeoutMs = f['timeoutMs'] ?? DEFAULT_FUNCTION_TIMEOUT_MS
    if (!isInt(timeoutMs, 1, MAX_FUNCTION_TIMEOUT_MS)) problem(at + '/timeoutMs', `must be an integer from 1 to ${MAX_FUNCTION_TIMEOUT_MS}`)

    if (hasUrl) {
      for (const k of Object.keys(f)) if (k !== 'url' && k !== 'timeoutMs') problem(at + '/' + k, 'unknown property of a remote function')
      const url = f['url']
      let parsed: URL | null = null
      try {
        parsed = typeof url === 'string' ? new URL(url) : null
      } catch {
        parsed = null
      }
      if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search !== '' || parsed.hash !== '') {
        problem(at + '/url', 'must be an http(s) URL without query or fragment')
        continue
      }
      out.set(name, { kind: 'remote', name, url: (url as string).replace(/\/+$/, ''), timeoutMs: timeoutMs as number })
      continue
    }

    for (const k of Object.keys(f)) {
      if (!['handler', 'timeoutMs', 'memoryMb', 'environment', 'concurrency'].includes(k)) problem(at + '/' + k, 'unknown property of a local function')
    }
    const handler = f['handler']
    if (typeof handler !== 'string' || handler === '' || handler.startsWith('#')) {
      problem(at + '/handler', 'must be "path/to/module.mjs#exportName"')
      continue
    }
    const hash = handler.lastIndexOf('#')
    const modulePath = hash === -1 ? handler : handler.slice(0, hash)
    const exportName = hash === -1 ? 'handler' : handler.slice(hash + 1)
    if (exportName === '' || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(exportName)) {
      problem(at + '/handler', `"${exportName}" is not an export name`)
      continue
    }
    const memoryMb = f['memoryMb'] ?? DEFAULT_FUNCTION_MEMORY_MB
    if (!isInt(memoryMb, MIN_FUNCTION_MEMORY_MB, MAX_FUNCTION_MEMORY_MB)) {
      problem(at + '/memoryMb', `must be an integer from ${MIN_FUNCTION_MEMORY_MB} to ${MAX_FUNCTION_MEMORY_MB}`)
    }
    const concurrency = f['concurrency'] ?? DEFAULT_FUNCTION_CONCURRENCY
    if (!isInt(concurrency, 1, 1000)) problem(at + '/concurrency', 'must be an integer from 1 to 1000')
    const env = f['environment'] ?? {}
    const environment: Record<string, string> = {}
    if (typeof env !== 'object' || env === null || Array.isArray(env)) {
      problem(at + '/environment', 'must be a map of names to strings')
    } else {
      for (const [k, v] of Object.entries(env as Record<string, unknown>)) {
        if (!ENV_NAME_RE.test(k)) problem(at + '/environment/' + k, 'is not an environment variable name')
        else if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') problem(at + '/environment/' + k, 'must be a string')
        else environment[k] = String(v)
      }
    }
    const abs = isAbsolute(modulePath) ? modulePath : resolve(baseDir, modulePath)
    out.set(name, {
      kind: 'local',
      name,
      handler,
      moduleUrl: pathToFileURL(abs).href,
      exportName,
      timeoutMs: timeoutMs as number,
      memoryMb: memoryMb as number,
      environment,
      concurrency: concurrency as number,
    })
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return out
}
