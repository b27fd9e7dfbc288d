import t from 'tap'
import { parseLambdaUri } from '../../../src/functions/arn.js'

const P = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/'

t.test('parses the URI form of the API Gateway developer guide', async (t) => {
  // The guide's example: .../functions/arn:aws:lambda:us-east-1:123456789012:function:SimpleLambda4ProxyResource/invocations
  t.strictSame(parseLambdaUri(P + 'arn:aws:lambda:us-east-1:123456789012:function:SimpleLambda4ProxyResource/invocations'), {
    region: 'us-east-1',
    account: '123456789012',
    functionName: 'SimpleLambda4ProxyResource',
    qualifier: null,
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:SimpleLambda4ProxyResource',
    responseStreaming: false,
  })
})

t.test('keeps an alias or version qualifier, as a stage variable substitution gives it', async (t) => {
  const a = parseLambdaUri(P + 'arn:aws:lambda:us-east-1:123456789012:function:pets:prod/invocations')
  t.match(a, { functionName: 'pets', qualifier: 'prod', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:pets:prod' })
  t.match(parseLambdaUri(P + 'arn:aws:lambda:us-east-1:123456789012:function:pets:7/invocations'), { qualifier: '7' })
  t.match(parseLambdaUri(P + 'arn:aws:lambda:us-east-1:123456789012:function:pets:$LATEST/invocations'), { qualifier: '$LATEST' })
})

t.test('accepts the partial ARN and bare name forms of the Invoke API FunctionName', async (t) => {
  t.match(parseLambdaUri(P + '123456789012:function:pets/invocations'), { account: '123456789012', functionName: 'pets', region: 'us-east-1' })
  t.match(parseLambdaUri(P + 'pets:live/invocations'), { account: null, functionName: 'pets', qualifier: 'live' })
})

t.test('uses the function ARN region and other partitions', async (t) => {
  t.match(parseLambdaUri('arn:aws-cn:apigateway:cn-north-1:lambda:path/2015-03-31/functions/arn:aws-cn:lambda:cn-north-1:123456789012:function:f/invocations'), {
    region: 'cn-north-1',
    functionArn: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:f',
  })
  t.match(parseLambdaUri(P + 'arn:aws:lambda:eu-west-1:123456789012:function:f/invocations'), { region: 'eu-west-1' })
})

t.test('decodes a percent-encoded function ARN', async (t) => {
  t.match(parseLambdaUri(P + 'arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/invocations'), { functionName: 'f', account: '123456789012' })
})

t.test('recognises the response-streaming Invoke API', async (t) => {
  t.match(
    parseLambdaUri('arn:aws:apigateway:us-west-1:lambda:path/2021-11-15/functions/arn:aws:lambda:us-west-1:111122223333:function:my-function-name/response-streaming-invocations'),
    { functionName: 'my-function-name', responseStreaming: true },
  )
})

t.test('returns null for URIs that do not name a Lambda function', async (t) => {
  for (const uri of [
    'https://example.com/pets',
    'arn:aws:apigateway:us-east-1:dynamodb:action/PutItem',
    'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:pets/invocation',
    P + 'arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations',
    P + 'arn:aws:lambda:us-east-1:123456789012:function:/invocations',
    P + 'arn:aws:lambda:us-east-1:123456789012:function:' + 'x'.repeat(65) + '/invocations',
    P + 'arn:aws:lambda:us-east-1:123456789012:function:a:b:c/invocations',
    P + '%E0%A4%A/invocations',
    'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/f/response-streaming-invocations',
  ]) {
    t.equal(parseLambdaUri(uri), null, uri)
  }
})
