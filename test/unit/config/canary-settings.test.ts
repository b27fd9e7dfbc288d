// A stage's canarySettings at load (src/config/canary-settings.ts) and compile
// (src/canary/compile.ts): named as API Gateway's CanarySettings (percentTraffic 0.0 to
// 100.0, stageVariableOverrides, useStageCache; `file` in deploymentId's place), every
// problem as file: pointer: reason, the canary file's own problems naming that file.
import t from 'tap'
import type { Test } from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { loadGateway } from '../../../src/config/load.js'
import { compileGateway } from '../../../src/pipeline/compile.js'
import { ConfigError, formatProblem, type ConfigProblem } from '../../../src/errors.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }
const API = { openapi: '3.0.1', info: { title: 'base', version: '1' }, paths: { '/v': { get: { 'x-amazon-apigateway-integration': mock } } } }

function load(dir: string, stage: unknown, files: Record<string, unknown> = {}) {
  writeFileSync(join(dir, 'api.json'), JSON.stringify(API))
  for (const [name, doc] of Object.entries(files)) writeFileSync(join(dir, name), typeof doc === 'string' ? doc : JSON.stringify(doc))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({ apis: [{ id: 'pets', file: 'api.json', basePath: 'base', stages: { prod: stage } }] }))
  return loadGateway({ apiFiles: [], configFile: join(dir, 'backplane.json') })
}

function refused(t: Test, fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.filter((p) => p.severity === 'error').map(formatProblem)
    throw err
  }
  t.fail('should refuse')
  return []
}

t.test('canarySettings loads the canary\'s definition with the stage\'s id and base path', async (t) => {
  const dir = t.testdir()
  const v2 = { ...API, info: { title: 'v2', version: '2' }, paths: { ...API.paths, '/new': { get: { 'x-amazon-apigateway-integration': mock } } } }
  const r = load(dir, { variables: { a: '1', b: '2' }, canarySettings: { percentTraffic: 12.5, file: 'v2.json', stageVariableOverrides: { b: 'two', port: 8080 }, useStageCache: true } }, { 'v2.json': v2 })
  t.strictSame(r.warnings, [])
  const stage = r.gateway.apis[0]!.stages[0]!
  const c = stage.canary!
  t.equal(c.percentTraffic, 12.5)
  t.equal(c.file, join(dir, 'v2.json'))
  t.strictSame(c.stageVariableOverrides, { b: 'two', port: '8080' }, 'scalars taken as text, like stage variables')
  t.equal(c.useStageCache, true)
  t.strictSame(c.api.operations.map((o) => `${o.method} ${o.path}`), ['GET /v', 'GET /new'])

  const gw = compileGateway(r.gateway, [])
  const compiled = gw.apis[0]!.stages.get('prod')!
  t.equal(compiled.isCanaryRequest, false)
  t.equal(compiled.useStageCache, true)
  const canary = compiled.canary!
  t.equal(canary.api.id, 'pets')
  t.equal(canary.api.basePath, 'base')
  t.equal(canary.api.title, 'base', 'one API, one name: metrics name it as the stage does')
  t.not(canary.api.deploymentId, gw.apis[0]!.deploymentId)
  t.equal(canary.stage.name, 'prod', '$context.stage is the stage\'s name')
  t.strictSame(canary.stage.variables, { a: '1', b: 'two', port: '8080' })
  t.equal(canary.stage.isCanaryRequest, true)
  t.equal(canary.stage.useStageCache, true, 'useStageCache carried for the stage cache')
  t.equal(canary.stage.canary, null, 'a canary has no canary')
  t.equal(canary.stage.methods.length, 2)
  t.ok(Object.isFrozen(canary) && Object.isFrozen(canary.stage) && Object.isFrozen(canary.api))
})

t.test('defaults: percentTraffic 0, no overrides, useStageCache false (API Gateway\'s CanarySettings)', async (t) => {
  const dir = t.testdir()
  const r = load(dir, { canarySettings: { file: 'api.json' } })
  const c = r.gateway.apis[0]!.stages[0]!.canary!
  t.equal(c.percentTraffic, 0)
  t.strictSame(c.stageVariableOverrides, {})
  t.equal(c.useStageCache, false)
  const compiled = compileGateway(r.gateway, []).apis[0]!.stages.get('prod')!
  t.equal(compiled.canary!.stage.useStageCache, false)
  t.equal(compiled.canary!.api.deploymentId, compileGateway(r.gateway, []).apis[0]!.deploymentId, 'the stage\'s own definition: the same deployment')
})

t.test('a stage without canarySettings has none; isCanaryRequest absent', async (t) => {
  const compiled = compileGateway(load(t.testdir(), {}).gateway, []).apis[0]!.stages.get('prod')!
  t.equal(compiled.canary, null)
  t.equal(compiled.isCanaryRequest, null)
})

t.test('bad settings are refused with file, pointer and reason', async (t) => {
  const dir = t.testdir()
  const cfg = join(dir, 'backplane.json')
  const at = (ptr: string, reason: string) => `${cfg}: /apis/0/stages/prod/canarySettings${ptr}: ${reason}`
  t.strictSame(refused(t, () => load(dir, { canarySettings: { percentTraffic: 100.5, file: 'api.json' } })), [at('/percentTraffic', 'must be a number from 0.0 to 100.0 (the percent of requests the canary serves)')])
  t.strictSame(refused(t, () => load(dir, { canarySettings: { percentTraffic: -1, file: 'api.json' } })), [at('/percentTraffic', 'must be a number from 0.0 to 100.0 (the percent of requests the canary serves)')])
  t.strictSame(refused(t, () => load(dir, { canarySettings: { percentTraffic: '10', file: 'api.json' } })), [at('/percentTraffic', 'must be a number from 0.0 to 100.0 (the percent of requests the canary serves)')])
  t.strictSame(refused(t, () => load(dir, { canarySettings: { percentTraffic: 10 } })), [at('/file', 'must name the canary\'s API definition file (OpenAPI 3 or Swagger 2), relative to this config')])
  t.strictSame(refused(t, () => load(dir, { canarySettings: { file: 'api.json', useStageCache: 'yes' } })), [at('/useStageCache', 'must be true or false')])
  t.strictSame(refused(t, () => load(dir, { canarySettings: { file: 'api.json', stageVariableOverrides: { a: { b: 1 } } } })), [at('/stageVariableOverrides/a', 'must be a string')])
  t.strictSame(refused(t, () => load(dir, { canarySettings: { file: 'api.json', deploymentId: 'abc123' } })), [at('/deploymentId', 'Backplane has no deployments: name the canary\'s API definition with `file` (relative to this config)')])
  t.strictSame(refused(t, () => load(dir, { canarySettings: 10 })), [at('', 'must be a map: { percentTraffic, file, stageVariableOverrides, useStageCache }')])
  const missing = refused(t, () => load(dir, { canarySettings: { file: 'nowhere.json' } }))
  t.equal(missing.length, 1)
  t.match(missing[0], `${at('/file', `${join(dir, 'nowhere.json')}: cannot read file: ENOENT`)}`)
})

t.test('the canary file gets every check an API file gets, its problems naming it', async (t) => {
  const dir = t.testdir()
  const bad = join(dir, 'bad.json')
  t.strictSame(refused(t, () => load(dir, { canarySettings: { file: 'bad.json' } }, { 'bad.json': '{"openapi": ' })), [`${bad}: /: invalid JSON at line 1, column 13: Unexpected end of JSON input`])
  t.strictSame(refused(t, () => load(dir, { canarySettings: { file: 'bad.json' } }, { 'bad.json': { ...API, paths: { '/v': { get: { 'x-amazon-apigateway-integration': { type: 'nope' } } } } } })), [`${bad}: /paths/~1v/get/x-amazon-apigateway-integration/type: unknown integration type "nope": expected one of mock, http, http_proxy, aws, aws_proxy`])
  // Compile-time problems (routes) too, once.
  const dup = { ...API, paths: { '/a/{x}': { get: { 'x-amazon-apigateway-integration': mock } }, '/a/{y}': { get: { 'x-amazon-apigateway-integration': mock } } } }
  const r = load(dir, { canarySettings: { file: 'bad.json' } }, { 'bad.json': dup })
  const problems: ConfigProblem[] = []
  compileGateway(r.gateway, problems)
  t.strictSame(problems.map(formatProblem), [`${bad}: /paths/~1a~1{y}: a sibling of resource /a/{y} already has a variable path part: only one is allowed per level`])
})

t.test('an unknown key of canarySettings is warned of with the closest one', async (t) => {
  const r = load(t.testdir(), { canarySettings: { file: 'api.json', percentTrafic: 5 } })
  t.equal(r.warnings.length, 1)
  t.match(r.warnings[0]!.message, /percentTraffic/)
  t.equal(r.warnings[0]!.pointer, '/apis/0/stages/prod/canarySettings/percentTrafic')
})
