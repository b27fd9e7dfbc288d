// AWS service integration URIs as the guide's "Set up an integration request" writes them:
// arn:aws:apigateway:{region}:{subdomain.}{service}:action/{Action} and :path/{path}.
import t from 'tap'
import { defaultEndpoint, parseAwsServiceUri, signingNameOf } from '../../../src/integrations/aws-service/uri.js'

t.test('action/ URIs name the Action, with optional &Name=Value pairs', async (t) => {
  t.strictSame(parseAwsServiceUri('arn:aws:apigateway:us-east-1:dynamodb:action/PutItem'), { region: 'us-east-1', service: 'dynamodb', subdomain: null, kind: 'action', target: 'PutItem', extraQuery: '' })
  t.strictSame(parseAwsServiceUri('arn:aws:apigateway:us-west-2:s3:action/GetObject&Bucket={bucket}&Key={key}'), { region: 'us-west-2', service: 's3', subdomain: null, kind: 'action', target: 'GetObject', extraQuery: 'Bucket={bucket}&Key={key}' })
})

t.test('path/ URIs keep the path, a subdomain before the service is kept apart', async (t) => {
  t.strictSame(parseAwsServiceUri('arn:aws:apigateway:eu-west-1:sqs:path/123456789012/orders'), { region: 'eu-west-1', service: 'sqs', subdomain: null, kind: 'path', target: '123456789012/orders', extraQuery: '' })
  const s3 = parseAwsServiceUri('arn:aws:apigateway:us-east-1:my-bucket.s3:path/{key}')!
  t.equal(s3.subdomain, 'my-bucket')
  t.equal(defaultEndpoint(s3), 'https://my-bucket.s3.us-east-1.amazonaws.com')
})

t.test('anything else is not an AWS service URI', async (t) => {
  t.equal(parseAwsServiceUri('arn:aws:apigateway:us-east-1:dynamodb:PutItem'), null)
  t.equal(parseAwsServiceUri('arn:aws:apigateway:us-east-1:dynamodb:action/Put Item'), null)
  t.equal(parseAwsServiceUri('http://example.com/'), null)
})

t.test('signing names: the endpoint prefix, except where SigV4 uses another', async (t) => {
  t.equal(signingNameOf('dynamodb'), 'dynamodb')
  t.equal(signingNameOf('email'), 'ses')
})
