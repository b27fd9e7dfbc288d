// API Gateway's gateway response types: default status codes from the developer guide's
// "Gateway response types for API Gateway" table; the x-amzn-ErrorType and default
// message texts are the ones API Gateway sends for each.

export interface GatewayResponseType {
  /** Default status code; null for DEFAULT_4XX / DEFAULT_5XX (the table says Null). */
  readonly status: number | null
  /** The x-amzn-ErrorType header value. */
  readonly errorType: string
  /** $context.error.message when the caller gives none. */
  readonly message: string
}

export const GATEWAY_RESPONSE_TYPES = {
  ACCESS_DENIED: { status: 403, errorType: 'AccessDeniedException', message: 'User is not authorized to access this resource' },
  API_CONFIGURATION_ERROR: { status: 500, errorType: 'InternalServerErrorException', message: 'Internal server error' },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, errorType: 'AuthorizerConfigurationException', message: 'Internal server error' },
  AUTHORIZER_FAILURE: { status: 500, errorType: 'AuthorizerFailureException', message: 'Internal server error' },
  BAD_REQUEST_PARAMETERS: { status: 400, errorType: 'BadRequestException', message: 'Missing required request parameters' },
  BAD_REQUEST_BODY: { status: 400, errorType: 'BadRequestException', message: 'Invalid request body' },
  DEFAULT_4XX: { status: null, errorType: 'BadRequestException', message: 'Bad Request' },
  DEFAULT_5XX: { status: null, errorType: 'InternalServerErrorException', message: 'Internal server error' },
  EXPIRED_TOKEN: { status: 403, errorType: 'ExpiredTokenException', message: 'The security token included in the request is expired' },
  INTEGRATION_FAILURE: { status: 504, errorType: 'InternalServerErrorException', message: 'Internal server error' },
  INTEGRATION_TIMEOUT: { status: 504, errorType: 'InternalServerErrorException', message: 'Endpoint request timed out' },
  INVALID_API_KEY: { status: 403, errorType: 'ForbiddenException', message: 'Forbidden' },
  INVALID_SIGNATURE: { status: 403, errorType: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' },
  MISSING_AUTHENTICATION_TOKEN: { status: 403, errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' },
  QUOTA_EXCEEDED: { status: 429, errorType: 'LimitExceededException', message: 'Limit Exceeded' },
  REQUEST_TOO_LARGE: { status: 413, errorType: 'RequestTooLargeException', message: 'Request Too Long' },
  RESOURCE_NOT_FOUND: { status: 404, errorType: 'NotFoundException', message: 'Not Found' },
  THROTTLED: { status: 429, errorType: 'TooManyRequestsException', message: 'Too Many Requests' },
  UNAUTHORIZED: { status: 401, errorType: 'UnauthorizedException', message: 'Unauthorized' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, errorType: 'UnsupportedMediaTypeException', message: 'Unsupported Media Type' },
  WAF_FILTERED: { status: 403, errorType: 'WAFFilteredException', message: 'Forbidden' },
} as const satisfies Record<string, GatewayResponseType>

export type GatewayResponseTypeName = keyof typeof GATEWAY_RESPONSE_TYPES

/** The default template of every gateway response: `{"message":$context.error.messageString}`. */
export const DEFAULT_GATEWAY_RESPONSE_TEMPLATE = '{"message":$context.error.messageString}'
