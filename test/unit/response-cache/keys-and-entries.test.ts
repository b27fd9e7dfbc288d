// Cache keys as API Gateway forms them, what an entry holds, and which responses are stored.
import t from 'tap'
import { RequestContext } from '../../../src/pipeline/context.js'
import type { RouteMatch } from '../../../src/router/match.js'
import type { RequestRecord } from '../../../src/pool/protocol.js'
import { SourceKind } from '../../../src/integration-request/compile.js'
import { CacheControlStrategy, type CompiledResponseCache } from '../../../src/response-cache/compile.js'
import { renderCacheKey } from '../../../src/response-cache/run.js'
import { storeCachedResponse } from '../../../src/response-cache/store.js'
import { MAX_CACHED_RESPONSE_BYTES, decodeCachedResponse, encodeCachedResponse } from '../../../src/response-cache/entry.js'
import { SharedStore, createSharedStoreMemory } from '../../../src/response-cache/shared-store.js'

function ctxOf(method: string, query: string, headers: string[], params: string[]): RequestContext {
  const record: RequestRecord = { id: 1, method, url: '/prod/users', query, headers, remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.now() }
  const ctx = new RequestContext(record, { reply() {} })
  ctx.match = { routeIndex: 0, resourcePath: '/users/{id}', params } as unknown as RouteMatch
  return ctx
}

function cacheOf(keyParts: CompiledResponseCache['keyParts'], namespace = '/users/{id}', local: SharedStore | null = null): CompiledResponseCache {
  return { local, redis: null, prefix: '', namespace, ttlMs: 300_000, keyParts, requireAuthorization: true, strategy: CacheControlStrategy.SucceedWithHeader, principals: new Map(), region: 'us-east-1', accountId: '123456789012', decoded: new Map() }
}

t.test('the key: namespace, method, and the cacheKeyParameters values in order', async (t) => {
  const c = cacheOf([{ source: SourceKind.MethodQuery, name: 'type' }, { source: SourceKind.MethodHeader, name: 'accept-language' }, { source: SourceKind.MethodPath, name: 'id' }])
  const key = renderCacheKey(ctxOf('GET', 'type=admin&department=A', ['accept-language', 'de'], ['id', '7']), c)
  t.equal(key, '/users/{id}\nGET\n["admin","de","7"]')
  // The guide's example: a parameter outside the key does not change it.
  t.equal(renderCacheKey(ctxOf('GET', 'type=admin&department=B', ['accept-language', 'de'], ['id', '7']), c), key)
  t.not(renderCacheKey(ctxOf('GET', 'type=regular', ['accept-language', 'de'], ['id', '7']), c), key)
  t.not(renderCacheKey(ctxOf('POST', 'type=admin', ['accept-language', 'de'], ['id', '7']), c), key, 'the method is part of the key')
  // Absent and empty are different values; a value holding the separator cannot collide.
  t.not(renderCacheKey(ctxOf('GET', '', ['accept-language', 'de'], ['id', '7']), c), renderCacheKey(ctxOf('GET', 'type=', ['accept-language', 'de'], ['id', '7']), c))
  t.not(renderCacheKey(ctxOf('GET', 'type=a%22%2C%22b', [], ['id', '7']), c), renderCacheKey(ctxOf('GET', 'type=a', ['accept-language', 'b'], ['id', '7']), c))
  t.equal(renderCacheKey(ctxOf('GET', 'x=1', [], ['id', '9']), cacheOf([], 'shared')), 'shared\nGET\n[]', 'no cache keys: one entry per namespace and method')
})

t.test('an entry holds status, headers and body', async (t) => {
  const bytes = encodeCachedResponse(404, ['Content-Type', 'application/json', 'x-a', 'é'], new TextEncoder().encode('{"m":1}'))
  const e = decodeCachedResponse(bytes)!
  t.equal(e.status, 404)
  t.strictSame(e.headers, ['Content-Type', 'application/json', 'x-a', 'é'])
  t.equal(new TextDecoder().decode(e.body!), '{"m":1}')
  t.equal(decodeCachedResponse(encodeCachedResponse(204, [], null))!.body, null)
  t.equal(decodeCachedResponse(new Uint8Array([1, 2, 3])), null, 'foreign bytes are not an entry')
})

t.test('stored: endpoint responses up to 1048576 bytes; never a larger one, never a gateway response', async (t) => {
  // "The maximum size of a response that can be cached is 1048576 bytes" (the guide, "Cache settings for REST APIs").
  t.equal(MAX_CACHED_RESPONSE_BYTES, 1_048_576)
  const store = new SharedStore(createSharedStoreMemory(4 << 20))
  const c = cacheOf([], '/r', store)
  const ctx = ctxOf('GET', '', [], [])
  ;(ctx as { method: unknown }).method = { responseCache: c }
  const has = (key: string) => store.get(new TextEncoder().encode(key), Date.now()) !== null
  storeCachedResponse(ctx, 'max', 200, [], new Uint8Array(MAX_CACHED_RESPONSE_BYTES))
  t.ok(has('max'), '1048576 bytes are cached')
  storeCachedResponse(ctx, 'over', 200, [], new Uint8Array(MAX_CACHED_RESPONSE_BYTES + 1))
  t.notOk(has('over'), '1048577 bytes are not')
  storeCachedResponse(ctx, 'error', 500, [], new TextEncoder().encode('{"message": "Internal server error"}'))
  t.ok(has('error'), 'an endpoint 500 is the endpoint\'s response')
  ctx.errorType = 'INTEGRATION_TIMEOUT'
  storeCachedResponse(ctx, 'gateway', 504, [], new TextEncoder().encode('{"message": "Endpoint request timed out"}'))
  t.notOk(has('gateway'), 'a gateway response is not stored')
})
