// An API whose key source is AUTHORIZER ("Choose an API key source in API Gateway": the key is
// the Lambda authorizer's usageIdentifierKey, not the x-api-key header). Used by the API key
// and throttling tests, which give the authorizer (function `keyAuth`) and the usage plans.
import { writeApi, type TestdirOwner } from './api.js'

/** The Lambda invocation URI API Gateway's authorizers and integrations name function `fn` by. */
const lambdaArn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`

/**
 * Writes authkeys.json: API `authkeys`, key source AUTHORIZER, GET /keyed requiring an API key
 * and the TOKEN authorizer `tokenAuth` (function keyAuth, the Authorization header, no result
 * cache), answered by `integration`.
 */
export function writeAuthorizerKeyApi(t: TestdirOwner, integration: object): string {
  return writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'authkeys', version: '1' },
    'x-amazon-apigateway-api-key-source': 'AUTHORIZER',
    components: {
      securitySchemes: {
        api_key: { type: 'apiKey', name: 'x-api-key', in: 'header' },
        tokenAuth: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'custom', 'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: lambdaArn('keyAuth'), authorizerResultTtlInSeconds: 0 } },
      },
    },
    paths: { '/keyed': { get: { security: [{ tokenAuth: [], api_key: [] }], 'x-amazon-apigateway-integration': integration } } },
  }, 'authkeys.json')
}
