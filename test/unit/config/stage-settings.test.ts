// A stage's settings as the gateway config writes them: accessLogSettings, methodSettings
// keyed like API Gateway's MethodSetting paths, tracingEnabled.
import t from 'tap'
import { ACCESS_LOG_PRESETS, DEFAULT_STAGE_SETTINGS, parseMethodSettingKey, parseStageSettings, resolveMethodSetting } from '../../../src/config/stage-settings.js'
import type { ConfigProblem } from '../../../src/errors.js'

const parse = (body: Record<string, unknown>) => {
  const problems: ConfigProblem[] = []
  const settings = parseStageSettings(body, '/cfg/gateway.yaml', '/apis/0/stages/prod', problems)
  return { settings, problems }
}

t.test('method setting keys: */*, /pets/GET, ~1-escaped paths as the API writes them', async (t) => {
  t.strictSame(parseMethodSettingKey('*/*'), { resourcePath: '*', httpMethod: '*' })
  t.strictSame(parseMethodSettingKey('/pets/GET'), { resourcePath: '/pets', httpMethod: 'GET' })
  t.strictSame(parseMethodSettingKey('~1pets~1{id}/delete'), { resourcePath: '/pets/{id}', httpMethod: 'DELETE' })
  t.strictSame(parseMethodSettingKey('/pets/*'), { resourcePath: '/pets', httpMethod: '*' })
  t.equal(parseMethodSettingKey('/pets/FETCH'), null)
  t.equal(parseMethodSettingKey('pets'), null)
})

t.test('every key of API Gateway\'s MethodSetting is carried; unknown keys warn with did-you-mean', async (t) => {
  const { settings, problems } = parse({
    methodSettings: {
      '*/*': { metricsEnabled: true, loggingLevel: 'info', dataTraceEnabled: true, throttlingBurstLimit: 100, throttlingRateLimit: 50.5, cachingEnabled: true, cacheTtlInSeconds: 300, cacheDataEncrypted: false, requireAuthorizationForCacheControl: true, unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER', loggingLevl: 'ERROR' },
    },
  })
  t.match(settings.methodSettings[0], { key: '*/*', resourcePath: '*', httpMethod: '*', metricsEnabled: true, loggingLevel: 'INFO', dataTraceEnabled: true, throttlingBurstLimit: 100, throttlingRateLimit: 50.5, cachingEnabled: true, cacheTtlInSeconds: 300, cacheDataEncrypted: false, requireAuthorizationForCacheControl: true, unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER', pointer: '/apis/0/stages/prod/methodSettings/*~1*' })
  t.strictSame(problems.map((p) => [p.severity, p.pointer, p.message]), [
    ['warning', '/apis/0/stages/prod/methodSettings/*~1*/loggingLevl', 'unknown key "loggingLevl" is ignored; did you mean "loggingLevel"?'],
    // Throttling and caching are both served: no not-enforced warning.
    // Caching asked for on a stage without a cache is said, not silently ignored.
    ['warning', '/apis/0/stages/prod/methodSettings/*~1*/cachingEnabled', 'has no effect: the stage has no cache (cacheClusterEnabled: true)'],
  ])
})

t.test('bad values are errors with file and pointer', async (t) => {
  const { problems } = parse({
    tracingEnabled: 'yes',
    accessLogSettings: { format: '' },
    methodSettings: { '/pets/GET': { loggingLevel: 'LOUD', throttlingBurstLimit: -1, metricsEnabled: 'true' }, 'nope': {} },
  })
  t.strictSame(problems.filter((p) => p.severity === 'error').map((p) => `${p.file}: ${p.pointer}: ${p.message}`).sort(), [
    '/cfg/gateway.yaml: /apis/0/stages/prod/accessLogSettings/format: must be a format string with $context variables, or CLF, JSON, XML or CSV',
    '/cfg/gateway.yaml: /apis/0/stages/prod/methodSettings/nope: a method path is {resource_path}/{http_method}, or */* for every method',
    '/cfg/gateway.yaml: /apis/0/stages/prod/methodSettings/~1pets~1GET/loggingLevel: must be one of OFF, ERROR, INFO',
    '/cfg/gateway.yaml: /apis/0/stages/prod/methodSettings/~1pets~1GET/metricsEnabled: must be true or false',
    '/cfg/gateway.yaml: /apis/0/stages/prod/methodSettings/~1pets~1GET/throttlingBurstLimit: must be an integer number of requests from 0 to 2147483647',
    '/cfg/gateway.yaml: /apis/0/stages/prod/tracingEnabled: must be true or false',
  ])
})

t.test('accessLogSettings: preset names become the console\'s formats; destinations resolve beside the config', async (t) => {
  t.equal(parse({ accessLogSettings: { format: 'JSON', destination: 'logs/access.log' } }).settings.accessLogSettings?.format, ACCESS_LOG_PRESETS.JSON)
  t.equal(parse({ accessLogSettings: { format: 'CSV', destination: 'logs/access.log' } }).settings.accessLogSettings?.destination, '/cfg/logs/access.log')
  t.equal(parse({ accessLogSettings: { format: '$context.requestId' } }).settings.accessLogSettings?.destination, 'stdout')
  t.equal(parse({ variables: {} }).settings, DEFAULT_STAGE_SETTINGS)
  // The guide's console examples (set-up-logging): CLF as one line.
  t.equal(ACCESS_LOG_PRESETS.CLF, '$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime]"$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId')
})

t.test('a method\'s settings: */* then /res/* then /res/METHOD, key by key', async (t) => {
  const { settings } = parse({
    methodSettings: {
      '/pets/GET': { loggingLevel: 'OFF' },
      '*/*': { loggingLevel: 'INFO', metricsEnabled: true, throttlingRateLimit: 10 },
      '/pets/*': { dataTraceEnabled: true, throttlingRateLimit: 5 },
    },
  })
  t.match(resolveMethodSetting(settings.methodSettings, '/pets', 'GET'), { loggingLevel: 'OFF', metricsEnabled: true, dataTraceEnabled: true, throttlingRateLimit: 5 })
  t.match(resolveMethodSetting(settings.methodSettings, '/pets', 'POST'), { loggingLevel: 'INFO', dataTraceEnabled: true, throttlingRateLimit: 5 })
  t.match(resolveMethodSetting(settings.methodSettings, '/orders', 'GET'), { loggingLevel: 'INFO', dataTraceEnabled: false, throttlingRateLimit: 10 })
  t.strictSame(resolveMethodSetting([], '/x', 'GET'), { metricsEnabled: false, loggingLevel: 'ERROR', dataTraceEnabled: false, throttlingBurstLimit: null, throttlingRateLimit: null, cachingEnabled: false, cacheTtlInSeconds: null, cacheDataEncrypted: false, requireAuthorizationForCacheControl: true, unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER' })
})

t.test('cache settings: the defaults AWS answers for a MethodSetting; TTL at most 3600; the stage\'s cache cluster', async (t) => {
  // AWS-validated (LocalStack test_apigateway_common.py::TestStages::test_create_update_stages):
  // a method setting that names no cache-control keys reads requireAuthorizationForCacheControl
  // true and unauthorizedCacheControlHeaderStrategy SUCCEED_WITH_RESPONSE_HEADER.
  const { settings } = parse({ methodSettings: { '*/*': { cachingEnabled: true } } })
  t.match(resolveMethodSetting(settings.methodSettings, '/test', 'GET'), { cachingEnabled: true, cacheTtlInSeconds: null, cacheDataEncrypted: false, requireAuthorizationForCacheControl: true, unauthorizedCacheControlHeaderStrategy: 'SUCCEED_WITH_RESPONSE_HEADER' })
  // "The maximum TTL value is 3600 seconds" (the guide, "Cache settings for REST APIs").
  t.strictSame(parse({ methodSettings: { '*/*': { cacheTtlInSeconds: 3601 } } }).problems.map((p) => [p.severity, p.pointer, p.message]), [
    ['error', '/apis/0/stages/prod/methodSettings/*~1*/cacheTtlInSeconds', 'must be from 0 to 3600 (API Gateway\'s maximum TTL; 0 disables caching)'],
  ])
  t.strictSame(parse({ methodSettings: { '*/*': { cacheTtlInSeconds: 3600 } } }).problems, [])
  // cacheClusterSize: API Gateway's sizes (API reference, CreateStage), 0.5 GB by default; YAML's number 0.5 is accepted.
  t.strictSame(parse({ cacheClusterEnabled: true }).settings.cache, { enabled: true, size: '0.5', bytes: 0.5 * 2 ** 30, file: '/cfg/gateway.yaml', pointer: '/apis/0/stages/prod/cacheClusterEnabled' })
  t.equal(parse({ cacheClusterEnabled: true, cacheClusterSize: 1.6 }).settings.cache.bytes, Math.round(1.6 * 2 ** 30))
  t.equal(parse({ cacheClusterEnabled: true, cacheClusterSize: '237' }).settings.cache.size, '237')
  t.equal(parse({ cacheClusterEnabled: true, cacheMemoryBytes: 65536 }).settings.cache.bytes, 65536)
  t.strictSame(parse({ cacheClusterEnabled: 'yes', cacheClusterSize: '1', cacheMemoryBytes: 100 }).problems.map((p) => [p.pointer, p.message]), [
    ['/apis/0/stages/prod/cacheClusterEnabled', 'must be true or false'],
    ['/apis/0/stages/prod/cacheClusterSize', "must be one of API Gateway's cache sizes in GB: 0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237"],
    ['/apis/0/stages/prod/cacheMemoryBytes', `must be an integer from 65536 to the cacheClusterSize in bytes (${0.5 * 2 ** 30})`],
  ])
})
