// AWS service integrations (type: aws): requests rendered by the integration request, sent
// to the service endpoint (overridden per service in the gateway config) signed with
// Signature Version 4, answered through the integration responses. The services are
// loopback stand-ins that verify the signature with @smithy/signature-v4 and answer as
// the DynamoDB and SQS API references document (test/fixtures/aws/fake-services.ts).
// Recorded cases: LocalStack's AWS-validated test_apigateway_dynamodb.snapshot.json
// (test_rest_api_to_dynamodb_integration[Query], test_error_aws_proxy_not_supported) and
// test_apigateway_sqs.snapshot.json (test_sqs_aws_integration).
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { startGateway, request, REPO_ROOT } from '../helpers/index.js'
import { TEST_CREDENTIALS, startFakeDynamoDb, startFakeService, startFakeSqs } from '../fixtures/aws/fake-services.js'

const ROLE = 'arn:aws:iam::123456789012:role/items-api'

t.test('the examples/dynamodb-crud API against DynamoDB', async (t) => {
  const ddb = await startFakeDynamoDb({ Items: 'id' })
  t.teardown(() => ddb.close())
  const dir = t.testdir()
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    endpoints: { dynamodb: ddb.url },
    roles: { [ROLE]: { accessKeyId: '${env:ITEMS_KEY_ID}', secretAccessKey: '${env:ITEMS_SECRET}' } },
    apis: [{ file: join(REPO_ROOT, 'examples', 'dynamodb-crud', 'api.yaml'), id: 'items', stages: { dev: {} } }],
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')], env: { ITEMS_KEY_ID: TEST_CREDENTIALS.accessKeyId, ITEMS_SECRET: TEST_CREDENTIALS.secretAccessKey } })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/dev/items`

  t.test('PUT stores the item with a signed PutItem call', async (t) => {
    const res = await request(`${base}/a1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name": "apple \\"red\\""}' })
    t.equal(res.status, 200)
    t.strictSame(res.json(), { id: 'a1', stored: true })
    t.equal(res.headers['content-type'], 'application/json')
    t.match(res.headers['x-amzn-trace-id'], /^Root=1-/)
    const call = ddb.requests[ddb.requests.length - 1]!
    t.equal(call.signatureOk, true, 'SigV4 verified with the same library and the role\'s secret')
    t.equal(call.method, 'POST')
    t.equal(call.url, '/?Action=PutItem')
    t.equal(call.headers['x-amz-target'], 'DynamoDB_20120810.PutItem')
    t.equal(call.headers['content-type'], 'application/x-amz-json-1.0')
    t.equal(call.headers.host, ddb.url.slice('http://'.length))
    t.match(call.headers.authorization, new RegExp(`^AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/\\d{8}/us-east-1/dynamodb/aws4_request, `))
    t.strictSame(ddb.items.get('Items')!.get('a1'), { id: { S: 'a1' }, name: { S: 'apple "red"' } })
  })

  t.test('GET reads it back (GetItem), GET /items lists (Scan)', async (t) => {
    const one = await request(`${base}/a1`)
    t.equal(one.status, 200)
    t.strictSame(one.json(), { id: 'a1', name: 'apple "red"' })
    await request(`${base}/b2`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name": "banana"}' })
    const all = await request(base)
    t.equal(all.status, 200)
    t.strictSame(all.json(), [{ id: 'a1', name: 'apple "red"' }, { id: 'b2', name: 'banana' }])
  })

  t.test('GET of a missing item answers 404 (the response template overrides the status)', async (t) => {
    const res = await request(`${base}/nope`)
    t.equal(res.status, 404)
    t.strictSame(res.json(), { message: 'no item nope' })
  })

  t.test('PUT without a name is refused by the request validator before DynamoDB is called', async (t) => {
    const before = ddb.requests.length
    const res = await request(`${base}/c3`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' })
    t.equal(res.status, 400)
    t.equal(ddb.requests.length, before)
  })

  t.test('DELETE removes it (DeleteItem)', async (t) => {
    const res = await request(`${base}/a1`, { method: 'DELETE' })
    t.equal(res.status, 200)
    t.strictSame(res.json(), { id: 'a1', deleted: true })
    t.equal(ddb.items.get('Items')!.has('a1'), false)
    t.equal((await request(`${base}/a1`)).status, 404)
  })

  t.test('no credential reaches the log', async (t) => {
    t.notMatch(gw.output(), TEST_CREDENTIALS.secretAccessKey)
  })
})

t.test('recorded DynamoDB and SQS integrations', async (t) => {
  const ddb = await startFakeDynamoDb({ Recorded: 'id' })
  t.teardown(() => ddb.close())
  const sqs = await startFakeSqs()
  t.teardown(() => sqs.close())
  for (const id of ['test', 'test2', 'test 3']) ddb.items.get('Recorded')!.set(id, { id: { S: id } })
  const dir = t.testdir()
  const ddbAction = (action: string, template: string, responses: object = { default: { statusCode: '200' } }) => ({
    type: 'aws', httpMethod: 'POST', uri: `arn:aws:apigateway:us-east-1:dynamodb:action/${action}`, credentials: ROLE,
    requestTemplates: { 'application/json': template }, responses,
  })
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'recorded', version: '1' },
    paths: {
      // test_rest_api_to_dynamodb_integration[Query]: the recorded template.
      '/query': { post: { 'x-amazon-apigateway-integration': ddbAction('Query', JSON.stringify({ TableName: 'Recorded', KeyConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': { S: "$input.params('id')" } } })) } },
      '/missing-table': { post: { 'x-amazon-apigateway-integration': ddbAction('Scan', '{"TableName": "Nope"}') } },
      '/missing-table-mapped': {
        post: {
          'x-amazon-apigateway-integration': ddbAction('Scan', '{"TableName": "Nope"}', {
            '4\\d{2}': { statusCode: '404', responseTemplates: { 'application/json': '{"error": "$input.path(\'$.__type\')"}' } },
            default: { statusCode: '200' },
          }),
        },
      },
      // test_sqs_aws_integration: path/{account}/{queue}, a form body, a fixed response template.
      '/sqs': {
        post: {
          'x-amazon-apigateway-integration': {
            type: 'aws', httpMethod: 'POST', uri: 'arn:aws:apigateway:us-east-1:sqs:path/123456789012/queue-1', credentials: ROLE,
            requestParameters: { 'integration.request.header.Content-Type': "'application/x-www-form-urlencoded'" },
            requestTemplates: { 'application/json': 'Action=SendMessage&MessageBody=$util.urlEncode($input.body)' },
            passthroughBehavior: 'NEVER',
            responses: { default: { statusCode: '200', responseTemplates: { 'application/json': '{"message": "great success!"}' } } },
          },
        },
      },
      '/no-credentials': { post: { 'x-amazon-apigateway-integration': { ...ddbAction('Scan', '{"TableName": "Recorded"}'), credentials: 'arn:aws:iam::123456789012:role/unknown' } } },
    },
  }))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    endpoints: { dynamodb: ddb.url, sqs: sqs.url },
    roles: { [ROLE]: { ...TEST_CREDENTIALS, sessionToken: 'session-token-1' } },
    apis: [{ file: 'api.json', id: 'rec', stages: { test: {} } }],
  }))
  // No AWS_* credentials in the environment: the unknown role has none to fall back on.
  const env: Record<string, string> = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')], env })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/test`

  t.test('"result-test" ... "result-invalid": Query answers the service\'s JSON, as application/json', async (t) => {
    for (const id of ['test', 'test2', 'test 3']) {
      const res = await request(`${base}/query?id=${encodeURIComponent(id)}`, { method: 'POST' })
      t.equal(res.status, 200)
      t.strictSame(res.json(), { Count: 1, Items: [{ id: { S: id } }], ScannedCount: 1 })
      t.equal(res.headers['content-type'], 'application/json')
      t.match(res.headers['x-amzn-trace-id'], /^Root=1-/)
    }
    const none = await request(`${base}/query?id=test-invalid`, { method: 'POST' })
    t.strictSame(none.json(), { Count: 0, Items: [], ScannedCount: 0 })
    const call = ddb.requests[ddb.requests.length - 1]!
    t.equal(call.signatureOk, true)
    t.equal(call.headers['x-amz-security-token'], 'session-token-1', 'temporary credentials send their session token')
  })

  t.test('a service error goes through the integration responses: the default one passes it with 200', async (t) => {
    const passed = await request(`${base}/missing-table`, { method: 'POST' })
    t.equal(passed.status, 200)
    t.strictSame(passed.json(), { __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message: 'Requested resource not found' })
    const mapped = await request(`${base}/missing-table-mapped`, { method: 'POST' })
    t.equal(mapped.status, 404)
    t.strictSame(mapped.json(), { error: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException' })
  })

  t.test('"sqs-aws-integration-with-payload": SendMessage through path/{account}/{queue}', async (t) => {
    const res = await request(`${base}/sqs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"foo": "bar"}' })
    t.equal(res.status, 200)
    t.strictSame(res.json(), { message: 'great success!' })
    const call = sqs.requests[sqs.requests.length - 1]!
    t.equal(call.signatureOk, true)
    t.equal(call.url, '/123456789012/queue-1')
    t.equal(call.headers['content-type'], 'application/x-www-form-urlencoded')
    t.strictSame(sqs.messages[sqs.messages.length - 1], { queue: '/123456789012/queue-1', body: '{"foo": "bar"}' })
  })

  t.test('a role without credentials answers 500 Internal server error, naming the role in the log only', async (t) => {
    const res = await request(`${base}/no-credentials`, { method: 'POST' })
    t.equal(res.status, 500)
    t.equal(res.text, '{"message": "Internal server error"}')
    // Worker logs reach the process output a moment later.
    for (let i = 0; i < 40 && !/no credentials for role/.test(gw.output()); i++) await new Promise((r) => setTimeout(r, 50))
    t.match(gw.output(), /no credentials for role arn:aws:iam::123456789012:role\/unknown/)
    t.notMatch(gw.output(), TEST_CREDENTIALS.secretAccessKey)
  })
})

t.test('any service: JSON protocol (Step Functions StartExecution) and query protocol (SNS Publish with query parameters)', async (t) => {
  // Step Functions API reference: POST / with X-Amz-Target AWSStepFunctions.StartExecution,
  // Content-Type application/x-amz-json-1.0, answering {executionArn, startDate}.
  const states = await startFakeService('states', (req, body) => ({
    status: 200,
    contentType: 'application/x-amz-json-1.0',
    body: JSON.stringify({ executionArn: `arn:aws:states:us-east-1:123456789012:execution:m:${JSON.parse(body).name}`, startDate: 1.7e9, target: req.headers['x-amz-target'] }),
  }))
  t.teardown(() => states.close())
  // SNS API reference: Publish with TopicArn and Message as query parameters, an XML PublishResponse.
  const sns = await startFakeService('sns', (req) => {
    const q = new URL(req.url!, 'http://x').searchParams
    return { status: 200, contentType: 'text/xml', body: `<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult><Echo>${q.get('Action')}|${q.get('TopicArn')}|${q.get('Message')}</Echo></PublishResponse>` }
  })
  t.teardown(() => sns.close())
  const dir = t.testdir()
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'any', version: '1' },
    paths: {
      '/start/{name}': {
        post: {
          'x-amazon-apigateway-integration': {
            type: 'aws', httpMethod: 'POST', uri: 'arn:aws:apigateway:us-east-1:states:action/StartExecution', credentials: ROLE,
            requestTemplates: { 'application/json': '{"stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m", "name": "$input.params(\'name\')", "input": "$util.escapeJavaScript($input.body)"}' },
            responses: { default: { statusCode: '200' } },
          },
        },
      },
      '/publish': {
        post: {
          'x-amazon-apigateway-integration': {
            type: 'aws', httpMethod: 'POST', uri: 'arn:aws:apigateway:us-east-1:sns:action/Publish', credentials: ROLE,
            requestParameters: { 'integration.request.querystring.TopicArn': "'arn:aws:sns:us-east-1:123456789012:t'", 'integration.request.querystring.Message': 'method.request.body' },
            responses: { default: { statusCode: '200' } },
          },
        },
      },
    },
  }))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    endpoints: { states: states.url, sns: sns.url },
    roles: { [ROLE]: TEST_CREDENTIALS },
    apis: [{ file: 'api.json', id: 'any', stages: { test: {} } }],
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')] })
  t.teardown(() => gw.stop())

  const started = await request(`${gw.url}/test/start/run-1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' })
  t.equal(started.status, 200)
  t.match(started.json(), { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:run-1', target: 'AWSStepFunctions.StartExecution' })
  const call = states.requests[0]!
  t.equal(call.signatureOk, true)
  t.equal(call.url, '/?Action=StartExecution')
  t.equal(call.headers['content-type'], 'application/x-amz-json-1.0')
  t.strictSame(JSON.parse(call.body), { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:m', name: 'run-1', input: '{"x":1}' })

  const published = await request(`${gw.url}/test/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'hello & bye' })
  t.equal(published.status, 200)
  t.match(published.text, '<Echo>Publish|arn:aws:sns:us-east-1:123456789012:t|hello & bye</Echo>')
  t.equal(published.headers['content-type'], 'application/json', "the service's XML type is not passed (no template maps it)")
  t.equal(sns.requests[0]!.signatureOk, true, 'the query string is signed as sent')
})

t.test('"create-integration-error": an AWS_PROXY integration to anything but Lambda is refused at load', async (t) => {
  const dir = t.testdir()
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'bad', version: '1' },
    paths: { '/q': { post: { 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: 'arn:aws:apigateway:us-east-1:dynamodb:action/Query' } } } },
  }))
  const gw = await startGateway({ args: [join(dir, 'api.json')] }).catch((err: Error) => err)
  t.ok(gw instanceof Error, 'the gateway does not start')
  t.match(String(gw), /Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations/)
})

t.test("credentials arn:aws:iam::*:user/* (the caller's own) is refused at load with the reason", async (t) => {
  const dir = t.testdir()
  writeFileSync(join(dir, 'api.json'), JSON.stringify({
    openapi: '3.0.1',
    info: { title: 'caller', version: '1' },
    paths: { '/q': { post: { 'x-amazon-apigateway-integration': { type: 'aws', httpMethod: 'POST', uri: 'arn:aws:apigateway:us-east-1:dynamodb:action/Scan', credentials: 'arn:aws:iam::*:user/*' } } } },
  }))
  const gw = await startGateway({ args: [join(dir, 'api.json')] }).catch((err: Error) => err)
  t.ok(gw instanceof Error, 'the gateway does not start')
  t.match(String(gw), /needs IAM authorization of the method request, which this gateway does not provide/)
})
