// Integration, run step: hands the request to its integration once the method request has
// let it through (synchronously, or when an authorizer's answer resumes it).
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { prepareIntegrationRequest } from '../integration-request/prepare.js'
import { runMock } from './mock.js'
import { HttpExchange } from './http.js'
import { runLambda, runLambdaProxy } from './lambda.js'
import { runAwsService } from './aws-service/run.js'
import { runProtobuf } from './protobuf/run.js'

export function runIntegration(ctx: RequestContext): void {
  const integ = ctx.method!.integration
  if (integ === null || integ.configurationError !== null) {
    if (integ !== null) console.error(`[${ctx.requestId}] Execution failed due to configuration error: ${integ.configurationError}`)
    sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
    return
  }
  switch (integ.type) {
    case 'MOCK':
      runMock(ctx, integ)
      break
    case 'HTTP_PROXY':
      new HttpExchange(ctx, integ, true).startProxy()
      break
    case 'HTTP': {
      // x-backplane-protobuf: JSON ⇄ protobuf transcoding to a gRPC or x-protobuf backend.
      if (integ.protobuf !== null) {
        runProtobuf(ctx, integ)
        break
      }
      const prepared = prepareIntegrationRequest(ctx, integ)
      if (prepared !== null) new HttpExchange(ctx, integ, false).startPrepared(prepared)
      break
    }
    case 'AWS_PROXY':
      runLambdaProxy(ctx, integ)
      break
    case 'AWS':
      if (integ.service !== null) runAwsService(ctx, integ)
      else runLambda(ctx, integ)
      break
  }
}
