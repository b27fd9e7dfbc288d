// Method request step: a compressed request body (Content-Encoding gzip or deflate) is
// decompressed when the API enables payload compression (x-amazon-apigateway-minimum-compression-size).
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { DECOMPRESSED_TOO_LARGE, UNSUPPORTED_CONTENT_ENCODING, decompressRequestBody } from '../payload/compression.js'
import { StepOutcome, type MethodRequestStep } from './step.js'

export class DecompressionStep implements MethodRequestStep {
  readonly name = 'decompression'
  run(ctx: RequestContext): StepOutcome {
    if (ctx.body === null) return StepOutcome.Continue
    const coding = ctx.header('content-encoding')
    if (coding === null) return StepOutcome.Continue
    const out = decompressRequestBody(ctx.body, coding)
    if (out === UNSUPPORTED_CONTENT_ENCODING) {
      sendGatewayResponse(ctx, 'UNSUPPORTED_MEDIA_TYPE')
      return StepOutcome.Answered
    }
    if (out === DECOMPRESSED_TOO_LARGE) {
      sendGatewayResponse(ctx, 'REQUEST_TOO_LARGE')
      return StepOutcome.Answered
    }
    if (out !== ctx.body) ctx.bodyDecompressed = true
    ctx.body = out
    return StepOutcome.Continue
  }
}

/** The one instance every compressing API shares: the step holds no state. */
export const DECOMPRESSION_STEP = new DecompressionStep()
