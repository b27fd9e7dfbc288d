// The Lambda authorizer result cache: one per gateway, in the function host, reached by
// every client (worker) of the host — over its channel name and over a connect() port.
import t from 'tap'
import { AuthorizerResultCache, MAX_AUTHORIZER_CACHE_ENTRIES } from '../../../src/functions/authorizer-cache.js'
import { createFunctionHost } from '../../../src/functions/host.js'
import { connectFunctionHost } from '../../../src/functions/client.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

t.test('entries live for their TTL; a store replaces; 0 stores nothing', async (t) => {
  const c = new AuthorizerResultCache()
  c.set('k', enc.encode('a'), 1_000, 0)
  const a = c.get('k', 999)
  t.equal(dec.decode(a!.payload), 'a')
  t.equal(c.get('k', 1_000), null, 'expired at its TTL')
  t.equal(c.size, 0, 'the expired entry is dropped')
  c.set('k', enc.encode('b'), 1_000, 0)
  c.set('k', enc.encode('c'), 1_000, 0)
  const b = c.get('k', 10)!
  t.equal(dec.decode(b.payload), 'c')
  t.ok(b.id > a!.id, 'every stored result gets a new id')
  c.set('z', enc.encode('z'), 0, 0)
  t.equal(c.get('z', 0), null)
  c.clear()
  t.equal(c.size, 0)
})

t.test('the cache is bounded: the oldest entry goes first', async (t) => {
  const c = new AuthorizerResultCache()
  for (let i = 0; i < MAX_AUTHORIZER_CACHE_ENTRIES + 1; i++) c.set(`k${i}`, enc.encode(''), 60_000, 0)
  t.equal(c.size, MAX_AUTHORIZER_CACHE_ENTRIES)
  t.equal(c.get('k0', 1), null)
  t.not(c.get(`k${MAX_AUTHORIZER_CACHE_ENTRIES}`, 1), null)
})

t.test('two clients of one host share the entries; a reload empties them', { timeout: 10_000 }, async (t) => {
  const host = createFunctionHost({}, { baseDir: '.', name: 'test:authorizer-cache', output: 'ignore' })
  t.teardown(() => host.close())
  const a = connectFunctionHost('test:authorizer-cache')
  const b = connectFunctionHost(host.connect())
  t.teardown(() => { a.close(); b.close() })
  t.strictSame(await a.lookupAuthorizerResult('key'), { kind: 'not-found' })
  a.storeAuthorizerResult('key', enc.encode('{"principalId":"p"}'), 60_000)
  // The store is fire and forget: the other client sees it once the host has it.
  let hit = await b.lookupAuthorizerResult('key')
  for (let i = 0; i < 50 && hit.kind !== 'ok'; i++) hit = await b.lookupAuthorizerResult('key')
  if (hit.kind !== 'ok') return t.fail('no hit')
  t.equal(dec.decode(hit.payload), '{"principalId":"p"}')
  t.equal(typeof hit.cacheEntry, 'number')
  const again = await a.lookupAuthorizerResult('key')
  t.match(again, { kind: 'ok', cacheEntry: hit.cacheEntry })
  host.reload({})
  t.strictSame(await a.lookupAuthorizerResult('key'), { kind: 'not-found' })
})

t.test('the generation moves on a clear and on an eviction before expiry, not on a plain store or expiry', async (t) => {
  const c = new AuthorizerResultCache()
  const g0 = c.generation
  c.set('a', enc.encode(''), 1_000, 0)
  t.equal(c.get('a', 1_000), null, 'expired')
  t.equal(c.generation, g0, 'a store and an expiry leave it')
  for (let i = 0; i < MAX_AUTHORIZER_CACHE_ENTRIES; i++) c.set(`k${i}`, enc.encode(''), 60_000, 0)
  t.equal(c.generation, g0, 'a full cache alone leaves it')
  c.set('one-more', enc.encode(''), 60_000, 0)
  t.equal(c.generation, g0 + 1, 'the oldest live entry evicted: mirrors must forget')
  c.clear()
  t.equal(c.generation, g0 + 2)
  t.equal(new Int32Array(c.generations)[0], c.generation, 'the counter clients read is the same')
})

t.test('a client mirrors the entries it read: no message until the expiry or a reload', { timeout: 10_000 }, async (t) => {
  const host = createFunctionHost({}, { baseDir: '.', name: 'test:authorizer-mirror', output: 'ignore' })
  t.teardown(() => host.close())
  const a = connectFunctionHost('test:authorizer-mirror')
  const b = connectFunctionHost(host.connect())
  t.teardown(() => { a.close(); b.close() })
  t.equal(a.mirroredAuthorizerResult('key', Date.now()), null, 'nothing read yet')
  t.strictSame(await a.lookupAuthorizerResult('key'), { kind: 'not-found' })
  t.equal(a.mirroredAuthorizerResult('key', Date.now()), null, 'a miss is not mirrored')
  const storedAt = Date.now()
  b.storeAuthorizerResult('key', enc.encode('{"principalId":"p"}'), 60_000)
  let hit = await a.lookupAuthorizerResult('key')
  for (let i = 0; i < 50 && hit.kind !== 'ok'; i++) hit = await a.lookupAuthorizerResult('key')
  if (hit.kind !== 'ok') return t.fail('no hit')
  const m = a.mirroredAuthorizerResult('key', Date.now())
  if (m === null) return t.fail('not mirrored')
  t.equal(dec.decode(m.payload), '{"principalId":"p"}')
  t.equal(m.cacheEntry, hit.cacheEntry, 'the host entry itself')
  t.ok(m.expiresAt >= storedAt + 60_000 && m.expiresAt <= Date.now() + 60_000, 'with the host entry\'s expiry')
  t.equal(a.mirroredAuthorizerResult('key', m.expiresAt), null, 'gone at that expiry')
  t.equal(a.mirroredAuthorizerResult('other', Date.now()), null, 'another identity is not mirrored')
  // Read again (the expiry check above dropped it), then a reload: the mirror forgets at once.
  await a.lookupAuthorizerResult('key')
  t.not(a.mirroredAuthorizerResult('key', Date.now()), null)
  host.reload({})
  t.equal(a.mirroredAuthorizerResult('key', Date.now()), null, 'the host cleared its cache: the mirror follows without a message')
  t.strictSame(await a.lookupAuthorizerResult('key'), { kind: 'not-found' })
})

t.test('Redis keys: API, stage, authorizer readable, the identity hashed, the config version in them', async (t) => {
  const { redisAuthorizerKey, authorizerCacheVersion } = await import('../../../src/functions/authorizer-cache.js')
  const { authorizerCacheKey } = await import('../../../src/method-request/authorization/authorizer-cache.js')
  const prefix = JSON.stringify(['petstore', 'prod', 'my auth', 'authFn', 'abc']) + '\n'
  const key = authorizerCacheKey(prefix, ['Bearer s3cret-token'])
  const r = redisAuthorizerKey(key, '0123456789abcdef')!
  t.match(r, /^bp:authz:petstore\/prod\/my%20auth:0123456789abcdef:[A-Za-z0-9_-]{43}$/)
  t.notOk(r.includes('s3cret'), 'no identity source value in clear')
  t.not(redisAuthorizerKey(authorizerCacheKey(prefix, ['Bearer other']), '0123456789abcdef'), r, 'another token, another key')
  t.not(redisAuthorizerKey(key, 'fedcba9876543210'), r, 'another config version, another key')
  t.equal(redisAuthorizerKey('no line feed', 'v'), null, 'a key the worker did not build')

  const dir = t.testdir({ 'auth.mjs': 'export const handler = async () => ({ principalId: "a" })\n' })
  const { writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { pathToFileURL } = await import('node:url')
  const file = join(dir, 'auth.mjs')
  const fn = { kind: 'local' as const, name: 'auth', handler: `${file}#handler`, moduleUrl: pathToFileURL(file).href, exportName: 'handler', timeoutMs: 3000, memoryMb: 128, environment: {}, concurrency: 1 }
  const v1 = authorizerCacheVersion([fn])
  t.match(v1, /^[0-9a-f]{16}$/)
  t.equal(authorizerCacheVersion([fn]), v1, 'the same configuration: the same version (gateways share entries)')
  t.not(authorizerCacheVersion([{ ...fn, environment: { MODE: 'strict' } }]), v1, 'a changed functions config: another version')
  writeFileSync(file, 'export const handler = async () => ({ principalId: "b" })\n')
  t.not(authorizerCacheVersion([fn]), v1, 'a changed handler module: another version (a reload serves no stale policy)')
})
