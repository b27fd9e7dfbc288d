// Path parameters of the Lambda proxy event: the request path's text, still percent-encoded
// (LocalStack's AWS-validated test_lambda_aws_proxy_integration: "invocation-payload-with-
// path-encoded-email", "-with-trailing-slash", "-with-double-slash").
import t from 'tap'
import { rawPathParameters } from '../../../src/integrations/lambda.js'

t.test('greedy and plain parameters keep the encoding', async (t) => {
  t.strictSame(rawPathParameters('/{proxy+}', '/proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com'), { proxy: 'proxy-value/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com' })
  t.strictSame(rawPathParameters('/pets/{petId}/toys/{toyId}', '/pets/a%20b/toys/7'), { petId: 'a%20b', toyId: '7' })
  t.strictSame(rawPathParameters('/files/{dir}/{rest+}', '/files/x/a/b'), { dir: 'x', rest: 'a/b' })
})

t.test('one trailing slash is dropped; inner empty segments are kept by a greedy parameter', async (t) => {
  t.strictSame(rawPathParameters('/{proxy+}', '/proxy-value/'), { proxy: 'proxy-value' })
  t.strictSame(rawPathParameters('/{proxy+}', '/proxy-value//double-slash'), { proxy: 'proxy-value//double-slash' })
  t.strictSame(rawPathParameters('/pets/{id}', '/pets/1/'), { id: '1' })
})

t.test('a resource without parameters has none (null, as the event says)', async (t) => {
  t.equal(rawPathParameters('/pets', '/pets'), null)
  t.equal(rawPathParameters('/', '/'), null)
})
