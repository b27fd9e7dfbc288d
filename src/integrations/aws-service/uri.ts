// AWS service integration URIs (type: aws), as the guide's "Set up an integration request"
// writes them:
//
//   arn:aws:apigateway:{region}:{subdomain.}{service}:action/{Action}[&{Name}={Value}…]
//   arn:aws:apigateway:{region}:{subdomain.}{service}:path/{path}
//
// `action` sends the service's Action (query protocol: Action=X in the query string; JSON
// protocol: the X-Amz-Target header); `path` calls the service's REST path directly
// (s3:path/{bucket}/{key}, sqs:path/{account}/{queue}). Runs at compile time only.

/** The parsed URI, stage variables already substituted. */
export interface AwsServiceUri {
  readonly region: string
  /** The endpoint prefix ('dynamodb', 'sqs', 'states'). */
  readonly service: string
  /** `{subdomain}.` before the service ('mybucket' for mybucket.s3), or null. */
  readonly subdomain: string | null
  readonly kind: 'action' | 'path'
  /** action: the Action name; path: the path after `path/` (may hold {placeholders}). */
  readonly target: string
  /** action: the `&Name=Value` pairs after the Action, as a query string ('' when none). */
  readonly extraQuery: string
}

const URI_RE = /^arn:aws[a-z-]*:apigateway:([a-z0-9-]+):(?:([A-Za-z0-9.-]+)\.)?([a-z0-9-]+):(action|path)\/(.*)$/

export function parseAwsServiceUri(uri: string): AwsServiceUri | null {
  const m = URI_RE.exec(uri)
  if (m === null) return null
  const kind = m[4] as 'action' | 'path'
  let target = m[5]!
  let extraQuery = ''
  if (kind === 'action') {
    const amp = target.indexOf('&')
    if (amp !== -1) {
      extraQuery = target.slice(amp + 1)
      target = target.slice(0, amp)
    }
    if (!/^[A-Za-z0-9]+$/.test(target)) return null
  }
  return { region: m[1]!, service: m[3]!, subdomain: m[2] ?? null, kind, target, extraQuery }
}

/**
 * Services whose `action/` calls speak the JSON protocol: the action goes in X-Amz-Target
 * (`{prefix}.{Action}`) with Content-Type application/x-amz-json-{version}, as each
 * service's API reference documents. The others take Action=X in the query (SQS, SNS).
 */
export const JSON_PROTOCOL_SERVICES: Readonly<Record<string, { readonly targetPrefix: string; readonly version: '1.0' | '1.1' }>> = {
  dynamodb: { targetPrefix: 'DynamoDB_20120810', version: '1.0' },
  kinesis: { targetPrefix: 'Kinesis_20131202', version: '1.1' },
  states: { targetPrefix: 'AWSStepFunctions', version: '1.0' },
  events: { targetPrefix: 'AWSEvents', version: '1.1' },
  logs: { targetPrefix: 'Logs_20140328', version: '1.1' },
  ssm: { targetPrefix: 'AmazonSSM', version: '1.1' },
  secretsmanager: { targetPrefix: 'secretsmanager', version: '1.1' },
  firehose: { targetPrefix: 'Firehose_20150804', version: '1.1' },
}

/** Endpoint prefixes whose SigV4 signing name differs. */
const SIGNING_NAMES: Readonly<Record<string, string>> = { email: 'ses' }

export function signingNameOf(service: string): string {
  return SIGNING_NAMES[service] ?? service
}

/** The service's public endpoint origin in a region. */
export function defaultEndpoint(uri: AwsServiceUri): string {
  return `https://${uri.subdomain === null ? '' : uri.subdomain + '.'}${uri.service}.${uri.region}.amazonaws.com`
}
