#!/usr/bin/env node
// backplane serve | check | routes: arguments → options → the library (thin).
//
// Only light modules are imported up front; each command imports what it runs. `serve`
// starts its workers first (pool/prestart.ts), so their module graph loads in parallel
// with the main thread's (issue 11, start-up).
import type { LoadOptions } from './config/load.js'
import { ConfigError, PortInUseError, formatProblem, type ConfigProblem } from './errors.js'
import { DEFAULT_FRONT, startWorkers, type FrontMode } from './pool/prestart.js'

/** How long the reload line waits for every worker to compile the new configuration. */
const RELOAD_ANNOUNCE_WAIT_MS = 10_000

/** Exit codes: 0 ok, 1 invalid configuration or runtime failure, 2 bad usage, 3 port in use. */
const EXIT_OK = 0
const EXIT_INVALID = 1
const EXIT_USAGE = 2
/** `serve`: the listening port is taken by another process (uWS would silently share it). */
const EXIT_PORT_IN_USE = 3

const helpText = async (): Promise<string> => {
  const { USAGE_HELP } = await import('./cli/usage.js')
  return `backplane: serve Amazon API Gateway REST API definitions (OpenAPI 3 / Swagger 2 with x-amazon-apigateway-* extensions)

Usage:
  backplane serve [API_FILE ...] [--config backplane.yaml] [--port N] [--host H]
                  [--stage NAME] [--stage-var key=value ...] [--workers N] [--strict]
                  [--admin-port N] [--front main|workers]
  backplane check FILE ... [--strict]
                                validate API files (and --config FILE); prints file: pointer: reason
  backplane routes FILE ...     print the compiled route table
  ${USAGE_HELP}
  backplane cache flush --config F --api ID --stage NAME [--admin URL]
  backplane --help | --version

--front workers (the default) runs one uWebSockets.js app per worker thread on the shared
port (the kernel spreads connections over them; --workers defaults to one per core);
--front main runs one front on the main thread that batches requests to the workers
(--workers defaults to one per core less one). BACKPLANE_FRONT sets the default.

--strict makes every warning an error. Without it, serve answers 500 for a method whose
mapping template does not compile and serves the rest; check always refuses such a template.

With API files and no config, each API is served as one stage (default "test") at
http://HOST:PORT/{stage}/{resource path}, as API Gateway's execute-api URLs.

Exit codes: 0 ok, 1 invalid configuration (or a failure at run time), 2 bad usage,
3 the listening port is already in use by another process.
`
}

class UsageError extends Error {}

interface Args {
  command: string
  files: string[]
  config: string | null
  port: number | undefined
  host: string | undefined
  stage: string | undefined
  workers: number | undefined
  adminPort: number | undefined
  stageVariables: Record<string, string>
  /** --strict: warnings are errors. */
  strict: boolean
  /** --front: where requests are served (index.ts FrontMode); undefined: BACKPLANE_FRONT, else workers. */
  front: FrontMode | undefined
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { command: argv[0] ?? '', files: [], config: null, port: undefined, host: undefined, stage: undefined, workers: undefined, adminPort: undefined, stageVariables: {}, strict: false, front: undefined }
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError(`${a} needs a value`)
      return v
    }
    const int = (name: string, v: string, min: number, max: number) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}`)
      return n
    }
    switch (a) {
      case '--config':
      case '-c':
        args.config = value()
        break
      case '--port':
      case '-p':
        args.port = int('--port', value(), 0, 65535)
        break
      case '--host':
        args.host = value()
        break
      case '--stage':
        args.stage = value()
        if (!/^[A-Za-z0-9_-]{1,128}$/.test(args.stage)) throw new UsageError('--stage must match [A-Za-z0-9_-]{1,128}')
        break
      case '--admin-port':
        args.adminPort = int('--admin-port', value(), 0, 65535)
        break
      case '--workers':
        args.workers = int('--workers', value(), 1, 256)
        break
      case '--strict':
        args.strict = true
        break
      case '--front':
        args.front = frontMode(value(), '--front')
        break
      case '--stage-var': {
        const kv = value()
        const eq = kv.indexOf('=')
        if (eq <= 0) throw new UsageError('--stage-var takes key=value')
        args.stageVariables[kv.slice(0, eq)] = kv.slice(eq + 1)
        break
      }
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`)
        args.files.push(a)
    }
  }
  return args
}

function frontMode(v: string, name: string): FrontMode {
  if (v !== 'main' && v !== 'workers') throw new UsageError(`${name} must be main or workers`)
  return v
}

function loadOptions(args: Args): LoadOptions {
  return { apiFiles: args.files, configFile: args.config, host: args.host, port: args.port, workers: args.workers, adminPort: args.adminPort, stage: args.stage, stageVariables: args.stageVariables, strict: args.strict }
}

function printProblems(problems: readonly ConfigProblem[]): void {
  for (const p of problems) process.stderr.write(`${p.severity === 'warning' ? 'warning: ' : ''}${formatProblem(p)}\n`)
}

async function serve(args: Args): Promise<number> {
  if (args.files.length === 0 && args.config === null) throw new UsageError('serve needs an API file or --config')
  const env = process.env.BACKPLANE_FRONT
  const front = args.front ?? (env === undefined || env === '' ? DEFAULT_FRONT : frontMode(env, 'BACKPLANE_FRONT'))
  // The workers start loading now; createGateway hands them the checked configuration.
  const prestarted = startWorkers(front, args.workers ?? 0)
  const { createGateway, describeFrontEnd } = await import('./index.js')
  const gw = await createGateway({ ...loadOptions(args), front, prestarted })
  printProblems(gw.warnings)
  process.stdout.write(`backplane listening on ${gw.url}\n`)
  process.stdout.write(`front end: ${describeFrontEnd()}${front === 'workers' ? ', one per worker' : ''}\n`)
  if (gw.adminUrl !== null) process.stdout.write(`backplane admin on ${gw.adminUrl}\n`)
  // SIGUSR1 (logrotate's postrotate): access log files are reopened by name.
  process.on('SIGUSR1', () => gw.reopenLogs())
  // SIGHUP reloads the API files, the config and the function handlers without a restart.
  process.on('SIGHUP', () => {
    const r = gw.reload()
    if (r.ok) {
      printProblems(r.warnings)
      // The line means "in force": wait (bounded) until every worker has compiled the new version.
      const announce = () => process.stdout.write(`reloaded: configuration version ${r.version}\n`)
      const deadline = Date.now() + RELOAD_ANNOUNCE_WAIT_MS
      const poll = () => {
        if (gw.ready() || Date.now() >= deadline) announce()
        else setTimeout(poll, 10)
      }
      poll()
    } else {
      printProblems(r.problems)
      process.stderr.write('reload refused: the running configuration stays\n')
    }
  })
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
  // The first signal drains requests in flight; a second one stops at once.
  const now = () => {
    gw.closeNow().finally(() => process.exit(EXIT_INVALID))
  }
  process.once('SIGTERM', now)
  process.once('SIGINT', now)
  await gw.close()
  return EXIT_OK
}

async function check(args: Args): Promise<number> {
  const { loadGateway } = await import('./config/load.js')
  const { compileGateway } = await import('./pipeline/compile.js')
  const { checkTemplates } = await import('./mapping/check-templates.js')
  const { withCanaryApis } = await import('./config/canary-settings.js')
  if (args.files.length === 0 && args.config === null) throw new UsageError('check needs files')
  const loaded = loadGateway(loadOptions(args))
  const problems: ConfigProblem[] = [...loaded.warnings]
  compileGateway(loaded.gateway, problems)
  checkTemplates(withCanaryApis(loaded.gateway.apis), problems)
  printProblems(args.strict ? problems.map((p) => ({ ...p, severity: 'error' as const })) : problems)
  if (problems.some((p) => p.severity === 'error' || args.strict)) return EXIT_INVALID
  for (const api of loaded.gateway.apis) process.stdout.write(`${api.file}: ok (${api.operations.length} methods)\n`)
  return EXIT_OK
}

async function routes(args: Args): Promise<number> {
  const { loadGateway } = await import('./config/load.js')
  const { compileGateway } = await import('./pipeline/compile.js')
  if (args.files.length === 0 && args.config === null) throw new UsageError('routes needs files')
  const loaded = loadGateway(loadOptions(args))
  const problems: ConfigProblem[] = []
  compileGateway(loaded.gateway, problems)
  printProblems(problems)
  if (problems.some((p) => p.severity === 'error')) return EXIT_INVALID
  const rows: string[][] = [['API', 'STAGE', 'METHOD', 'RESOURCE', 'INTEGRATION']]
  for (const api of loaded.gateway.apis) {
    for (const stage of api.stages) {
      for (const op of api.operations) {
        const i = op.integration
        let target = i === null ? '(none)' : i.type === 'MOCK' ? 'MOCK' : `${i.type} ${i.httpMethod ?? ''} ${i.uri ?? ''}`
        // Transcoded routes: the messages and the transport (x-backplane-protobuf).
        const pb = op.protobuf
        if (pb !== null) target += ` [${pb.grpc ? 'gRPC' : 'protobuf/HTTP 1.1'} ${pb.request} → ${pb.response}]`
        rows.push([api.id + (api.basePath === '' ? '' : ` (/${api.basePath})`), stage.name, op.method, op.path, target])
      }
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  for (const r of rows) process.stdout.write(r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ') + '\n')
  return EXIT_OK
}

export async function main(argv: string[]): Promise<number> {
  /** The usage command's module, once loaded (its errors are usage errors). */
  let usage: typeof import('./cli/usage.js') | null = null
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      process.stdout.write(await helpText())
      return argv.length === 0 ? EXIT_USAGE : EXIT_OK
    }
    if (argv[0] === '--version') {
      process.stdout.write('backplane 0.1.0\n')
      return EXIT_OK
    }
    if (argv[0] === 'usage') {
      usage = await import('./cli/usage.js')
      process.stdout.write(`${JSON.stringify(await usage.usageReport(argv.slice(1)), null, 2)}\n`)
      return EXIT_OK
    }
    if (argv[0] === 'cache') return await (await import('./response-cache/flush.js')).runCacheCommand(argv.slice(1))
    const args = parseArgs(argv)
    switch (args.command) {
      case 'serve':
        return await serve(args)
      case 'check':
        return await check(args)
      case 'routes':
        return await routes(args)
      default:
        throw new UsageError(`unknown command "${args.command}"`)
    }
  } catch (err) {
    if (err instanceof UsageError || (usage !== null && err instanceof usage.UsageCommandError)) {
      process.stderr.write(`backplane: ${(err as Error).message}\n\n${await helpText()}`)
      return EXIT_USAGE
    }
    if (err instanceof ConfigError) {
      printProblems(err.problems)
      return EXIT_INVALID
    }
    if (err instanceof PortInUseError) {
      process.stderr.write(`backplane: ${err.message}\n`)
      return EXIT_PORT_IN_USE
    }
    process.stderr.write(`backplane: ${(err as Error).message}\n`)
    return EXIT_INVALID
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
  // Piscina and undici handles are closed by then; exit promptly even if one lingers.
  if (code !== EXIT_OK || process.argv[2] !== 'serve') return
  setTimeout(() => process.exit(code), 2000).unref()
})
