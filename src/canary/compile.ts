// Canary release, compile step: a stage's canarySettings (config/canary-settings.ts) become
// the canary's own compiled API and stage, beside the stage they share a name with. The canary
// is a deployment of the same API (API Gateway's CanarySettings.deploymentId): its id, base
// path, name and stage name are the stage's; its resources, methods, integrations, gateway
// responses and models are its own file's; its stage variables are the stage's with
// stageVariableOverrides laid over them. Its metrics go to the stage name "{stage}/Canary",
// as CloudWatch shows canary requests. The run step (the split) is run.ts.
import type { ConfigProblem } from '../errors.js'
import type { AccessSource, ApiSource, GatewaySource, StageSource } from '../config/model.js'
import type { CanarySource } from '../config/canary-settings.js'
import type { IntegrationSettings } from '../integrations/compile.js'
import { compileApi, resourceIdOf, type CompiledApi, type CompiledMethod, type CompiledStage } from '../pipeline/compile.js'
import { compileMethodObservability, compileStageObservability } from '../observability/observe.js'
import { CanarySplit } from './run.js'

/** CloudWatch's Stage dimension of canary requests: "{stage}/Canary" (developer guide, "Set up an API Gateway canary release deployment"). */
export const CANARY_STAGE_SUFFIX = '/Canary'

/** A stage's canary release, compiled (frozen but for the split's counter). */
export interface CompiledCanary {
  /** canarySettings.percentTraffic: percent (0.0 to 100.0) of the stage's requests the canary serves. */
  readonly percentTraffic: number
  /** canarySettings.useStageCache, also on the canary's stage (CompiledStage.useStageCache). */
  readonly useStageCache: boolean
  /** The canary's own API: its router, gateway responses, binary media types; $context.deploymentId its own. */
  readonly api: CompiledApi
  /** The canary's stage: the stage's name, the overridden variables, the canary's methods. */
  readonly stage: CompiledStage
  /** This worker's split of requests between the stage and its canary (run.ts). */
  readonly split: CanarySplit
}

/** What compileApi compiles the stage's API with; the canary is compiled with the same. */
export interface CanaryCompileContext {
  readonly access: AccessSource
  readonly settings: IntegrationSettings
  readonly accountId: string | null
  readonly gateway: GatewaySource | null
  readonly problems: ConfigProblem[]
}

/**
 * The canary of `stage` of `base`. Its problems are recorded once: those the stage reported
 * already (its access log format, say) are not repeated.
 */
export function compileCanary(base: ApiSource, stage: StageSource, canary: CanarySource, cx: CanaryCompileContext): CompiledCanary {
  // No canarySettings on the canary's own stage: a canary has no canary.
  const own: StageSource = { name: stage.name, variables: { ...stage.variables, ...canary.stageVariableOverrides }, settings: stage.settings }
  const source: ApiSource = { ...canary.api, id: base.id, title: base.title, basePath: base.basePath, stages: [own] }
  const found: ConfigProblem[] = []
  // Compiled without metrics (no admin): its series are registered below, under "{stage}/Canary" only.
  const unobserved = cx.gateway === null ? null : { ...cx.gateway, admin: null }
  const compiled = compileApi(source, cx.access, found, cx.settings, cx.accountId, unobserved)
  for (const p of found) {
    if (!cx.problems.some((q) => q.file === p.file && q.pointer === p.pointer && q.message === p.message)) cx.problems.push(p)
  }
  const compiledStage = compiled.stages.get(stage.name)!
  // Metrics (and nothing else) see the stage as "{stage}/Canary"; $context.stage stays the stage's name.
  const metricsStage: StageSource = { ...own, name: stage.name + CANARY_STAGE_SUFFIX }
  const methods = compiledStage.methods.map((m): CompiledMethod => Object.freeze({
    ...m,
    observe: compileMethodObservability(cx.gateway, source, metricsStage, m.settings, m.resourcePath, m.httpMethod, m.source.integration === null ? null : m.source.integration.type),
  }))
  const canaryStage: CompiledStage = Object.freeze({
    ...compiledStage,
    methods: Object.freeze(methods),
    observe: compileStageObservability(cx.gateway, source, metricsStage, []),
    isCanaryRequest: true,
    useStageCache: canary.useStageCache,
  })
  const api: CompiledApi = Object.freeze({
    ...compiled,
    stages: new Map([[stage.name, canaryStage]]),
    // The same definition is the same deployment (the stage cache then shares its entries, as AWS's does).
    deploymentId: canary.file === base.file ? compiled.deploymentId : resourceIdOf(`deployment:${base.id}:canary:${canary.file}`),
  })
  return Object.freeze({ percentTraffic: canary.percentTraffic, useStageCache: canary.useStageCache, api, stage: canaryStage, split: new CanarySplit(canary.percentTraffic) })
}
