// $context.identity for IAM principals, and Cognito claims as API Gateway passes them.
import t from 'tap'
import { accountOfArn, compileCallerIdentity } from '../../../../src/method-request/authorization/identity.js'
import { claimsOf, javaDateText } from '../../../../src/method-request/authorization/cognito.js'

t.test('an IAM user: accessKey, accountId, caller = user (AIDA…), userArn; cognito fields null', async (t) => {
  const id = compileCallerIdentity({ accessKeyId: 'AKID1', secretAccessKey: 's', sessionToken: null, arn: 'arn:aws:iam::123456789012:user/alice', policy: null, pointer: '/credentials/0' })
  t.match(id, { accessKey: 'AKID1', accountId: '123456789012', userArn: 'arn:aws:iam::123456789012:user/alice', cognitoIdentityId: null, cognitoIdentityPoolId: null, cognitoAuthenticationType: null, cognitoAuthenticationProvider: null, principalOrgId: null })
  t.match(id.caller, /^AIDA[A-Z2-7]{17}$/)
  t.equal(id.user, id.caller)
  t.ok(Object.isFrozen(id))
  const again = compileCallerIdentity({ accessKeyId: 'AKID2', secretAccessKey: 's', sessionToken: null, arn: 'arn:aws:iam::123456789012:user/alice', policy: null, pointer: '/credentials/0' })
  t.equal(again.caller, id.caller, 'stable for the same principal')
  const other = compileCallerIdentity({ accessKeyId: 'AKID3', secretAccessKey: 's', sessionToken: null, arn: 'arn:aws:iam::123456789012:user/bob', policy: null, pointer: '/credentials/0' })
  t.not(other.caller, id.caller)
})

t.test('an assumed role: AROA…:session', async (t) => {
  const id = compileCallerIdentity({ accessKeyId: 'ASIA1', secretAccessKey: 's', sessionToken: 't', arn: 'arn:aws:sts::123456789012:assumed-role/Reader/my-session', policy: null, pointer: '/credentials/0' })
  t.match(id.caller, /^AROA[A-Z2-7]{17}:my-session$/)
  t.equal(id.accountId, '123456789012')
  t.equal(accountOfArn('not-an-arn'), null)
})

t.test('claims become strings; exp and iat are Java Date text', async (t) => {
  t.equal(javaDateText(0), 'Thu Jan 01 00:00:00 UTC 1970')
  t.equal(javaDateText(1591274096), 'Thu Jun 04 12:34:56 UTC 2020')
  t.strictSame(claimsOf({ sub: 'x', exp: 0, iat: 1591274096, auth_time: 1591274000, email_verified: true, 'cognito:groups': ['admin', 'users'], nested: { a: 1 } }), {
    sub: 'x', exp: 'Thu Jan 01 00:00:00 UTC 1970', iat: 'Thu Jun 04 12:34:56 UTC 2020', auth_time: '1591274000', email_verified: 'true', 'cognito:groups': 'admin,users', nested: '{"a":1}',
  })
})
