// Safe by construction: a method whose protection the gateway cannot enforce is refused at
// load with file, JSON pointer and reason, never served open.
import t from 'tap'
import { normalizeApi } from '../../../../src/config/normalize.js'
import { DEFAULT_ACCESS } from '../../../../src/config/model.js'
import { compileGateway } from '../../../../src/pipeline/compile.js'
import type { ConfigProblem } from '../../../../src/errors.js'
import { stageSource, gatewaySource } from '../../../helpers/sources.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }

function problemsOf(doc: Record<string, unknown>): string[] {
  const problems: ConfigProblem[] = []
  const api = normalizeApi({ openapi: '3.0.1', info: { title: 'a', version: '1' }, ...doc }, { file: 'api.json', id: 'a', basePath: '', stages: [stageSource('prod'), stageSource('dev')] }, problems)!
  compileGateway(gatewaySource({ apis: [api], access: DEFAULT_ACCESS }), problems)
  return problems.filter((p) => p.severity === 'error').map((p) => `${p.pointer}: ${p.message}`)
}

t.test('a security requirement naming no scheme is refused once, not per stage', async (t) => {
  t.strictSame(problemsOf({ paths: { '/p': { get: { security: [{ nope: [] }], 'x-amazon-apigateway-integration': mock } } } }), [
    '/paths/~1p/get/security: security requirement "nope" names no security scheme; the method GET /p is refused rather than served open',
  ])
})

t.test('an unprotected method is not refused', async (t) => {
  t.strictSame(problemsOf({ paths: { '/p': { get: { 'x-amazon-apigateway-integration': mock } } } }), [])
})
