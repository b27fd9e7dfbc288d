// Canary release, run step: which release serves a request, chosen once when the stage is
// known. Everything after reads ctx.api and ctx.stage, so a request sees one version (the
// stage's or the canary's) from start to end, and a reload never changes it mid-way.
//
// API Gateway splits "at random" (developer guide, "Set up an API Gateway canary release
// deployment"). Here each worker splits by error diffusion instead: every request adds
// percentTraffic to a credit, and a request that brings the credit to 100 % goes to the
// canary and spends it. A worker's canary count is then always within one request of
// percentTraffic of its requests, so N workers are within N requests of the exact share
// (Math.random is off by ±√n: ±42 of 20 000 at 10 %). The credit starts at a random
// phase, so that a worker restarted or reloaded often still sends the canary its share.
import type { RequestContext } from '../pipeline/context.js'
import type { CompiledStage } from '../pipeline/compile.js'

/** percentTraffic is counted in millionths of a percent: integers, so the credit never drifts. */
const UNITS_PER_PERCENT = 1_000_000
const ALL_TRAFFIC = 100 * UNITS_PER_PERCENT

/** One worker's split between a stage and its canary (mutable: the one per-request state of a canary). */
export class CanarySplit {
  /** Units each request adds to the credit. */
  readonly #share: number
  /** Units accumulated since the last canary request, below ALL_TRAFFIC. */
  #credit: number

  constructor(percentTraffic: number, phase: number = Math.random()) {
    this.#share = Math.round(percentTraffic * UNITS_PER_PERCENT)
    this.#credit = Math.min(ALL_TRAFFIC - 1, Math.floor(phase * ALL_TRAFFIC))
  }

  /** true: this request goes to the canary. */
  next(): boolean {
    this.#credit += this.#share
    if (this.#credit < ALL_TRAFFIC) return false
    this.#credit -= ALL_TRAFFIC
    return true
  }
}

/** The stage that serves the request: `stage`, or (its share of the time) its canary's, whose API then replaces ctx.api. */
export function selectRelease(ctx: RequestContext, stage: CompiledStage): CompiledStage {
  const canary = stage.canary
  if (canary === null || !canary.split.next()) return stage
  ctx.api = canary.api
  return canary.stage
}
