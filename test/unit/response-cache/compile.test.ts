// Load-time checks of the response cache: bad cache keys and settings are refused with file
// and pointer, never ignored.
import t from 'tap'
import type { Test } from 'tap'
import { loadGateway } from '../../../src/config/load.js'
import { compileGateway } from '../../../src/pipeline/compile.js'
import type { ConfigProblem } from '../../../src/errors.js'
import { writeApi } from '../../helpers/api.js'

const api = (cacheKeyParameters: string[]) => ({
  openapi: '3.0.1',
  info: { title: 'c', version: '1' },
  paths: { '/r/{id}': { get: { 'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: 'http://127.0.0.1:9/r/{id}', requestParameters: { 'integration.request.path.id': 'method.request.path.id', 'integration.request.header.x-k': "'fixed'" }, cacheKeyParameters } } } },
})

function problemsOf(t: Test, keys: string[], stage: Record<string, unknown>, extra: Record<string, unknown> = {}): string[] {
  writeApi(t, api(keys), 'api.json')
  const file = writeApi(t, { ...extra, apis: [{ id: 'c', file: 'api.json', stages: { prod: stage } }] }, 'gw.json')
  const loaded = loadGateway({ apiFiles: [], configFile: file })
  const problems: ConfigProblem[] = [...loaded.warnings]
  compileGateway(loaded.gateway, problems)
  return problems.map((p) => `${p.severity}: ${p.file.endsWith('gw.json') ? 'gw.json' : p.file.endsWith('api.json') ? 'api.json' : p.file}: ${p.pointer}: ${p.message}`)
}

t.test('cacheKeyParameters: method request parameters, or integration request parameters mapped from one; others are refused', async (t) => {
  const on = { cacheClusterEnabled: true, methodSettings: { '*/*': { cachingEnabled: true } } }
  t.strictSame(problemsOf(t, ['method.request.path.id', 'method.request.querystring.q', 'method.request.header.Accept', 'integration.request.path.id', 'integration.request.header.x-k'], on), [])
  t.strictSame(problemsOf(t, ['method.request.body', 'integration.request.querystring.none', 'id'], on), [
    'error: api.json: /paths/~1r~1{id}/get/x-amazon-apigateway-integration/cacheKeyParameters/0: invalid cache key parameter "method.request.body": a cache key is a method.request.path|querystring|header.* parameter, or an integration.request.* parameter mapped from one',
    'error: api.json: /paths/~1r~1{id}/get/x-amazon-apigateway-integration/cacheKeyParameters/1: invalid cache key parameter "integration.request.querystring.none": a cache key is a method.request.path|querystring|header.* parameter, or an integration.request.* parameter mapped from one',
    'error: api.json: /paths/~1r~1{id}/get/x-amazon-apigateway-integration/cacheKeyParameters/2: invalid cache key parameter "id": a cache key is a method.request.path|querystring|header.* parameter, or an integration.request.* parameter mapped from one',
  ])
})

t.test('cacheDataEncrypted cannot be honoured in Redis: refused at load', async (t) => {
  const problems = problemsOf(t, [], { cacheClusterEnabled: true, methodSettings: { '*/*': { cachingEnabled: true, cacheDataEncrypted: true } } }, { state: { redis: 'redis://127.0.0.1:6379/0' } })
  t.strictSame(problems, ['error: gw.json: /apis/0/stages/prod/cacheClusterEnabled: stage prod: cacheDataEncrypted cannot be honoured with state.redis (entries are stored in Redis unencrypted); set it to false or cache in process memory'])
})
