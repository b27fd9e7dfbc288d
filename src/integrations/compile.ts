// Integration, compile step: the URI after stage variables, the backend origin or Lambda
// function, and the request and response stages compiled alongside.
import type { IntegrationType, OperationSource, PassthroughBehavior, ContentHandling } from '../config/model.js'
import { parseLambdaUri } from '../functions/arn.js'
import { compileRequestParameters, type CompiledParameterMapping } from '../integration-request/compile.js'
import { compileResponses, type CompiledIntegrationResponse } from '../integration-response/compile.js'

/** One piece of the integration URI: literal text or a {name} path placeholder. */
export interface UriPiece {
  readonly literal: string | null
  readonly param: string | null
  /** A {name+} placeholder keeps '/' unencoded when substituted. */
  readonly greedy: boolean
}

export interface CompiledIntegration {
  readonly type: IntegrationType
  /** Backend method; null means the client's method (httpMethod ANY). */
  readonly backendMethod: string | null
  /** The URI after stage variables, split at {param} placeholders; null for MOCK. */
  readonly uri: readonly UriPiece[] | null
  /** The backend origin ('http://host:port') the pool is keyed by; null for MOCK or a templated host. */
  readonly origin: string | null
  /** AWS / AWS_PROXY: the Lambda function to invoke, `name` or `name:qualifier`. */
  readonly lambdaFunction: string | null
  /** Set when the URI cannot be used in this stage (e.g. a missing stage variable). */
  readonly configurationError: string | null
  readonly timeoutMs: number
  readonly requestParameters: readonly CompiledParameterMapping[]
  readonly requestTemplates: Readonly<Record<string, string>>
  readonly passthroughBehavior: PassthroughBehavior
  readonly contentHandling: ContentHandling | null
  readonly responses: readonly CompiledIntegrationResponse[]
  readonly defaultResponse: CompiledIntegrationResponse | null
}

const STAGE_VAR = /\$\{stageVariables\.([A-Za-z0-9_.:/?#&=,-]+)\}/g

/** Replaces ${stageVariables.x}; reports the names missing from the stage. */
export function substituteStageVariables(text: string, vars: Readonly<Record<string, string>>, missing: string[]): string {
  return text.replace(STAGE_VAR, (_m, name: string) => {
    const v = vars[name]
    if (v === undefined) {
      missing.push(name)
      return ''
    }
    return v
  })
}

function splitUri(uri: string): UriPiece[] {
  const pieces: UriPiece[] = []
  const re = /\{([A-Za-z0-9._-]+)(\+?)\}/g
  let last = 0
  for (let m = re.exec(uri); m !== null; m = re.exec(uri)) {
    if (m.index > last) pieces.push({ literal: uri.slice(last, m.index), param: null, greedy: false })
    pieces.push({ literal: null, param: m[1]!, greedy: m[2] === '+' })
    last = re.lastIndex
  }
  if (last < uri.length) pieces.push({ literal: uri.slice(last), param: null, greedy: false })
  return pieces
}

export function compileIntegration(op: OperationSource, vars: Readonly<Record<string, string>>): CompiledIntegration | null {
  const src = op.integration
  if (src === null) return null
  let uri: UriPiece[] | null = null
  let origin: string | null = null
  // A template that did not compile at load (serve without --strict): the method answers 500.
  let configurationError: string | null = src.templateError ?? null
  let lambdaFunction: string | null = null
  if (src.uri !== null) {
    const missing: string[] = []
    const text = substituteStageVariables(src.uri, vars, missing)
    if (missing.length > 0) configurationError = `Invalid stage variable value: stage variable(s) ${missing.join(', ')} not defined`
    uri = splitUri(text)
    if (src.type === 'HTTP' || src.type === 'HTTP_PROXY') {
      const m = /^(https?:\/\/[^/?#{}]+)/.exec(text)
      if (m !== null) origin = m[1]!
      else if (configurationError === null) configurationError = `Invalid endpoint address: ${text}`
    } else if (configurationError === null) {
      const target = parseLambdaUri(text)
      if (target === null) configurationError = `AWS integrations other than Lambda functions are not supported: ${text}`
      else lambdaFunction = target.qualifier === null ? target.functionName : `${target.functionName}:${target.qualifier}`
    }
  }
  const { responses, defaultResponse } = compileResponses(src.responses)
  return Object.freeze({
    type: src.type,
    backendMethod: src.httpMethod === null || src.httpMethod === 'ANY' ? null : src.httpMethod,
    uri: uri === null ? null : Object.freeze(uri),
    origin,
    lambdaFunction,
    configurationError,
    timeoutMs: src.timeoutInMillis,
    requestParameters: Object.freeze(compileRequestParameters(src.requestParameters)),
    requestTemplates: Object.freeze({ ...src.requestTemplates }),
    passthroughBehavior: src.passthroughBehavior,
    contentHandling: src.contentHandling,
    responses: Object.freeze(responses),
    defaultResponse,
  })
}
