// The normalized description of a gateway: plain JSON data, made once at load from the
// API files and the gateway config. It crosses to the workers as workerData, where each
// worker compiles it (pipeline/compile.ts) into frozen per-stage objects.

import type { QuotaSettingsSource } from './quota-settings.js'
import type { StageSettings } from './stage-settings.js'
import type { StateSource } from './state.js'
import type { CanarySource } from './canary-settings.js'
import type { ThrottleLimits } from './throttling.js'

export type IntegrationType = 'MOCK' | 'HTTP' | 'HTTP_PROXY' | 'AWS' | 'AWS_PROXY'
export type PassthroughBehavior = 'WHEN_NO_MATCH' | 'WHEN_NO_TEMPLATES' | 'NEVER'
export type ContentHandling = 'CONVERT_TO_TEXT' | 'CONVERT_TO_BINARY'

/** API Gateway's documented default and maximum for timeoutInMillis. */
export const DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000
export const MIN_INTEGRATION_TIMEOUT_MS = 50
/** Past 29 s API Gateway needs a quota increase (Regional and private APIs only), up to 300 s. */
export const MAX_DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000
export const MAX_INTEGRATION_TIMEOUT_MS = 300_000
/** The stage name used when API files are served without a gateway config. */
export const DEFAULT_STAGE_NAME = 'test'
/** API Gateway's payload limit for REST APIs. */
export const MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024

/** One entry of x-amazon-apigateway-integration.responses. */
export interface IntegrationResponseSource {
  /** The key in `responses`: a Java regex, or 'default'. */
  readonly selectionPattern: string
  /** Method response status code to answer with, as a string ("200"). */
  readonly statusCode: string
  /** method.response.header.X → integration.response.header.Y | body | 'static'. */
  readonly responseParameters: Readonly<Record<string, string>>
  /** Content-Type → template text. */
  readonly responseTemplates: Readonly<Record<string, string>>
  readonly contentHandling: ContentHandling | null
}

/** x-amazon-apigateway-integration, normalized. */
export interface IntegrationSource {
  readonly type: IntegrationType
  /** Backend HTTP method (httpMethod), upper-case; null for MOCK. */
  readonly httpMethod: string | null
  /** Backend URI, may hold ${stageVariables.x} and {param} placeholders; null for MOCK. */
  readonly uri: string | null
  /** integration.request.* → method.request.* | context.* | stageVariables.* | 'static'. */
  readonly requestParameters: Readonly<Record<string, string>>
  /** Content-Type → template text. */
  readonly requestTemplates: Readonly<Record<string, string>>
  readonly passthroughBehavior: PassthroughBehavior
  readonly contentHandling: ContentHandling | null
  readonly timeoutInMillis: number
  /** method.request.{path|querystring|header}.* (or integration.request.*) whose values key the response cache. */
  readonly cacheKeyParameters: readonly string[]
  /** Entries of methods sharing a namespace are shared; null means the resource's own (API Gateway uses the resource id). */
  readonly cacheNamespace: string | null
  /** AWS integrations: the IAM role ARN API Gateway assumes to call the service, or null. */
  readonly credentials: string | null
  /** 'INTERNET' or 'VPC_LINK' (a private integration through connectionId). */
  readonly connectionType: 'INTERNET' | 'VPC_LINK'
  /** The VPC link id of a private integration (may hold ${stageVariables.x}), or null. */
  readonly connectionId: string | null
  /** tlsConfig.insecureSkipVerification: HTTPS backends' certificates are not verified. */
  readonly insecureSkipVerification: boolean
  /** tlsConfig.serverNameToVerify: the name the backend certificate is checked against (SNI), or null. */
  readonly serverNameToVerify: string | null
  readonly responses: readonly IntegrationResponseSource[]
  /** JSON pointer of the extension in the API file, for messages. */
  readonly pointer: string
  /** Why one of its mapping templates does not compile (set by checkTemplates when not strict): the method answers 500. */
  templateError: string | null
}

/** x-backplane-protobuf: JSON ⇄ protobuf transcoding for an http integration. */
export interface ProtobufSource {
  /** The top .proto file, absolute. */
  readonly protoFile: string
  /** protobufjs JSON of every definition the file and its imports hold (parsed once at load). */
  readonly descriptor: Readonly<Record<string, unknown>>
  /** Fully qualified message the (mapped) JSON request becomes, e.g. pets.v1.GetPetRequest. */
  readonly request: string
  /** Fully qualified message the backend answers with. */
  readonly response: string
  /** true: gRPC unary over HTTP/2 cleartext; false: application/x-protobuf over HTTP/1.1. */
  readonly grpc: boolean
  /** true: JSON fields the request message does not have are dropped (grpc-gateway's DiscardUnknown); false: refused with 400. */
  readonly discardUnknown: boolean
  /** JSON pointer of the extension in the API file, for messages. */
  readonly pointer: string
}

/** A method request parameter declared on the operation. */
export interface ParameterSource {
  readonly in: 'path' | 'query' | 'header'
  readonly name: string
  readonly required: boolean
}

/** One scheme named by a security requirement, with its scopes (authorizationScopes for Cognito). */
export interface SecurityRequirementSource {
  /** A key of securitySchemes / securityDefinitions. */
  readonly name: string
  readonly scopes: readonly string[]
  /** Index of the requirement object in the list: requirements with different indexes are alternatives (OR). */
  readonly alternative: number
}

/** One operation: a resource path and an HTTP method (or ANY). */
export interface OperationSource {
  /** Resource path as in the API file, e.g. /pets/{petId} or /{proxy+}. */
  readonly path: string
  /** Upper-case method, or 'ANY' for x-amazon-apigateway-any-method. */
  readonly method: string
  readonly operationId: string | null
  readonly parameters: readonly ParameterSource[]
  /** Content-Type → model name, from requestBody (OAS3) or body parameter (Swagger 2). */
  readonly requestModels: Readonly<Record<string, string>>
  /** Name of the x-amazon-apigateway-request-validator in force, or null. */
  readonly requestValidator: string | null
  /** The security requirements in force (the operation's, else the document's root `security`). */
  readonly security: readonly SecurityRequirementSource[]
  /** JSON pointer of the `security` list in force ('' when none). */
  readonly securityPointer: string
  /** x-amazon-apigateway-auth's type: 'AWS_IAM' (IAM, Signature Version 4); null when absent or NONE. */
  readonly authType: 'AWS_IAM' | null
  /** The method requires an API key: a security requirement names the `api_key` scheme (isApiKeyScheme). */
  readonly apiKeyRequired: boolean
  /** Declared method response status codes → header names. */
  readonly methodResponses: Readonly<Record<string, readonly string[]>>
  readonly integration: IntegrationSource | null
  /** x-backplane-protobuf beside the integration, or null. */
  readonly protobuf: ProtobufSource | null
  readonly pointer: string
}

export interface GatewayResponseSource {
  readonly statusCode: number | null
  readonly responseParameters: Readonly<Record<string, string>>
  readonly responseTemplates: Readonly<Record<string, string>>
}

export interface RequestValidatorSource {
  readonly validateRequestBody: boolean
  readonly validateRequestParameters: boolean
}

export interface StageSource {
  readonly name: string
  readonly variables: Readonly<Record<string, string>>
  /** accessLogSettings, methodSettings, tracingEnabled (config/stage-settings.ts). */
  readonly settings: StageSettings
  /** canarySettings (config/canary-settings.ts): the canary release on this stage; absent or null when none. */
  readonly canary?: CanarySource | null
}

/** One API of the gateway, normalized from its OpenAPI 3 / Swagger 2 file. */
export interface ApiSource {
  /** API id: URL host {apiId}.execute-api.* selects it; $context.apiId. */
  readonly id: string
  readonly title: string
  /** The API file this came from. */
  readonly file: string
  /** Base path mapping ('' when none), without leading or trailing slash. */
  readonly basePath: string
  readonly apiKeySource: 'HEADER' | 'AUTHORIZER'
  readonly binaryMediaTypes: readonly string[]
  readonly minimumCompressionSize: number | null
  readonly gatewayResponses: Readonly<Record<string, GatewayResponseSource>>
  readonly requestValidators: Readonly<Record<string, RequestValidatorSource>>
  /** JSON schemas (draft 4) by model name. */
  readonly models: Readonly<Record<string, unknown>>
  /** JSON pointer of the models map in the API file: /definitions or /components/schemas. */
  readonly modelsPointer: string
  /** securitySchemes / securityDefinitions, raw, by name. */
  readonly securitySchemes: Readonly<Record<string, unknown>>
  /** JSON pointer of that map: /securityDefinitions or /components/securitySchemes. */
  readonly securitySchemesPointer: string
  /** x-amazon-apigateway-policy (the resource policy), raw, or null. */
  readonly resourcePolicy: unknown
  readonly operations: readonly OperationSource[]
  readonly stages: readonly StageSource[]
}

/** An IAM policy document as written (execute-api:Invoke statements), compiled by method-request/authorization/policy.ts. */
export type PolicyDocumentSource = Readonly<Record<string, unknown>>

/** An IAM principal that may sign requests to AWS_IAM methods (gateway config `credentials`). */
export interface CredentialSource {
  readonly accessKeyId: string
  /** Secret: never logged. */
  readonly secretAccessKey: string
  /** For temporary credentials: X-Amz-Security-Token must match; null for long-term keys. */
  readonly sessionToken: string | null
  /** The principal's ARN: $context.identity.userArn / caller. */
  readonly arn: string
  /** The principal's identity policy (execute-api:Invoke), or null (nothing allowed). */
  readonly policy: PolicyDocumentSource | null
  /** JSON pointer of this credential in AccessSource.file, for messages (its policy: pointer + '/policy'). */
  readonly pointer: string
}

/** A Cognito user pool named by an authorizer's providerARNs (gateway config `userPools`). */
export interface UserPoolSource {
  /** The pool ARN, as providerARNs name it. */
  readonly arn: string
  /** The token issuer (`iss`), https://cognito-idp.{region}.amazonaws.com/{poolId}. */
  readonly issuer: string
  /** The pool's JWKS: an absolute file path or an http(s) URL. */
  readonly jwks: string
}

/** An API key (gateway config `apiKeys`): API Gateway's ApiKey resource. */
export interface ApiKeySource {
  /** $context.identity.apiKeyId. */
  readonly id: string
  readonly name: string
  /** Secret: never logged. $context.identity.apiKey. */
  readonly value: string
  readonly enabled: boolean
}

/** One API stage of a usage plan, with its per-method throttle (issue 9). */
export interface UsagePlanApiStageSource {
  readonly apiId: string
  readonly stage: string
  /** Per client per method: "/resource/METHOD" → limits, each naming a method of the API; null when absent. */
  readonly throttle: Readonly<Record<string, ThrottleLimits>> | null
}

/** A usage plan (gateway config `usagePlans`): which keys may call which API stages. */
export interface UsagePlanSource {
  readonly id: string
  readonly apiStages: readonly UsagePlanApiStageSource[]
  /** API key ids in this plan. */
  readonly apiKeys: readonly string[]
  /** Per client: each key of the plan gets a bucket with these limits; null when absent. */
  readonly throttle: ThrottleLimits | null
  /** Requests per DAY, WEEK or MONTH per key (QuotaSettings, validated); null when absent. */
  readonly quota: QuotaSettingsSource | null
}

/** The account-level facts access control needs (the gateway config's top level). */
export interface AccessSource {
  /** The gateway config file the section was read from, for messages ('' without a config). */
  readonly file: string
  /** Used in ARNs: methodArn, policies, $context. */
  readonly region: string
  readonly accountId: string
  readonly credentials: readonly CredentialSource[]
  /** Pool ARN → pool. */
  readonly userPools: Readonly<Record<string, UserPoolSource>>
  readonly apiKeys: readonly ApiKeySource[]
  readonly usagePlans: readonly UsagePlanSource[]
}

/** API Gateway's defaults for a gateway without an account in its config. */
export const DEFAULT_REGION = 'us-east-1'
export const DEFAULT_ACCOUNT_ID = '123456789012'
/** A gateway without account-level facts in its config: no principals, pools, keys or plans. */
export const DEFAULT_ACCESS: AccessSource = Object.freeze({ file: '', region: DEFAULT_REGION, accountId: DEFAULT_ACCOUNT_ID, credentials: [], userPools: {}, apiKeys: [], usagePlans: [] })

/** The whole gateway: what `backplane serve` runs. */
export interface GatewaySource {
  readonly host: string
  readonly port: number
  /** Worker threads on the hot path. */
  readonly workers: number
  readonly apis: readonly ApiSource[]
  /** Region, account, IAM principals, user pools, API keys and usage plans. */
  readonly access: AccessSource
  /** $context.accountId and the Lambda event's requestContext.accountId; absent: a Lambda URI's account, else DEFAULT_ACCOUNT_ID. */
  readonly accountId?: string
  /** The region the gateway stands for: AWS service endpoints and signatures (default DEFAULT_REGION). */
  readonly region?: string
  /** VPC link id → the target its private integrations reach ('http://127.0.0.1:8080'). */
  readonly vpcLinks?: Readonly<Record<string, string>>
  /** AWS service integrations: endpoint overrides per service and credentials per role ARN. */
  readonly aws?: AwsSettings
  /** The admin listener (/metrics, /health, /ready), or null when off. */
  readonly admin: AdminSource | null
  /** OpenTelemetry export. */
  readonly tracing: TracingSource
  /** Where quotas, usage and (with Redis) shared limits and caches live. */
  readonly state: StateSource
  /** The account-level throttle (top-level `throttling`); absent: DEFAULT_ACCOUNT_THROTTLING. */
  readonly throttling?: ThrottleLimits
  /** Shared memory of each stage's response cache, by "apiId/stage": set by the main thread (response-cache/memory.ts) on the copy the workers get; absent at load. */
  readonly responseCacheMemory?: Readonly<Record<string, SharedArrayBuffer>>
}

/** `admin:` of the gateway config: where /metrics, /health and /ready are served. */
export interface AdminSource {
  readonly host: string
  readonly port: number
}

/** `tracing:` of the gateway config. */
export interface TracingSource {
  /** OTLP/HTTP collector base URL (spans go to {otlp}/v1/traces), or null for no export. */
  readonly otlp: string | null
}

/** Credentials to sign AWS service calls with (never logged). */
export interface AwsCredentialsSource {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** Temporary credentials only. */
  readonly sessionToken?: string
}

/** The gateway config's AWS service settings. */
export interface AwsSettings {
  /** Service name ('dynamodb', 'sqs') → endpoint origin ('http://127.0.0.1:8000'). */
  readonly endpoints: Readonly<Record<string, string>>
  /** Integration `credentials` role ARN → the credentials calls with that role are signed with. */
  readonly roles: Readonly<Record<string, AwsCredentialsSource>>
  /** The standard AWS environment credentials (AWS_ACCESS_KEY_ID…), read at load; null when unset. */
  readonly defaultCredentials: AwsCredentialsSource | null
}

