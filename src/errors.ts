// Configuration errors: raised at load and compile time only, never per request.
// Request-time outcomes are values (gateway response types), see pipeline/gateway-responses.ts.

/** One problem found in an API or config file. */
export interface ConfigProblem {
  readonly code: string
  /** The file the problem is in. */
  readonly file: string
  /** JSON pointer into that file ('' for the whole document). */
  readonly pointer: string
  readonly message: string
  /** Warnings do not stop the gateway; errors do. */
  readonly severity: 'error' | 'warning'
}

export class BackplaneError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'BackplaneError'
    this.code = code
  }
}

/** Every problem of a load, collected before failing. */
export class ConfigError extends BackplaneError {
  readonly problems: readonly ConfigProblem[]
  constructor(problems: readonly ConfigProblem[]) {
    super('BP_ERR_CONFIG_INVALID', problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n'))
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** `file: JSON pointer: reason`, the line `backplane check` prints. */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}: ${p.pointer === '' ? '/' : p.pointer}: ${p.message}`
}

/** The code table (STYLE §C). */
export const Codes = {
  READ: 'BP_ERR_CONFIG_READ',
  PARSE: 'BP_ERR_CONFIG_PARSE',
  UNSUPPORTED_VERSION: 'BP_ERR_CONFIG_UNSUPPORTED_VERSION',
  SHAPE: 'BP_ERR_CONFIG_SHAPE',
  UNKNOWN_INTEGRATION_TYPE: 'BP_ERR_CONFIG_UNKNOWN_INTEGRATION_TYPE',
  INTEGRATION: 'BP_ERR_CONFIG_INTEGRATION',
  PATH: 'BP_ERR_CONFIG_PATH',
  DUPLICATE_ROUTE: 'BP_ERR_CONFIG_DUPLICATE_ROUTE',
  STAGE_VARIABLE: 'BP_ERR_CONFIG_STAGE_VARIABLE',
  NOT_YET_SERVED: 'BP_WARN_CONFIG_INTEGRATION_NOT_SERVED',
  GATEWAY: 'BP_ERR_CONFIG_GATEWAY',
  TEMPLATE: 'BP_ERR_CONFIG_TEMPLATE',
  MODEL: 'BP_ERR_CONFIG_MODEL',
  FUNCTION: 'BP_ERR_CONFIG_FUNCTION',
  /** x-backplane-protobuf: a .proto file that does not load, a message that is not defined. */
  PROTOBUF: 'BP_ERR_CONFIG_PROTOBUF',
  /** A method's protection (authorizer, IAM, API key, policy) that is malformed or cannot be enforced. */
  AUTHORIZATION: 'BP_ERR_CONFIG_AUTHORIZATION',
  /** A setting read but not acted on yet (throttling, quotas, caching): a warning. */
  NOT_ENFORCED: 'BP_WARN_CONFIG_NOT_ENFORCED',
  /** A key the loader does not know (a warning, with "did you mean"). */
  UNKNOWN_KEY: 'BP_WARN_CONFIG_UNKNOWN_KEY',
  /** A `${env:NAME}` secret whose variable is not set. */
  SECRET: 'BP_ERR_CONFIG_SECRET',
  /** An access log format the gateway cannot render (accessLogSettings.format). */
  ACCESS_LOG: 'BP_ERR_CONFIG_ACCESS_LOG',
  /** Request time, logged: a Lambda proxy result API Gateway would refuse (502). */
  FUNCTION_MALFORMED_RESULT: 'BP_ERR_FUNCTION_MALFORMED_RESULT',
  /** Start-up: the listening address is taken by another process (PortInUseError). */
  PORT_IN_USE: 'BP_ERR_FRONT_PORT_IN_USE',
} as const

/** The address to listen on is in use: the gateway refuses to start rather than share it. */
export class PortInUseError extends BackplaneError {
  constructor(readonly host: string, readonly port: number) {
    super(Codes.PORT_IN_USE, `${host}:${port} is already in use by another process; stop it or choose another --port`)
    this.name = 'PortInUseError'
  }
}

/** JSON pointer escaping (RFC 6901). */
export function pointerJoin(base: string, ...tokens: (string | number)[]): string {
  let out = base
  for (const t of tokens) out += '/' + String(t).replace(/~/g, '~0').replace(/\//g, '~1')
  return out
}
