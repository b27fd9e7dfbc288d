// The functions section of backplane.yaml: checked once at load, every problem reported.
import t from 'tap'
import { pathToFileURL } from 'node:url'
import { compileFunctionsConfig, DEFAULT_FUNCTION_CONCURRENCY, DEFAULT_FUNCTION_MEMORY_MB, DEFAULT_FUNCTION_TIMEOUT_MS } from '../../../src/functions/config.js'
import { ConfigError } from '../../../src/errors.js'

t.test('compiles local and remote functions with Lambda defaults', async (t) => {
  const m = compileFunctionsConfig(
    {
      pets: { handler: './functions/pets.mjs#list', environment: { TABLE: 'pets', N: 3 } },
      plain: { handler: '/abs/index.js' },
      'orders:live': { url: 'http://127.0.0.1:9001/', timeoutMs: 10_000 },
    },
    '/srv/api',
  )
  t.strictSame(m.get('pets'), {
    kind: 'local',
    name: 'pets',
    handler: './functions/pets.mjs#list',
    moduleUrl: pathToFileURL('/srv/api/functions/pets.mjs').href,
    exportName: 'list',
    timeoutMs: DEFAULT_FUNCTION_TIMEOUT_MS,
    memoryMb: DEFAULT_FUNCTION_MEMORY_MB,
    environment: { TABLE: 'pets', N: '3' },
    concurrency: DEFAULT_FUNCTION_CONCURRENCY,
  })
  t.match(m.get('plain'), { moduleUrl: 'file:///abs/index.js', exportName: 'handler' }, 'the export defaults to handler')
  t.strictSame(m.get('orders:live'), { kind: 'remote', name: 'orders:live', url: 'http://127.0.0.1:9001', timeoutMs: 10_000 })
  t.equal(DEFAULT_FUNCTION_TIMEOUT_MS, 3_000, "Lambda's default timeout")
  t.equal(DEFAULT_FUNCTION_MEMORY_MB, 128, "Lambda's default memory size")
  t.equal(compileFunctionsConfig(undefined, '/').size, 0)
})

t.test('collects every problem with its JSON pointer', async (t) => {
  const err = t.throws(() =>
    compileFunctionsConfig(
      {
        'bad name!': { handler: 'x.mjs' },
        both: { handler: 'x.mjs', url: 'http://h' },
        neither: {},
        badUrl: { url: 'ftp://h' },
        extra: { url: 'http://h', memoryMb: 256 },
        limits: { handler: 'x.mjs#handler', timeoutMs: 0, memoryMb: 64, concurrency: 0 },
        env: { handler: 'x.mjs', environment: { '1X': 'a', OK: { no: 1 } } },
        exportName: { handler: 'x.mjs#1bad' },
        emptyHandler: { handler: '' },
      },
      '/',
    ),
  ) as ConfigError
  t.ok(err instanceof ConfigError)
  t.strictSame(
    err.problems.map((p) => p.pointer),
    [
      '/functions/bad name!',
      '/functions/both',
      '/functions/neither',
      '/functions/badUrl/url',
      '/functions/extra/memoryMb',
      '/functions/limits/timeoutMs',
      '/functions/limits/memoryMb',
      '/functions/limits/concurrency',
      '/functions/env/environment/1X',
      '/functions/env/environment/OK',
      '/functions/exportName/handler',
      '/functions/emptyHandler/handler',
    ],
  )
  t.ok(err.problems.every((p) => p.code === 'BP_ERR_CONFIG_FUNCTION' && p.severity === 'error'))
  t.throws(() => compileFunctionsConfig([1], '/'), ConfigError)
})
