// Mapping templates end to end: the WASM engine rendering request and response templates
// of mock and http integrations. Developer guide: "Mapping template transformations for
// REST APIs", "Variables for data transformations", "Override your API's request and
// response parameters and status codes".
import t from 'tap'
import { startGateway, startEchoBackend, writeApi, request } from '../helpers/index.js'

t.test('mapping templates over HTTP', async (t) => {
  const backend = await startEchoBackend()
  t.teardown(() => backend.close())
  const file = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'vtl', version: '1' },
    paths: {
      '/mock': {
        get: {
          'x-amazon-apigateway-integration': {
            type: 'mock',
            requestTemplates: { 'application/json': "#if($input.params('fail') == 'yes')\n{\"statusCode\": 500}\n#else\n{\"statusCode\": 200}\n#end" },
            responses: {
              '5\\d{2}': { statusCode: '503', responseTemplates: { 'application/json': '{"down": true}' } },
              default: { statusCode: '200', responseTemplates: { 'application/json': '{"up": true, "stage": "$context.stage", "color": "$stageVariables.color"}' } },
            },
          },
        },
      },
      '/pets': {
        post: {
          'x-amazon-apigateway-integration': {
            type: 'http', httpMethod: 'POST', uri: `${backend.url}/pets`,
            requestTemplates: {
              'application/json': '{"pet": $input.json(\'$.pet\'), "name": "$util.escapeJavaScript($input.path(\'$.pet.name\'))", "q": "$input.params(\'q\')", "requestId": "$context.requestId"}',
            },
            responses: {
              default: {
                statusCode: '200',
                responseTemplates: {
                  'application/json': '#set($b = $util.parseJson($input.path(\'$.body\')))\n[#foreach($t in $b.pet.tags){"tag": "$t.toUpperCase()"}#if($foreach.hasNext),#end#end]',
                },
              },
            },
          },
        },
      },
      '/override': {
        get: {
          'x-amazon-apigateway-integration': {
            type: 'mock',
            requestTemplates: { 'application/json': '{"statusCode": 200}' },
            responses: { default: { statusCode: '200', responseTemplates: { 'application/json': "#set($context.responseOverride.status = 202)\n#set($context.responseOverride.header.X-Overridden = 'yes')\n{\"overridden\": true}" } } },
          },
        },
      },
      '/broken': {
        get: {
          'x-amazon-apigateway-integration': {
            type: 'mock',
            requestTemplates: { 'application/json': '{"statusCode": 200}' },
            responses: { default: { statusCode: '200', responseTemplates: { 'application/json': "#set($s = 'abc')$s.substring(10)" } } },
          },
        },
      },
    },
  })
  const gw = await startGateway({ args: [file, '--stage', 'prod', '--stage-var', 'color=blue', '--workers', '1'] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/prod`

  t.test('a mock request template selects the status with #if on $input.params', async (t) => {
    const up = await request(`${base}/mock`)
    t.equal(up.status, 200)
    t.equal(up.text, '{"up": true, "stage": "prod", "color": "blue"}')
    const down = await request(`${base}/mock?fail=yes`)
    t.equal(down.status, 503)
    t.equal(down.text, '{"down": true}')
  })

  t.test('request and response templates reshape an http integration', async (t) => {
    const res = await request(`${base}/pets?q=find`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"pet": {"name": "Rex \\"the\\" dog", "tags": ["a", "b"]}}' })
    t.equal(res.status, 200)
    t.equal(res.text, '[{"tag": "A"},{"tag": "B"}]')
    const sent = JSON.parse(backend.requests.at(-1)!.body)
    t.strictSame(sent.pet, { name: 'Rex "the" dog', tags: ['a', 'b'] })
    t.equal(sent.name, 'Rex "the" dog')
    t.equal(sent.q, 'find')
    t.equal(sent.requestId, res.headers['x-amzn-requestid'])
  })

  t.test('$context.responseOverride sets the status and a header', async (t) => {
    const res = await request(`${base}/override`)
    t.equal(res.status, 202)
    t.equal(res.headers['x-overridden'], 'yes')
    t.equal(res.text, '{"overridden": true}')
  })

  t.test('a template that fails at run time gets 500 and its reason in the log, and the worker lives on', async (t) => {
    const res = await request(`${base}/broken`)
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
    // Worker output reaches the process's stderr asynchronously: wait for it, bounded.
    for (let i = 0; i < 50 && !/response template failed/.test(gw.output()); i++) await new Promise((r) => setTimeout(r, 20))
    t.match(gw.output(), /\[[0-9a-f-]{36}\] response template failed: .+/)
    t.equal((await request(`${base}/mock`)).status, 200)
  })
})
