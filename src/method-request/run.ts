// Method request, run step: the method's prebuilt steps in API Gateway's order
// (decompression, authorization, API key, request validation; throttling and the cache
// lookup join as their issues land). A step that waits (an authorizer's call) returns
// Pending and resumes the chain itself, so the integration runs when the last step passes.
import type { RequestContext } from '../pipeline/context.js'
import { runIntegration } from '../integrations/run.js'
import { StepOutcome } from './step.js'
import { runResponseCache } from '../response-cache/run.js'

/** Runs the method request from its first step, then the integration. */
export function runMethodRequest(ctx: RequestContext): void {
  ctx.methodRequestStep = 0
  resumeMethodRequest(ctx)
}

/** Runs the remaining steps; called again by a step that was Pending, once it passes. */
export function resumeMethodRequest(ctx: RequestContext): void {
  if (ctx.done) return
  const steps = ctx.method!.methodRequest
  while (ctx.methodRequestStep < steps.length) {
    const step = steps[ctx.methodRequestStep++]!
    if (step.run(ctx) !== StepOutcome.Continue) return
  }
  // The stage cache sits between the method request and the integration request.
  const cache = ctx.method!.responseCache
  if (cache !== null) runResponseCache(ctx, cache)
  else runIntegration(ctx)
}
