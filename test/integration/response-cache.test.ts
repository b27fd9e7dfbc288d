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
import { request } from '../helpers/index.js'
import { startCached } from '../helpers/response-cache.js'

t.test('a GET hit is served from the cache without calling the backend, keyed by cacheKeyParameters', async (t) => {
  const { base, calls } = await startCached(t)
  const first = await request(`${base}/pets/1`)
  const second = await request(`${base}/pets/1`)
  t.equal(first.status, 200)
  t.equal(second.status, 200)
  t.equal(second.text, first.text, 'the same body: the stored endpoint response')
  t.equal(second.headers['content-type'], first.headers['content-type'])
  t.not(second.headers['x-amzn-requestid'], first.headers['x-amzn-requestid'], 'each answer has its own request id')
  t.equal(calls('/pets/1'), 1, 'the hit never reached the backend')
  await request(`${base}/pets/2`)
  t.equal(calls('/pets/2'), 1, 'another path parameter value is another entry')

  // The guide's example: only `type` is in the key.
  const a = await request(`${base}/users?type=admin&department=A`)
  const b = await request(`${base}/users?type=admin&department=B`)
  t.equal(b.text, a.text, 'department=B is served the response of department=A')
  t.equal(calls('/users'), 1)
  await request(`${base}/users?type=regular`)
  t.equal(calls('/users'), 2, 'type=regular is cached separately')

  // No cache keys: one entry for the resource, whatever the path parameter.
  const n1 = await request(`${base}/nokey/1`)
  const n2 = await request(`${base}/nokey/2`)
  t.equal(n2.text, n1.text)
  t.equal(calls('/nokey/1') + calls('/nokey/2'), 1)

  // A shared cacheNamespace: requests to different resources get the same cached data.
  const s1 = await request(`${base}/shared-a`)
  const s2 = await request(`${base}/shared-b`)
  t.equal(s2.text, s1.text)
  t.equal(calls('/shared-a') + calls('/shared-b'), 1)
})

t.test('only GET is cached by "*/*"; another method by its own method setting', async (t) => {
  const { base, calls } = await startCached(t)
  await request(`${base}/pets`, { method: 'POST', body: '{}' })
  await request(`${base}/pets`, { method: 'POST', body: '{}' })
  t.equal(calls('/pets'), 2, 'POST /pets is not cached by the stage-wide entry')
  const p1 = await request(`${base}/posted`, { method: 'POST', body: '{"n":1}' })
  const p2 = await request(`${base}/posted`, { method: 'POST', body: '{"n":2}' })
  t.equal(p2.text, p1.text)
  t.equal(calls('/posted'), 1, '"/posted/POST": { cachingEnabled: true } caches the POST')
})

t.test('responses of any status from the endpoint are stored; TTL expiry; TTL 0 disables', async (t) => {
  const { base, calls } = await startCached(t)
  const nf1 = await request(`${base}/status`, { headers: { 'x-echo-status': '404' } })
  const nf2 = await request(`${base}/status`, { headers: { 'x-echo-status': '404' } })
  t.equal(nf1.status, 404)
  t.equal(nf2.status, 404)
  t.equal(calls('/status'), 1, 'the 404 was served from the cache')

  await request(`${base}/short`)
  await request(`${base}/short`)
  t.equal(calls('/short'), 1, 'a hit within cacheTtlInSeconds: 1')
  await new Promise((r) => setTimeout(r, 1200))
  await request(`${base}/short`)
  t.equal(calls('/short'), 2, 'expired after one second')

  await request(`${base}/off`)
  await request(`${base}/off`)
  t.equal(calls('/off'), 2, 'cacheTtlInSeconds: 0 caches nothing')
})
