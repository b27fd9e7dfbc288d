// Method request step: request validation (x-amazon-apigateway-request-validator), run after
// authorization and the API key check, as API Gateway runs it.
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { validateRequest, type CompiledValidation } from './validation.js'
import { StepOutcome, type MethodRequestStep } from './step.js'

export class ValidationStep implements MethodRequestStep {
  readonly name = 'validation'
  constructor(readonly validation: CompiledValidation) {}

  run(ctx: RequestContext): StepOutcome {
    const headers: Record<string, string> = {}
    const h = ctx.request.headers
    for (let i = 0; i < h.length; i += 2) headers[h[i]!] = h[i + 1]!
    const path: Record<string, string> = {}
    const p = ctx.match!.params
    for (let i = 0; i < p.length; i += 2) path[p[i]!] = p[i + 1]!
    const failure = validateRequest(this.validation, { contentType: ctx.header('content-type'), body: ctx.body, query: ctx.queryParameters(), headers, pathParams: path })
    if (failure === null) return StepOutcome.Continue
    ctx.validationErrorString = failure.validationErrorString
    sendGatewayResponse(ctx, failure.type, failure.message)
    return StepOutcome.Answered
  }
}
