// Integration, compile step: the URI after stage variables, the backend origin or Lambda
// function, and the request and response stages compiled alongside.
import type { AwsCredentialsSource, AwsSettings, IntegrationType, OperationSource, PassthroughBehavior, ContentHandling } from '../config/model.js'
import { DEFAULT_REGION } from '../config/model.js'
import { parseLambdaUri } from '../functions/arn.js'
import { JSON_PROTOCOL_SERVICES, defaultEndpoint, parseAwsServiceUri, signingNameOf, type AwsServiceUri } from './aws-service/uri.js'
import { compileRequestParameters, type CompiledParameterMapping } from '../integration-request/compile.js'
import { compileResponses, type CompiledIntegrationResponse } from '../integration-response/compile.js'
import { compileProtobuf, type CompiledProtobuf } from './protobuf/compile.js'

/** One piece of the integration URI: literal text or a {name} path placeholder. */
export interface UriPiece {
  readonly literal: string | null
  readonly param: string | null
  /** A {name+} placeholder keeps '/' unencoded when substituted. */
  readonly greedy: boolean
}

/** What the gateway config gives integrations (region, VPC links, AWS endpoints and credentials). */
export interface IntegrationSettings {
  readonly region: string
  readonly vpcLinks: Readonly<Record<string, string>>
  readonly aws: AwsSettings
}

export const DEFAULT_INTEGRATION_SETTINGS: IntegrationSettings = Object.freeze({
  region: DEFAULT_REGION,
  vpcLinks: Object.freeze({}),
  aws: Object.freeze({ endpoints: Object.freeze({}), roles: Object.freeze({}), defaultCredentials: null }),
})

/** An AWS service integration (type: aws, not Lambda), compiled. */
export interface CompiledAwsService {
  readonly uri: AwsServiceUri
  /** Where requests go: the config's endpoints override, else the service's public endpoint. */
  readonly origin: string
  /** Host (and port) of the origin: the Host header, signed. */
  readonly host: string
  readonly signingName: string
  /** The role's credentials from the config, else the standard AWS env credentials; null when neither. */
  readonly credentials: AwsCredentialsSource | null
  /** Why there are no credentials (for the execution log), or null. */
  readonly credentialsProblem: string | null
  /** JSON-protocol services: the X-Amz-Target prefix and x-amz-json version; null for query/REST ones. */
  readonly json: { readonly targetPrefix: string; readonly version: '1.0' | '1.1' } | null
  /** path/: the path after the origin, split at {placeholders}; null for action/. */
  readonly path: readonly UriPiece[] | null
}

/** Connection options of a backend pool (tlsConfig). */
export interface UpstreamTls {
  readonly rejectUnauthorized: boolean
  readonly servername: string | null
}

export interface CompiledIntegration {
  readonly type: IntegrationType
  /** Backend method; null means the client's method (httpMethod ANY). */
  readonly backendMethod: string | null
  /** The URI after stage variables, split at {param} placeholders; null for MOCK. */
  readonly uri: readonly UriPiece[] | null
  /** The origin connections go to: the URI's, or a VPC link's target; null for MOCK or a templated host. */
  readonly origin: string | null
  /** The URI's own origin (its length is cut from the rendered URI to leave the path). */
  readonly uriOrigin: string | null
  /** Host header for a VPC link target (the URI's host, as an NLB listener sees it), else null. */
  readonly hostHeader: string | null
  /** tlsConfig for https backends, or null for the defaults (verify, SNI from the host). */
  readonly tls: UpstreamTls | null
  /** type aws to a service other than Lambda. */
  readonly service: CompiledAwsService | null
  /** AWS / AWS_PROXY: the Lambda function to invoke, `name` or `name:qualifier`. */
  readonly lambdaFunction: string | null
  /** The account of the Lambda function ARN in the URI, or null. */
  readonly lambdaAccount: string | null
  /** Set when the URI cannot be used in this stage (e.g. a missing stage variable). */
  readonly configurationError: string | null
  /** The configuration error does not depend on stage variables: refused at load. */
  readonly fatal: boolean
  readonly timeoutMs: number
  readonly requestParameters: readonly CompiledParameterMapping[]
  readonly requestTemplates: Readonly<Record<string, string>>
  readonly passthroughBehavior: PassthroughBehavior
  readonly contentHandling: ContentHandling | null
  readonly responses: readonly CompiledIntegrationResponse[]
  readonly defaultResponse: CompiledIntegrationResponse | null
  /** x-backplane-protobuf: the JSON ⇄ protobuf transcoding of an http integration, or null. */
  readonly protobuf: CompiledProtobuf | null
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

/**
 * Request headers API Gateway will not take from requestParameters: mapping them answers
 * 500 Internal server error (LocalStack's AWS-validated TestApiGatewayHeaderRemapping
 * snapshots: Content-Length and Transfer-Encoding for every type; Authorization,
 * Connection, Expect, Proxy-Authenticate and TE as well for AWS and AWS_PROXY).
 */
const REFUSED_MAPPED_HEADERS = new Set(['content-length', 'transfer-encoding', 'x-amzn-trace-id', 'x-amzn-apigateway-api-id'])
const REFUSED_MAPPED_HEADERS_AWS = new Set([...REFUSED_MAPPED_HEADERS, 'authorization', 'connection', 'expect', 'proxy-authenticate', 'te'])

function compileService(uri: AwsServiceUri, credentialsArn: string | null, settings: IntegrationSettings): CompiledAwsService {
  const override = settings.aws.endpoints[uri.service]
  const origin = (override ?? defaultEndpoint(uri)).replace(/\/+$/, '')
  let credentials: AwsCredentialsSource | null = null
  let credentialsProblem: string | null = null
  if (credentialsArn !== null) {
    credentials = settings.aws.roles[credentialsArn] ?? settings.aws.defaultCredentials
    if (credentials === null) credentialsProblem = `no credentials for role ${credentialsArn}: add it to the gateway config's roles, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`
  } else {
    credentials = settings.aws.defaultCredentials
    if (credentials === null) credentialsProblem = 'the integration names no credentials role and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set'
  }
  return Object.freeze({
    uri,
    origin,
    host: origin.replace(/^https?:\/\//, ''),
    signingName: signingNameOf(uri.service),
    credentials,
    credentialsProblem,
    json: uri.kind === 'action' ? JSON_PROTOCOL_SERVICES[uri.service] ?? null : null,
    path: uri.kind === 'path' ? Object.freeze(splitUri('/' + uri.target)) : null,
  })
}

export function compileIntegration(op: OperationSource, vars: Readonly<Record<string, string>>, settings: IntegrationSettings = DEFAULT_INTEGRATION_SETTINGS): CompiledIntegration | null {
  const src = op.integration
  if (src === null) return null
  let uri: UriPiece[] | null = null
  let origin: string | null = null
  let uriOrigin: string | null = null
  let hostHeader: string | null = null
  // A template that did not compile at load (serve without --strict): the method answers 500.
  let configurationError: string | null = src.templateError ?? null
  let fatal = false
  let lambdaFunction: string | null = null
  let lambdaAccount: string | null = null
  let service: CompiledAwsService | null = null
  if (src.uri !== null) {
    const missing: string[] = []
    const text = substituteStageVariables(src.uri, vars, missing)
    const templated = text !== src.uri
    if (missing.length > 0) configurationError = `Invalid stage variable value: stage variable(s) ${missing.join(', ')} not defined`
    uri = splitUri(text)
    if (src.type === 'HTTP' || src.type === 'HTTP_PROXY') {
      const m = /^(https?:\/\/[^/?#{}]+)/.exec(text)
      if (m !== null) origin = uriOrigin = m[1]!
      else if (configurationError === null) configurationError = `Invalid endpoint address: ${text}`
      if (src.connectionType === 'VPC_LINK' && src.connectionId !== null && configurationError === null) {
        // A private integration connects to the VPC link's target; the URI's host stays the Host header.
        const linkMissing: string[] = []
        const linkId = substituteStageVariables(src.connectionId, vars, linkMissing)
        const target = settings.vpcLinks[linkId]
        if (linkMissing.length > 0) configurationError = `Invalid stage variable value: stage variable(s) ${linkMissing.join(', ')} not defined`
        else if (target === undefined) {
          configurationError = `VPC link ${linkId} is not in the gateway config's vpcLinks (map it to the target it reaches, e.g. vpcLinks: { ${linkId}: "http://127.0.0.1:8080" })`
          fatal = linkId === src.connectionId
        } else {
          origin = target.replace(/\/+$/, '')
          hostHeader = uriOrigin!.replace(/^https?:\/\//, '')
        }
      }
    } else if (configurationError === null) {
      const target = parseLambdaUri(text)
      if (target !== null) {
        lambdaFunction = target.qualifier === null ? target.functionName : `${target.functionName}:${target.qualifier}`
        lambdaAccount = target.account
      }
      else if (src.type === 'AWS_PROXY') {
        // The recorded CreateIntegration answer (LocalStack test_error_aws_proxy_not_supported).
        configurationError = `Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations: ${text}`
        fatal = !templated
      } else {
        const parsed = parseAwsServiceUri(text)
        if (parsed === null) {
          configurationError = `AWS ARN for integration must contain path or action: ${text}`
          fatal = !templated
        } else if (src.credentials === 'arn:aws:iam::*:user/*') {
          // The guide's "caller's credentials" value: the client's own IAM identity (SigV4 on the method request) signs the call.
          configurationError = "credentials arn:aws:iam::*:user/* (call with the caller's credentials) needs IAM authorization of the method request, which this gateway does not provide: name a role of the gateway config's roles"
          fatal = true
        } else service = compileService(parsed, src.credentials, settings)
      }
    }
  }
  if (configurationError === null && src.type === 'AWS_PROXY' && src.httpMethod !== null && src.httpMethod !== 'POST') {
    // Lambda is invoked with POST only: API Gateway answers 500 (LocalStack's recorded
    // test_lambda_aws_proxy_integration_non_post_method: {"message": "Internal server error"}).
    configurationError = `a Lambda function is invoked with POST, not ${src.httpMethod} (the integration's httpMethod)`
  }
  if (configurationError === null) {
    const refused = src.type === 'AWS' || src.type === 'AWS_PROXY' ? REFUSED_MAPPED_HEADERS_AWS : REFUSED_MAPPED_HEADERS
    for (const k of Object.keys(src.requestParameters)) {
      const m = /^integration\.request\.header\.(.+)$/.exec(k)
      if (m !== null && refused.has(m[1]!.toLowerCase())) {
        configurationError = `${m[1]} header already present (API Gateway does not map ${m[1]})`
        break
      }
    }
  }
  const tls = src.insecureSkipVerification || src.serverNameToVerify !== null ? Object.freeze({ rejectUnauthorized: !src.insecureSkipVerification, servername: src.serverNameToVerify }) : null
  const { responses, defaultResponse } = compileResponses(src.responses)
  return Object.freeze({
    type: src.type,
    backendMethod: src.httpMethod === null || src.httpMethod === 'ANY' ? null : src.httpMethod,
    uri: uri === null ? null : Object.freeze(uri),
    origin,
    uriOrigin,
    hostHeader,
    tls,
    service,
    lambdaFunction,
    lambdaAccount,
    configurationError,
    fatal,
    timeoutMs: src.timeoutInMillis,
    requestParameters: Object.freeze(compileRequestParameters(src.requestParameters)),
    requestTemplates: Object.freeze({ ...src.requestTemplates }),
    passthroughBehavior: src.passthroughBehavior,
    contentHandling: src.contentHandling,
    responses: Object.freeze(responses),
    defaultResponse,
    protobuf: op.protobuf === null ? null : compileProtobuf(op.protobuf),
  })
}
