// Shared by test/integration/response-cache*.test.ts: a petstore API behind the echo backend
// with one resource per caching behaviour, its gateway config, and the CLI runner.
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { startGateway, startEchoBackend, writeApi, CLI_PATH, REPO_ROOT, type Gateway } from './index.js'

export const WARNING = '199 Cache-control headers were ignored because the caller was unauthorized.'

export const proxy = (backend: string, path: string, extra: Record<string, unknown> = {}) => ({ type: 'http_proxy', httpMethod: 'ANY', uri: `${backend}${path}`, ...extra })

export function petstore(backend: string): object {
  const get = (path: string, extra: Record<string, unknown> = {}, op: Record<string, unknown> = {}) => ({ get: { ...op, 'x-amazon-apigateway-integration': proxy(backend, path, extra) } })
  return {
    openapi: '3.0.1',
    info: { title: 'petstore', version: '1' },
    paths: {
      '/pets': {
        get: { 'x-amazon-apigateway-integration': proxy(backend, '/pets') },
        post: { 'x-amazon-apigateway-integration': proxy(backend, '/pets') },
      },
      '/pets/{id}': get('/pets/{id}', { requestParameters: { 'integration.request.path.id': 'method.request.path.id' }, cacheKeyParameters: ['method.request.path.id'] }),
      '/nokey/{id}': get('/nokey/{id}', { requestParameters: { 'integration.request.path.id': 'method.request.path.id' } }),
      '/users': get('/users', { cacheKeyParameters: ['method.request.querystring.type'] }),
      '/status': get('/status', { cacheKeyParameters: ['method.request.header.x-echo-status'] }),
      '/shared-a': get('/shared-a', { cacheNamespace: 'shared' }),
      '/shared-b': get('/shared-b', { cacheNamespace: 'shared' }),
      '/posted': { post: { 'x-amazon-apigateway-integration': proxy(backend, '/posted') } },
      '/short': get('/short'),
      '/off': get('/off'),
      '/fail403': get('/fail403'),
      '/warn': get('/warn'),
      '/silent': get('/silent'),
      '/open': get('/open'),
      '/signed': get('/signed', {}, { security: [{ sigv4: [] }] }),
    },
    components: { securitySchemes: { sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' } } },
  }
}

export const ALICE = { accessKeyId: 'AKIDALICE0000000001', secretAccessKey: 'alice-secret-key-0123456789', arn: 'arn:aws:iam::123456789012:user/alice', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['execute-api:Invoke', 'execute-api:InvalidateCache'], Resource: 'arn:aws:execute-api:us-east-1:123456789012:petstore/prod/GET/*' }] } }
export const BOB = { accessKeyId: 'AKIDBOB000000000002', secretAccessKey: 'bob-secret-key-0123456789', arn: 'arn:aws:iam::123456789012:user/bob', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] } }

export function config(stage: Record<string, unknown>, extra: Record<string, unknown> = {}): object {
  return {
    ...extra,
    credentials: [ALICE, BOB],
    apis: [{ id: 'petstore', file: 'api.json', stages: { prod: { cacheClusterEnabled: true, cacheClusterSize: '0.5', ...stage } } }],
  }
}

export const METHOD_SETTINGS = {
  '*/*': { cachingEnabled: true },
  '/posted/POST': { cachingEnabled: true },
  '/short/GET': { cacheTtlInSeconds: 1 },
  '/off/GET': { cacheTtlInSeconds: 0 },
  '/fail403/GET': { unauthorizedCacheControlHeaderStrategy: 'FAIL_WITH_403' },
  '/silent/GET': { unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITHOUT_RESPONSE_HEADER' },
  '/open/GET': { requireAuthorizationForCacheControl: false },
}

export async function startCached(t: Test, stage: Record<string, unknown> = { methodSettings: METHOD_SETTINGS }, extra: Record<string, unknown> = {}) {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  writeApi(t, petstore(echo.url), 'api.json')
  const file = writeApi(t, config(stage, extra), 'backplane.json')
  const gw = await startGateway({ args: ['--config', file, '--workers', '2'] })
  t.teardown(() => gw.stop())
  const calls = (path: string) => echo.requests.filter((r) => r.path === path).length
  return { echo, gw, file, calls, base: `${gw.url}/prod` }
}


export function runCli(args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`cli ${args.join(' ')} did not finish in 15 s`)) }, 15_000)
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

export async function adminUrl(gw: Gateway): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = /backplane admin on (http:\/\/\S+)/.exec(gw.output())
    if (m !== null) return m[1]!
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('no admin line')
}
