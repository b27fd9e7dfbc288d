// The events a Lambda authorizer receives, exactly as API Gateway sends them (developer
// guide, "Input to an API Gateway Lambda authorizer"):
//
//   TOKEN   { type: "TOKEN", authorizationToken, methodArn }
//   REQUEST { type: "REQUEST", methodArn, resource, path, httpMethod, headers, multiValueHeaders,
//             queryStringParameters, multiValueQueryStringParameters, pathParameters,
//             stageVariables, requestContext }
//
// The REQUEST event's maps follow the Lambda proxy event's rules (functions/event.ts: the
// last value in the single-value maps, null for an absent map), so it is built from the same
// code; it has no body and no isBase64Encoded.
import { buildProxyEvent, type ProxyEventInput } from '../../functions/event.js'

const encoder = new TextEncoder()

export interface TokenEvent {
  readonly type: 'TOKEN'
  readonly authorizationToken: string
  readonly methodArn: string
}

export interface RequestEvent {
  readonly type: 'REQUEST'
  readonly methodArn: string
  readonly resource: string
  readonly path: string
  readonly httpMethod: string
  readonly headers: Record<string, string> | null
  readonly multiValueHeaders: Record<string, string[]> | null
  readonly queryStringParameters: Record<string, string> | null
  readonly multiValueQueryStringParameters: Record<string, string[]> | null
  readonly pathParameters: Record<string, string> | null
  readonly stageVariables: Record<string, string> | null
  readonly requestContext: Record<string, unknown>
}

export function buildTokenEvent(token: string, methodArn: string): TokenEvent {
  return { type: 'TOKEN', authorizationToken: token, methodArn }
}

/** The REQUEST event for a request; `input` is what the Lambda proxy event would be built from (its body is ignored). */
export function buildRequestEvent(input: ProxyEventInput, methodArn: string): RequestEvent {
  const e = buildProxyEvent({ ...input, body: null, authorizer: null })
  return {
    type: 'REQUEST',
    methodArn,
    resource: e.resource,
    path: e.path,
    httpMethod: e.httpMethod,
    headers: e.headers,
    multiValueHeaders: e.multiValueHeaders,
    queryStringParameters: e.queryStringParameters,
    multiValueQueryStringParameters: e.multiValueQueryStringParameters,
    pathParameters: e.pathParameters,
    stageVariables: e.stageVariables,
    requestContext: e.requestContext,
  }
}

/** The event as the bytes to invoke the authorizer with. */
export function encodeAuthorizerEvent(event: TokenEvent | RequestEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event))
}
