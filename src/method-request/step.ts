// The shape every method request step shares. A method's steps are compiled once, in API
// Gateway's order (method-request/compile.ts), and run per request by run.ts.

export const enum StepOutcome {
  /** Go on to the next step. */
  Continue = 0,
  /** The step has answered the client (a gateway response): stop. */
  Answered = 1,
  /** The step waits on something (an authorizer's call); it calls resumeMethodRequest(ctx) or answers when done. */
  Pending = 2,
}

/** One prebuilt step of a method's method request (STYLE §D.4: an array of prebuilt stages). */
export interface MethodRequestStep {
  /** For `backplane routes` and log lines: 'decompression', 'authorization', 'api-key', 'validation', … */
  readonly name: string
  run(ctx: import('../pipeline/context.js').RequestContext): StepOutcome
}
