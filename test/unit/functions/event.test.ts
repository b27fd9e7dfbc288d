// The Lambda proxy integration event (payload format 1.0) and result, against the API Gateway
// developer guide: "Input format of a Lambda function for proxy integration" and "Output format
// of a Lambda function for proxy integration" (set-up-lambda-proxy-integrations).
import t from 'tap'
import { buildProxyEvent, encodeProxyEvent, formatRequestTime, parseProxyResult, proxyEventJson, type ProxyEventInput } from '../../../src/functions/event.js'
import { PackedProxyEvent, packProxyEvent, unpackProxyEvent } from '../../../src/functions/packed-event.js'

const enc = new TextEncoder()

// The guide's request: POST /testStage/hello/world?name=me to the {proxy+} resource of API
// gy415nuibc, stage testStage with stageVariableName=stageVariableValue, body {"a": 1}. Its
// multi-value example adds multivalueName=you&multivalueName=me.
const guide: ProxyEventInput = {
  method: 'POST',
  path: '/hello/world',
  requestPath: '/testStage/hello/world',
  query: 'name=me&multivalueName=you&multivalueName=me',
  // The guide's header names as its client sent them: the event keeps them so.
  headers: [
    'Accept', '*/*',
    'Content-Type', 'application/json',
    'headerName', 'headerValue',
    'Host', 'gy415nuibc.execute-api.us-east-1.amazonaws.com',
    'User-Agent', 'PostmanRuntime/2.4.5',
    'X-Forwarded-For', '54.240.196.186, 54.182.214.83',
  ],
  body: enc.encode('{\r\n\t"a": 1\r\n}'),
  isBinary: false,
  resourcePath: '/{proxy+}',
  resourceId: 'roq9wj',
  pathParameters: { proxy: 'hello/world' },
  stage: 'testStage',
  stageVariables: { stageVariableName: 'stageVariableValue' },
  requestId: 'deef4878-7910-11e6-8f14-25afc3e9ae33',
  extendedRequestId: 'Y2hxGGhwoAMFZ4w=',
  accountId: '12345678912',
  apiId: 'gy415nuibc',
  deploymentId: 'wvrtxs',
  domainName: 'gy415nuibc.execute-api.us-east-1.amazonaws.com',
  sourceIp: '192.168.196.186',
  requestTimeEpoch: 1519166937665,
  protocol: 'HTTP/1.1',
  authorizer: null,
  identity: null,
}

t.test("matches the guide's example event field by field", async (t) => {
  const ev = buildProxyEvent(guide)
  t.strictSame(Object.keys(ev), [
    'resource', 'path', 'httpMethod', 'headers', 'multiValueHeaders', 'queryStringParameters',
    'multiValueQueryStringParameters', 'pathParameters', 'stageVariables', 'requestContext', 'body', 'isBase64Encoded',
  ])
  t.equal(ev.resource, '/{proxy+}')
  t.equal(ev.path, '/hello/world', 'path is without the stage')
  t.equal(ev.httpMethod, 'POST')
  // Names and values as the client sent them (the guide's "headerName": "headerValue").
  t.strictSame(ev.headers, {
    Accept: '*/*',
    'Content-Type': 'application/json',
    headerName: 'headerValue',
    Host: 'gy415nuibc.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'PostmanRuntime/2.4.5',
    'X-Forwarded-For': '54.240.196.186, 54.182.214.83',
  })
  t.strictSame(ev.multiValueHeaders, {
    Accept: ['*/*'],
    'Content-Type': ['application/json'],
    headerName: ['headerValue'],
    Host: ['gy415nuibc.execute-api.us-east-1.amazonaws.com'],
    'User-Agent': ['PostmanRuntime/2.4.5'],
    'X-Forwarded-For': ['54.240.196.186, 54.182.214.83'],
  })
  // The guide: "multivalueName": "me" single, ["you", "me"] multi: the last value wins.
  t.strictSame(ev.queryStringParameters, { name: 'me', multivalueName: 'me' })
  t.strictSame(ev.multiValueQueryStringParameters, { name: ['me'], multivalueName: ['you', 'me'] })
  t.strictSame(ev.pathParameters, { proxy: 'hello/world' })
  t.strictSame(ev.stageVariables, { stageVariableName: 'stageVariableValue' })
  t.equal(ev.body, '{\r\n\t"a": 1\r\n}')
  t.equal(ev.isBase64Encoded, false)
  t.strictSame(ev.requestContext, {
    resourceId: 'roq9wj',
    resourcePath: '/{proxy+}',
    httpMethod: 'POST',
    extendedRequestId: 'Y2hxGGhwoAMFZ4w=',
    // The guide's AWS_IAM example: "requestTime": "20/Feb/2018:22:48:57 +0000", "requestTimeEpoch": 1519166937665.
    requestTime: '20/Feb/2018:22:48:57 +0000',
    path: '/testStage/hello/world',
    accountId: '12345678912',
    protocol: 'HTTP/1.1',
    stage: 'testStage',
    domainPrefix: 'gy415nuibc',
    deploymentId: 'wvrtxs',
    requestTimeEpoch: 1519166937665,
    requestId: 'deef4878-7910-11e6-8f14-25afc3e9ae33',
    identity: {
      cognitoIdentityPoolId: null,
      accountId: null,
      cognitoIdentityId: null,
      caller: null,
      sourceIp: '192.168.196.186',
      principalOrgId: null,
      accessKey: null,
      cognitoAuthenticationType: null,
      cognitoAuthenticationProvider: null,
      userArn: null,
      userAgent: 'PostmanRuntime/2.4.5',
      user: null,
    },
    domainName: 'gy415nuibc.execute-api.us-east-1.amazonaws.com',
    apiId: 'gy415nuibc',
  })
  t.same(JSON.parse(new TextDecoder().decode(encodeProxyEvent(guide))), ev, 'encodeProxyEvent is the JSON of the same event')
})

t.test('absent maps are null, never {}', async (t) => {
  const ev = buildProxyEvent({ ...guide, query: '', headers: [], pathParameters: null, stageVariables: null, body: null })
  t.equal(ev.headers, null)
  t.equal(ev.multiValueHeaders, null)
  t.equal(ev.queryStringParameters, null)
  t.equal(ev.multiValueQueryStringParameters, null)
  t.equal(ev.pathParameters, null)
  t.equal(ev.stageVariables, null)
  t.equal(ev.body, null)
  t.equal(ev.isBase64Encoded, false)
  t.equal((ev.requestContext['identity'] as Record<string, unknown>)['userAgent'], null)
  t.notOk('authorizer' in ev.requestContext, 'no authorizer key without an authorizer')
  t.equal(buildProxyEvent({ ...guide, query: '&&' }).queryStringParameters, null)
})

t.test('single-value headers hold the last value; multi-value hold all in order', async (t) => {
  const ev = buildProxyEvent({ ...guide, headers: ['x-a', '1', 'x-b', 'b', 'x-a', '2'] })
  t.strictSame(ev.headers, { 'x-a': '2', 'x-b': 'b' })
  t.strictSame(ev.multiValueHeaders, { 'x-a': ['1', '2'], 'x-b': ['b'] })
})

t.test('query strings are form-decoded; path and requestContext.path keep the encoding', async (t) => {
  // A live REST capture (aws/aws-cdk#19827): ?sort=-+createdAt gives "sort": "- createdAt".
  const ev = buildProxyEvent({ ...guide, path: '/a%20b', requestPath: '/testStage/a%20b', query: 'sort=-+createdAt&e=a%2Bb%26c&flag&bad=%E0%A4' })
  t.strictSame(ev.queryStringParameters, { sort: '- createdAt', e: 'a+b&c', flag: '', bad: '%E0%A4' })
  t.equal(ev.path, '/a%20b')
  t.equal(ev.requestContext['path'], '/testStage/a%20b')
})

t.test('binary payloads are base64 with isBase64Encoded; text payloads are UTF-8', async (t) => {
  const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff])
  const ev = buildProxyEvent({ ...guide, body: bytes, isBinary: true })
  t.equal(ev.body, 'iVBORwD/')
  t.equal(ev.isBase64Encoded, true)
  t.equal(buildProxyEvent({ ...guide, body: enc.encode('héllo') }).body, 'héllo')
  const sub = enc.encode('xxhéllo').subarray(2)
  t.equal(buildProxyEvent({ ...guide, body: sub }).body, 'héllo', 'a view into a larger buffer')
})

t.test('authorizer context and known identity fields are passed on', async (t) => {
  const ev = buildProxyEvent({ ...guide, authorizer: { principalId: 'user|a1b2', integrationLatency: 12, tier: 'gold' }, identity: { apiKey: 'k', apiKeyId: 'kid' } })
  t.strictSame(ev.requestContext['authorizer'], { principalId: 'user|a1b2', integrationLatency: 12, tier: 'gold' })
  t.match(ev.requestContext['identity'], { apiKey: 'k', apiKeyId: 'kid', sourceIp: '192.168.196.186' })
})

t.test('requestTime is CLF in UTC', async (t) => {
  t.equal(formatRequestTime(Date.UTC(2026, 10, 25, 13, 53, 6, 999)), '25/Nov/2026:13:53:06 +0000')
  t.equal(formatRequestTime(Date.UTC(2020, 0, 5, 1, 2, 3)), '05/Jan/2020:01:02:03 +0000')
})

t.test('parseProxyResult: a well-formed result becomes the method response', async (t) => {
  const r = parseProxyResult(enc.encode(JSON.stringify({ statusCode: 201, headers: { 'Content-Type': 'application/json', 'X-N': 1 }, body: '{"ok":true}' })))
  t.strictSame(r, { kind: 'response', statusCode: 201, headers: ['Content-Type', 'application/json', 'X-N', '1'], body: Buffer.from('{"ok":true}') })
  t.match(parseProxyResult({ statusCode: 204 }), { kind: 'response', statusCode: 204, headers: [], body: { length: 0 } }, 'headers and body are optional')
  t.match(parseProxyResult({ statusCode: '200', body: null, headers: null, multiValueHeaders: null, isBase64Encoded: null }), { kind: 'response', statusCode: 200 })
})

t.test('parseProxyResult: headers and multiValueHeaders merge; a name in both sends the multi values, then the single one, spelled as multiValueHeaders spells it', async (t) => {
  // LocalStack's AWS-validated test_aws_proxy_response_payload_format_validation:
  // "invoke-api-multi-headers-overwrite-casing" answers "tesT-Multi: value-multi, value-solo".
  const r = parseProxyResult({
    statusCode: 200,
    headers: { 'test-multi': 'value-solo', 'X-One': 'a' },
    multiValueHeaders: { 'tesT-Multi': ['value-multi'], 'X-Two': ['x', 'y'] },
  })
  t.match(r, { kind: 'response', headers: ['tesT-Multi', 'value-multi', 'tesT-Multi', 'value-solo', 'X-Two', 'x', 'X-Two', 'y', 'X-One', 'a'] })
})

t.test('parseProxyResult: a result without statusCode answers 200 (recorded "invoke-api-only-headers")', async (t) => {
  t.match(parseProxyResult({ headers: { 'test-header': 'value' } }), { kind: 'response', statusCode: 200, headers: ['test-header', 'value'], body: { length: 0 } })
  t.match(parseProxyResult({}), { kind: 'response', statusCode: 200, headers: [], body: { length: 0 } })
})

t.test('parseProxyResult: a base64 body stays its text unless the response is binary', async (t) => {
  const r = parseProxyResult({ statusCode: 200, body: 'dGVzdC1kYXRh', isBase64Encoded: true }, false)
  t.match(r, { kind: 'response' })
  if (r.kind === 'response') t.equal(Buffer.from(r.body).toString(), 'dGVzdC1kYXRh', 'recorded "invoke-api-b64-encoded-true" without binaryMediaTypes')
})

t.test('parseProxyResult: isBase64Encoded bodies are decoded', async (t) => {
  const r = parseProxyResult({ statusCode: 200, body: 'iVBORwD/', isBase64Encoded: true })
  t.match(r, { kind: 'response' })
  if (r.kind === 'response') t.strictSame([...r.body], [0x89, 0x50, 0x4e, 0x47, 0x00, 0xff])
})

t.test('parseProxyResult: malformed results are refused with a reason', async (t) => {
  const cases: [unknown, RegExp][] = [
    [enc.encode('not json'), /not JSON/],
    ['"hello"', /JSON object, got string/],
    [null, /got null/],
    [[1], /got an array/],
    [{ Hello: 'World' }, /unknown field "Hello"/], // the guide's hello-world mistake
    [{ statusCode: 'OK' }, /statusCode must be an integer/],
    [{ statusCode: 99 }, /not a valid HTTP status code/],
    [{ statusCode: 200.5 }, /not a valid HTTP status code/],
    [{ statusCode: 200, body: { a: 1 } }, /body must be a string/],
    [{ statusCode: 200, headers: ['a'] }, /headers must be an object/],
    [{ statusCode: 200, headers: { a: { b: 1 } } }, /header "a" must be a string/],
    [{ statusCode: 200, multiValueHeaders: { a: 'x' } }, /multiValueHeaders "a"/],
    [{ statusCode: 200, multiValueHeaders: { a: [{}] } }, /multiValueHeaders "a"/],
    [{ statusCode: 200, isBase64Encoded: 'yes' }, /isBase64Encoded must be a boolean/],
  ]
  for (const [value, reason] of cases) {
    const payload = typeof value === 'string' ? enc.encode(value) : value
    t.match(parseProxyResult(payload), { kind: 'malformed', code: 'BP_ERR_FUNCTION_MALFORMED_RESULT', reason }, String(reason))
  }
})

// proxyEventJson writes the event's JSON without building it: it must be JSON.stringify of the
// built event, byte for byte, whatever the request holds.
/** Requests whose events are awkward to write: each must come out as JSON.stringify of the built event. */
const variants: Array<[string, Partial<ProxyEventInput>]> = [
  ['the guide', {}],
  ['no headers, no query, no body', { headers: [], query: '', body: null, pathParameters: null, stageVariables: null }],
  ['repeated headers: the last value, at the first place', { headers: ['x-a', '1', 'x-b', 'b', 'x-a', '2', 'X-A', '3', 'x-a', '4'] }],
  ['user-agent spelt twice: the first', { headers: ['user-agent', 'one', 'User-Agent', 'two', 'user-agent', 'three'] }],
  ['names objects reorder (array indexes) and names they do not', { headers: ['b', '1', '10', 'x', '2', 'y', '01', 'z', '4294967295', 'w', '4294967294', 'v'] }],
  ['__proto__, constructor and escapes', { headers: ['__proto__', 'p', 'constructor', 'c', 'x-q', 'a"b\\c\u0001\u2028é😀', 'x-lone', '\ud800'] }],
  ['an odd header list', { headers: ['x-a', '1', 'x-b'] }],
  ['tabs, DEL, quotes, backslashes and Latin-1 in names, values, the source IP and the path', { headers: ['x-t', 'a\tb', 'x-"q"', 'v\u007f', 'x-\\', '\u00ff', 'User-Agent', 'ua "quoted"\n'], sourceIp: '1"2', path: '/p\\q"', requestId: 'r\u0000' }],
  ['a query with repeats, empty values, a "+" and an index name', { query: 'a=1&b=&a=2&c+d=e+f&3=x&%C3%A9=%F0%9F%98%80' }],
  ['a query of only separators', { query: '&&' }],
  ['a binary body', { isBinary: true, body: new Uint8Array([0, 1, 2, 255]) }],
  ['an empty body', { body: new Uint8Array(0) }],
  ['an authorizer and an identity', { authorizer: { principalId: 'u', claims: { sub: 'x', n: 1 }, n: 2, b: true }, identity: { apiKey: 'k', apiKeyId: 'kid', user: 'me' } }],
  ['a domain without a dot', { domainName: 'localhost' }],
  ['lone surrogates in a header value and the body', { headers: ['x-lone', 'a\ud800', 'x-b', '\udc00b'], body: null, path: '/p\udfff' }],
  ['path parameters with an index name', { pathParameters: { b: '1', 7: 'seven', a: '%2B' } as Record<string, string> }],
]

t.test('the event written directly is JSON.stringify of the built event, byte for byte', async (t) => {
  for (const [what, edit] of variants) {
    const input = { ...guide, ...edit }
    t.equal(proxyEventJson(input), JSON.stringify(buildProxyEvent(input)), what)
  }
  t.equal(new TextDecoder().decode(encodeProxyEvent(guide)), JSON.stringify(buildProxyEvent(guide)), 'encodeProxyEvent sends it')
})

// The packed event (src/functions/packed-event.ts) a local instance builds its event from: the
// handler must get JSON.parse of the event's JSON, key for key, in order (the text crosses as a
// string, lone surrogates and all); what packing cannot carry goes as JSON (null).
t.test('the packed event unpacks to JSON.parse of the event JSON, key for key and in order; the rest goes as JSON', async (t) => {
  const asJson = new Set(['names objects reorder (array indexes) and names they do not', '__proto__, constructor and escapes', 'an odd header list',
    'a query with repeats, empty values, a "+" and an index name', 'an authorizer and an identity'])
  const dec = new TextDecoder()
  for (const [what, edit] of variants) {
    const input = { ...guide, ...edit }
    const text = packProxyEvent(input)
    if (asJson.has(what)) {
      t.equal(text, null, `${what}: as JSON`)
      continue
    }
    t.type(text, 'string', `${what}: packed`)
    const event = unpackProxyEvent(text!)
    const json = proxyEventJson(input)
    t.equal(JSON.stringify(event), json, `${what}: the same JSON`)
    t.strictSame(event, JSON.parse(json), `${what}: the same object`)
  }
  t.equal(packProxyEvent({ ...guide, query: '__proto__=1' }), null, 'so does a __proto__ query name')
  t.equal(packProxyEvent({ ...guide, stageVariables: JSON.parse('{"__proto__": "x"}') }), null, 'and a __proto__ stage variable')
  const packed = new PackedProxyEvent(packProxyEvent(guide)!, guide)
  t.equal(dec.decode(packed.json()), proxyEventJson(guide), 'the JSON form, for the host and remote functions')
})
