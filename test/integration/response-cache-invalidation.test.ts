// The stage's response cache over HTTP, with a real backend that counts its calls.
//
// Facts pinned (developer guide, "Cache settings for REST APIs", unless named otherwise):
// - "API Gateway caches responses from your endpoint for a specified time-to-live (TTL)
//   period … responds to the request by looking up the endpoint response from the cache
//   instead of making a request to your endpoint": a hit never calls the backend;
// - "only GET methods have caching enabled by default … You can enable caching for other
//   methods by overriding method settings": "*/*" caches GET only, "/r/POST" caches a POST;
// - "TTL=0 means caching is disabled"; entries expire after cacheTtlInSeconds;
// - cache keys: "the responses from GET /users?type=admin are cached separately from those
//   from GET /users?type=regular", and with only `type` in the key "GET
//   /users?type=admin&department=A … is used to serve … GET /users?type=admin&department=B";
//   a resource without cache keys shares one entry whatever its path parameters
//   (theburningmonk, "Serverless – enable caching on query string parameters in API Gateway");
// - responses of every status from the endpoint are cached (no setting by status:
//   StackOverflow 45883323, serverless-api-gateway-caching issue #125);
// - "Cache-Control: max-age=0 … The client receives the response directly from the
//   integration endpoint instead of the cache, provided that the client is authorized to do
//   so. This replaces the existing cache entry"; unauthorized callers get
//   FAIL_WITH_403 ("returns a 403 Unauthorized response"), SUCCEED_WITH_RESPONSE_HEADER
//   ("process the request and add a warning header in the response") or
//   SUCCEED_WITHOUT_RESPONSE_HEADER; "If you don't impose an InvalidateCache policy … any
//   client can invalidate the API cache" (requireAuthorizationForCacheControl: false);
// - requireAuthorizationForCacheControl defaults to true and the strategy to
//   SUCCEED_WITH_RESPONSE_HEADER (AWS-validated: LocalStack test_apigateway_common.py::
//   TestStages::test_create_update_stages, GetStage's methodSettings).
import t from 'tap'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { request } from '../helpers/index.js'
import { ALICE, BOB, WARNING, startCached } from '../helpers/response-cache.js'

t.test('Cache-Control: max-age=0 with each unauthorized strategy, without authorization required, and from an IAM caller allowed execute-api:InvalidateCache', async (t) => {
  const { base, calls, gw } = await startCached(t)
  const fresh = { 'cache-control': 'max-age=0' }
  for (const p of ['/fail403', '/warn', '/silent', '/open']) await request(`${base}${p}`)

  const refused = await request(`${base}/fail403`, { headers: fresh })
  t.equal(refused.status, 403)
  t.equal(refused.headers['x-amzn-errortype'], 'AccessDeniedException')
  t.strictSame(refused.json(), { message: 'User is not authorized to access this resource' })
  t.equal(calls('/fail403'), 1, 'FAIL_WITH_403 does not reach the backend')

  const warned = await request(`${base}/warn`, { headers: fresh })
  t.equal(warned.status, 200)
  t.equal(warned.headers.warning, WARNING, 'the default strategy: SUCCEED_WITH_RESPONSE_HEADER')
  t.equal(calls('/warn'), 1, 'the header was ignored: served from the cache')

  const silent = await request(`${base}/silent`, { headers: fresh })
  t.equal(silent.status, 200)
  t.equal(silent.headers.warning, undefined)
  t.equal(calls('/silent'), 1)

  const open = await request(`${base}/open`, { headers: fresh })
  t.equal(open.status, 200)
  t.equal(calls('/open'), 2, 'requireAuthorizationForCacheControl: false lets anyone reload the entry')
  t.equal(open.headers.warning, undefined)
  await request(`${base}/open`)
  t.equal(calls('/open'), 2, 'the reloaded response replaced the entry')

  // SigV4-signed callers: alice's policy allows execute-api:InvalidateCache, bob's does not.
  const signed = async (cred: { readonly accessKeyId: string; readonly secretAccessKey: string }, headers: Record<string, string>) => {
    const signer = new SignatureV4({ service: 'execute-api', region: 'us-east-1', credentials: { accessKeyId: cred.accessKeyId, secretAccessKey: cred.secretAccessKey }, sha256: Hash.bind(null, 'sha256') })
    const req = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: gw.port, path: '/prod/signed', headers: { host: `127.0.0.1:${gw.port}`, ...headers }, query: {} })
    return request(`${base}/signed`, { headers: req.headers as Record<string, string> })
  }
  t.equal((await signed(BOB, {})).status, 200)
  t.equal(calls('/signed'), 1)
  const bob = await signed(BOB, fresh)
  t.equal(bob.status, 200)
  t.equal(bob.headers.warning, WARNING, 'bob may invoke but not invalidate')
  t.equal(calls('/signed'), 1)
  const alice = await signed(ALICE, fresh)
  t.equal(alice.status, 200)
  t.equal(alice.headers.warning, undefined)
  t.equal(calls('/signed'), 2, "alice's request went to the backend and replaced the entry")
  t.equal((await signed(BOB, {})).status, 200)
  t.equal(calls('/signed'), 2)
})

t.test('the cache is bounded: least recently used entries are evicted first', async (t) => {
  // cacheMemoryBytes: 65536 holds 60 blocks of 1 KB; each response here takes one.
  const { base, calls } = await startCached(t, { cacheMemoryBytes: 65_536, methodSettings: { '*/*': { cachingEnabled: true } } })
  for (let i = 1; i <= 60; i++) await request(`${base}/pets/${i}`)
  await request(`${base}/pets/1`)
  t.equal(calls('/pets/1'), 1, 'entry 1 is still there, and now the most recently used')
  for (let i = 61; i <= 70; i++) await request(`${base}/pets/${i}`)
  await request(`${base}/pets/1`)
  t.equal(calls('/pets/1'), 1, 'the recently used entry survived')
  await request(`${base}/pets/2`)
  t.equal(calls('/pets/2'), 2, 'the least recently used entry was evicted')
})

