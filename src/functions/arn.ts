// Lambda integration URIs, as API Gateway writes them in x-amazon-apigateway-integration.uri:
//
//   arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations
//
// where {function} is what the Lambda Invoke API accepts as FunctionName: a full ARN
// (arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]), a partial ARN
// ({account}:function:{name}[:{qualifier}]) or a bare name ({name}[:{qualifier}]).
// Stage variables (`function:${stageVariables.fn}`) are substituted by the caller first,
// so this runs once per distinct URI, not per request: the pipeline can cache the answer.

/** A Lambda function named by an integration URI. */
export interface LambdaTarget {
  /** Region of the function ARN; the apigateway ARN's region when the URI gives no function ARN. */
  readonly region: string
  /** Account of the function ARN; null when the URI names the function without one. */
  readonly account: string | null
  /** Function name, 1–64 of [A-Za-z0-9-_]. */
  readonly functionName: string
  /** Version or alias after the name (`prod`, `7`, `$LATEST`), null when absent. */
  readonly qualifier: string | null
  /** The invoked function ARN as Lambda reports it in context.invokedFunctionArn. */
  readonly functionArn: string
  /** True for the response-streaming Invoke API (`2021-11-15/.../response-streaming-invocations`). */
  readonly responseStreaming: boolean
}

/** arn:{partition}:apigateway:{region}:lambda:path/{version}/functions/{function}/{action} */
const URI_RE =
  /^arn:(aws[a-z-]*):apigateway:([a-z0-9-]+):lambda:path\/(2015-03-31|2021-11-15)\/functions\/(.+)\/(invocations|response-streaming-invocations)$/
/** Full or partial function ARN, or a bare name, with an optional qualifier. */
const FUNCTION_RE =
  /^(?:(?:arn:(aws[a-z-]*):lambda:([a-z0-9-]+):)?(\d{12}):function:)?([A-Za-z0-9_-]{1,64})(?::(\$LATEST|[A-Za-z0-9_-]{1,128}))?$/

/**
 * Parses a Lambda integration URI (stage variables already substituted).
 * Returns null when the URI does not name a Lambda function.
 */
export function parseLambdaUri(uri: string): LambdaTarget | null {
  const m = URI_RE.exec(uri)
  if (m === null) return null
  const partition = m[1]!
  const region = m[2]!
  const version = m[3]!
  const action = m[5]!
  const responseStreaming = action === 'response-streaming-invocations'
  // The streaming action exists only under the 2021-11-15 API version and vice versa.
  if (responseStreaming !== (version === '2021-11-15')) return null
  let fn = m[4]!
  // API Gateway accepts the function ARN percent-encoded in the path as well.
  if (fn.indexOf('%') !== -1) {
    try {
      fn = decodeURIComponent(fn)
    } catch {
      return null
    }
  }
  const f = FUNCTION_RE.exec(fn)
  if (f === null) return null
  const fnRegion = f[2] ?? region
  const account = f[3] ?? null
  const functionName = f[4]!
  const qualifier = f[5] ?? null
  const functionArn =
    `arn:${f[1] ?? partition}:lambda:${fnRegion}:${account ?? '000000000000'}:function:${functionName}` +
    (qualifier === null ? '' : ':' + qualifier)
  return { region: fnRegion, account, functionName, qualifier, functionArn, responseStreaming }
}
