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
import { request, startGateway, startEchoBackend, writeApi } from '../helpers/index.js'
import { startRedis } from '../helpers/redis.js'
import { config, petstore, runCli } from '../helpers/response-cache.js'

t.test('state.redis: two gateways share the cache; Redis unreachable serves misses and reconnects', async (t) => {
  const redis = await startRedis(t)
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  writeApi(t, petstore(echo.url), 'api.json')
  const file = writeApi(t, config({ methodSettings: { '*/*': { cachingEnabled: true } } }, { state: { redis: redis.url } }), 'backplane.json')
  const a = await startGateway({ args: ['--config', file, '--workers', '1'] })
  t.teardown(() => a.stop())
  const b = await startGateway({ args: ['--config', file, '--workers', '1'] })
  t.teardown(() => b.stop())
  const calls = () => echo.requests.filter((r) => r.path === '/pets/7').length

  const fromA = await request(`${a.url}/prod/pets/7`)
  t.equal(calls(), 1, 'a miss on gateway A')
  // The SET travels after the reply: give it a moment before B looks.
  await new Promise((r) => setTimeout(r, 100))
  const fromB = await request(`${b.url}/prod/pets/7`)
  t.equal(fromB.status, 200)
  t.equal(fromB.text, fromA.text)
  t.equal(calls(), 1, 'a hit on gateway B: the backend was not called')

  const flushed = await runCli(['cache', 'flush', '--config', file, '--api', 'petstore', '--stage', 'prod'])
  t.equal(flushed.code, 0, flushed.stderr)
  t.equal(flushed.stdout, 'flushed the cache of stage prod of API petstore in Redis (1 entries)\n')
  await request(`${b.url}/prod/pets/7`)
  t.equal(calls(), 2, 'the flush reached both gateways')

  await redis.stop()
  const down = await request(`${a.url}/prod/pets/7`)
  t.equal(down.status, 200, 'Redis down: served from the backend')
  t.equal(calls(), 3)
  await request(`${a.url}/prod/pets/7`)
  t.equal(calls(), 4, 'every request is a miss while Redis is down')
  t.equal((a.output().match(/response cache: Redis unreachable/g) ?? []).length, 1, 'said once')
  t.notMatch(a.output(), new RegExp(`redis://127\\.0\\.0\\.1:${redis.port}`), 'the Redis URL is not logged (host:port may be)')

  await redis.restart()
  for (let i = 0; i < 100 && !/Redis reachable again/.test(a.output()); i++) await new Promise((r) => setTimeout(r, 50))
  t.match(a.output(), /response cache: Redis reachable again/)
  await request(`${a.url}/prod/pets/7`)
  await new Promise((r) => setTimeout(r, 100))
  await request(`${a.url}/prod/pets/7`)
  t.equal(calls(), 5, 'reconnected: the second request is a hit')
})
