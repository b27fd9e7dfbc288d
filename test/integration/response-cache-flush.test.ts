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
import { adminUrl, runCli, startCached } from '../helpers/response-cache.js'

t.test('backplane cache flush empties the stage cache of the running gateway (FlushStageCache); metrics count hits and misses', async (t) => {
  const { base, calls, gw, file } = await startCached(t, { methodSettings: { '*/*': { cachingEnabled: true } } }, { admin: { host: '127.0.0.1', port: 0 } })
  const admin = await adminUrl(gw)
  await request(`${base}/pets/1`)
  await request(`${base}/pets/1`)
  t.equal(calls('/pets/1'), 1)
  const metrics = (await request(`${admin}/metrics`)).text
  t.match(metrics, /backplane_cache_hit_count_total\{[^}]*Stage="prod"[^}]*\} 1\n/)
  t.match(metrics, /backplane_cache_miss_count_total\{[^}]*Stage="prod"[^}]*\} 1\n/)

  const r = await runCli(['cache', 'flush', '--config', file, '--api', 'petstore', '--stage', 'prod', '--admin', admin])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'flushed the cache of stage prod of API petstore\n')
  await request(`${base}/pets/1`)
  t.equal(calls('/pets/1'), 2, 'after the flush the entry comes from the backend again')

  const unknown = await runCli(['cache', 'flush', '--config', file, '--api', 'petstore', '--stage', 'dev', '--admin', admin])
  t.equal(unknown.code, 1)
  t.equal(unknown.stderr, `backplane: ${file} has no stage dev in API petstore\n`)
  const usage = await runCli(['cache', 'flush', '--config', file])
  t.equal(usage.code, 2)
  t.match(usage.stderr, /cache flush needs --config, --api and --stage/)
})
