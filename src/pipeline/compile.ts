// ApiSource → frozen per-stage objects the hot path only reads (STYLE §D.3, §D.4): the chain
// of API Gateway's request stages, each compiled by its own folder's compile step.
// Runs once per worker at start-up (and in the main thread to report problems), never per request.
import { Codes, ConfigError, pointerJoin, type ConfigProblem } from '../errors.js'
import type { AccessSource, ApiSource, GatewaySource, OperationSource } from '../config/model.js'
import { compileMethodRequest } from '../method-request/compile.js'
import type { MethodRequestStep } from '../method-request/step.js'
import { compileResourcePolicy } from '../method-request/authorization/resource-policy.js'
import { RouteNode, freezeTree, insertRoute } from '../router/tree.js'
import type { GatewayResponseTypeName } from '../method-response/gateway-response-types.js'
import { compileGatewayResponses, type CompiledGatewayResponse } from '../method-response/compile.js'
import { compileRequestValidation, modelProblems, type CompiledValidation } from '../method-request/validation.js'
import { compileBinaryMediaTypes, type BinaryMediaTypeMatcher } from '../payload/binary.js'
import { DEFAULT_INTEGRATION_SETTINGS, compileIntegration, type CompiledIntegration, type IntegrationSettings } from '../integrations/compile.js'
import { DEFAULT_ACCOUNT_ID } from '../config/model.js'
import { resolveMethodSetting, stageSettingsOf, type EffectiveMethodSetting } from '../config/stage-settings.js'
import { compileResponseCache, type CompiledResponseCache } from '../response-cache/compile.js'
import { compileMethodObservability, compileStageObservability, type CompiledMethodObservability, type CompiledStageObservability } from '../observability/observe.js'
import { compileCanary, type CompiledCanary } from '../canary/compile.js'
import type { WarmTokens } from '../method-request/authorization/authorizer-cache.js'

export interface CompiledMethod {
  readonly routeIndex: number
  /** The method as defined ('GET', or 'ANY'). */
  readonly httpMethod: string
  readonly resourcePath: string
  /** $context.resourceId: a stable 6-character id derived from the resource path. */
  readonly resourceId: string
  readonly operationId: string | null
  readonly apiKeyRequired: boolean
  /** Method request validation in force, or null. */
  readonly validation: CompiledValidation | null
  /** The method request's prebuilt steps in API Gateway's order (method-request/compile.ts). */
  readonly methodRequest: readonly MethodRequestStep[]
  readonly integration: CompiledIntegration | null
  /** The stage cache for this method (response-cache/compile.ts), or null when its responses are not cached. */
  readonly responseCache: CompiledResponseCache | null
  /** The stage's methodSettings in force for this method ("*\/*" merged with its own entry). */
  readonly settings: EffectiveMethodSetting
  /** Execution log level, detailed-metrics series, trace header rule. */
  readonly observe: CompiledMethodObservability
  readonly source: OperationSource
}

export interface CompiledStage {
  readonly name: string
  readonly variables: Readonly<Record<string, string>>
  /** Route index → method. */
  readonly methods: readonly CompiledMethod[]
  /** Access log, metrics, tracing of the stage. */
  readonly observe: CompiledStageObservability
  /** canarySettings: the canary release that serves percentTraffic of this stage's requests (canary/), or null. */
  readonly canary: CompiledCanary | null
  /** $context.isCanaryRequest: true on a canary's own stage, false on a stage that has a canary, null (absent) otherwise. */
  readonly isCanaryRequest: boolean | null
  /** Requests served here may use the stage cache: true, but on a canary's stage where canarySettings.useStageCache says. */
  readonly useStageCache: boolean
}

export interface CompiledApi {
  readonly id: string
  readonly title: string
  readonly basePath: string
  readonly router: RouteNode
  readonly stages: ReadonlyMap<string, CompiledStage>
  readonly gatewayResponses: Readonly<Record<GatewayResponseTypeName, CompiledGatewayResponse>>
  readonly binaryMediaTypes: readonly string[]
  /** x-amazon-apigateway-binary-media-types, compiled. */
  readonly binary: BinaryMediaTypeMatcher
  readonly minimumCompressionSize: number | null
  /** $context.accountId: the gateway config's accountId, else DEFAULT_ACCOUNT_ID. */
  readonly accountId: string
  /** The config names the account: it wins over the account of a Lambda integration URI. */
  readonly accountIdConfigured: boolean
  /** $context.deploymentId: stable per API (one deployment per configuration). */
  readonly deploymentId: string
  readonly source: ApiSource
}

export interface CompiledGateway {
  readonly apis: readonly CompiledApi[]
  /** API id → API, for Host `{apiId}.execute-api.*`. */
  readonly byId: ReadonlyMap<string, CompiledApi>
}

/** A stable resource id like API Gateway's 6-character ids, derived from the path. */
export function resourceIdOf(path: string): string {
  let h = 2166136261
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619)
  return (h >>> 0).toString(36).padStart(6, '0').slice(-6)
}

/** Compiles one API; route problems (duplicates, sibling variables) are recorded. */
export function compileApi(api: ApiSource, access: AccessSource, problems: ConfigProblem[], settings: IntegrationSettings = DEFAULT_INTEGRATION_SETTINGS, accountId: string | null = null, gateway: GatewaySource | null = null): CompiledApi {
  const router = new RouteNode('/')
  const ops: OperationSource[] = []
  for (const op of api.operations) {
    const problem = insertRoute(router, op.path, op.method, ops.length)
    if (problem === 'duplicate-method') {
      problems.push({ code: Codes.DUPLICATE_ROUTE, file: api.file, pointer: op.pointer, message: `method ${op.method} is defined twice for resource ${op.path}`, severity: 'error' })
      continue
    }
    if (problem === 'sibling-variable') {
      problems.push({ code: Codes.PATH, file: api.file, pointer: pointerJoin('/paths', op.path), message: `a sibling of resource ${op.path} already has a variable path part: only one is allowed per level`, severity: 'error' })
      continue
    }
    ops.push(op)
  }
  freezeTree(router)
  // Models are checked once per API; a method's validation reports only its own problems.
  const seen = new Set<string>()
  const report = (list: readonly ConfigProblem[]) => {
    for (const p of list) {
      const key = `${p.pointer}\n${p.message}`
      if (!seen.has(key)) problems.push(p)
      seen.add(key)
    }
  }
  report(modelProblems(api, { modelsPointer: api.modelsPointer }))
  const validations = ops.map((op) => {
    try {
      return compileRequestValidation(api, op, { modelsPointer: api.modelsPointer })
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      report(err.problems)
      return null
    }
  })
  const stages = new Map<string, CompiledStage>()
  const resourcePolicy = compileResourcePolicy(api, access, problems)
  for (const [stageIndex, stage] of api.stages.entries()) {
    // A method's problems are the same in every stage: report them from the first only.
    const stageProblems = stageIndex === 0 ? problems : []
    const vars = Object.freeze({ ...stage.variables })
    const warmTokens = new Map<string, WarmTokens>()
    const methods = ops.map((op, routeIndex): CompiledMethod => {
      const methodSettings = resolveMethodSetting(stageSettingsOf(stage).methodSettings, op.path, op.method)
      return Object.freeze({
        routeIndex,
        httpMethod: op.method,
        resourcePath: op.path,
        resourceId: resourceIdOf(op.path),
        operationId: op.operationId,
        apiKeyRequired: op.apiKeyRequired,
        validation: validations[routeIndex]!,
        methodRequest: compileMethodRequest(op, validations[routeIndex]!, { api, stage: stage.name, access, resourcePolicy, problems: stageProblems, gateway, warmTokens }),
        integration: compileIntegration(op, vars, settings),
        responseCache: compileResponseCache(api, stage, op, methodSettings, access, gateway, problems, stageIndex === 0),
        settings: methodSettings,
        observe: compileMethodObservability(gateway, api, stage, methodSettings, op.path, op.method, op.integration === null ? null : op.integration.type),
        source: op,
      })
    })
    for (const m of methods) {
      const i = m.integration
      if (i !== null && i.configurationError !== null && m.source.integration!.templateError === null) {
        if (i.fatal) problems.push({ code: Codes.INTEGRATION, file: api.file, pointer: pointerJoin(m.source.integration!.pointer, 'uri'), message: i.configurationError, severity: 'error' })
        else problems.push({ code: i.configurationError.startsWith('Invalid stage variable') ? Codes.STAGE_VARIABLE : Codes.INTEGRATION, file: api.file, pointer: pointerJoin(m.source.integration!.pointer, 'uri'), message: `stage ${stage.name}: ${i.configurationError}; requests to this method get 500 Internal server error`, severity: 'warning' })
      }
    }
    const canary = stage.canary == null ? null : compileCanary(api, stage, stage.canary, { access, settings, accountId, gateway, problems })
    stages.set(stage.name, Object.freeze({ name: stage.name, variables: vars, methods: Object.freeze(methods), observe: compileStageObservability(gateway, api, stage, problems), canary, isCanaryRequest: canary === null ? null : false, useStageCache: true }))
  }
  return Object.freeze({
    id: api.id,
    title: api.title,
    basePath: api.basePath,
    router,
    stages,
    gatewayResponses: compileGatewayResponses(api.gatewayResponses),
    binaryMediaTypes: api.binaryMediaTypes,
    binary: compileBinaryMediaTypes(api.binaryMediaTypes),
    minimumCompressionSize: api.minimumCompressionSize,
    accountId: accountId ?? DEFAULT_ACCOUNT_ID,
    accountIdConfigured: accountId !== null,
    deploymentId: resourceIdOf('deployment:' + api.id),
    source: api,
  })
}

export function compileGateway(gateway: GatewaySource, problems: ConfigProblem[]): CompiledGateway {
  const settings: IntegrationSettings = {
    region: gateway.region ?? DEFAULT_INTEGRATION_SETTINGS.region,
    vpcLinks: gateway.vpcLinks ?? DEFAULT_INTEGRATION_SETTINGS.vpcLinks,
    aws: gateway.aws ?? DEFAULT_INTEGRATION_SETTINGS.aws,
  }
  const apis = gateway.apis.map((a) => compileApi(a, gateway.access, problems, settings, gateway.accountId ?? null, gateway))
  return Object.freeze({ apis: Object.freeze(apis), byId: new Map(apis.map((a) => [a.id, a])) })
}
