// Builds what mapping templates see ($context, $input.params(), $stageVariables) from a
// request. Only called when a template or a mapping needs it, never on the plain proxy path.
import type { RequestContext } from '../pipeline/context.js'
import type { TemplateVariables } from './templates.js'
import { formatRequestTime } from '../util/request-time.js'
import { authorizerTemplateObject } from '../method-request/authorization/authorizer-outcome.js'
import { DEFAULT_ACCOUNT_ID } from '../config/model.js'
import { domainPrefix } from '../util/domain-prefix.js'

export interface ErrorVariables {
  readonly message: string
  readonly responseType: string
  readonly validationErrorString: string | null
}

/** The variables of a request; without an error they are built once per request. */
export function buildTemplateVariables(ctx: RequestContext, error: ErrorVariables | null): TemplateVariables {
  if (error === null) {
    if (ctx.templateVariables === null) ctx.templateVariables = makeTemplateVariables(ctx, null)
    return ctx.templateVariables
  }
  return makeTemplateVariables(ctx, error)
}

function makeTemplateVariables(ctx: RequestContext, error: ErrorVariables | null): TemplateVariables {
  const req = ctx.request
  const header: Record<string, string> = {}
  for (let i = 0; i < req.headers.length; i += 2) header[req.headers[i]!] = req.headers[i + 1]!
  const querystring: Record<string, string> = {}
  for (const [k, v] of ctx.queryParameters()) querystring[k] = v[v.length - 1]!
  const path: Record<string, string> = {}
  const params = ctx.match?.params
  if (params !== undefined) for (let i = 0; i < params.length; i += 2) path[params[i]!] = params[i + 1]!
  const stageName = ctx.stage?.name ?? ''
  const host = header.host ?? ''
  const context: Record<string, unknown> = {
    accountId: ctx.api?.accountId ?? DEFAULT_ACCOUNT_ID,
    apiId: ctx.api?.id ?? '',
    deploymentId: ctx.api?.deploymentId ?? '',
    domainName: host,
    domainPrefix: domainPrefix(host),
    extendedRequestId: ctx.extendedRequestId,
    httpMethod: req.method,
    // true or false on a stage with canarySettings, absent otherwise ("only available if you enabled a canary").
    ...(ctx.stage === null || ctx.stage.isCanaryRequest === null ? {} : { isCanaryRequest: ctx.stage.isCanaryRequest }),
    identity: {
      sourceIp: req.remoteAddress,
      userAgent: header['user-agent'] ?? null,
      accountId: null,
      accessKey: null,
      // Set for methods that require a key, once the key step let the request in; null otherwise.
      apiKey: ctx.apiKey === null ? null : ctx.apiKey.value,
      apiKeyId: ctx.apiKey === null ? null : ctx.apiKey.id,
      caller: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      user: null,
      userArn: null,
      // The authenticated caller (AWS_IAM) lays its fields over the nulls.
      ...ctx.identity,
    },
    path: contextPath(req.url),
    protocol: 'HTTP/1.1',
    requestId: ctx.requestId,
    requestTime: formatRequestTime(req.receivedAt),
    requestTimeEpoch: req.receivedAt,
    resourceId: ctx.method?.resourceId ?? '',
    resourcePath: ctx.method?.resourcePath ?? '',
    stage: stageName,
    authorizer: ctx.authorizer === null ? {} : authorizerTemplateObject(ctx.authorizer),
    error: error === null ? {} : {
      message: error.message,
      messageString: JSON.stringify(error.message),
      responseType: error.responseType,
      validationErrorString: error.validationErrorString ?? ctx.validationErrorString ?? '',
    },
  }
  return { context, stageVariables: ctx.stage?.variables ?? {}, params: { path, querystring, header }, body: ctx.body }
}

/**
 * $context.path: the request path with the stage, as received, except that empty segments before
 * the stage are dropped ('//dev/a' → '/dev/a', '/dev//a' stays). AWS-validated: LocalStack
 * test_apigateway_lambda.py::test_lambda_aws_proxy_integration, requestContext.path.
 */
function contextPath(url: string): string {
  let i = 0
  while (i + 1 < url.length && url.charCodeAt(i + 1) === 47 /* / */) i++
  return i === 0 ? url : url.slice(i)
}
