// IAM policy evaluation (IAM User Guide, "Policy evaluation logic": an explicit Deny
// overrides any Allow; without an Allow the request is implicitly denied) as API Gateway
// applies it to execute-api:Invoke ("Control access to an API with IAM permissions";
// "Output from an API Gateway Lambda authorizer").
import t from 'tap'
import { compilePolicy, evaluatePolicy, methodArn, type PolicyError, type PolicyRequest } from '../../../../src/method-request/authorization/policy.js'

const arn = methodArn('us-east-1', '123456789012', 'abc123', 'prod', 'GET', '/pets/1')
const req = (over: Partial<PolicyRequest> = {}): PolicyRequest => ({ action: 'execute-api:Invoke', resource: arn, principalArn: null, conditionKeys: {}, ...over })
const compile = (doc: unknown) => {
  const errors: PolicyError[] = []
  const p = compilePolicy(doc, '', errors)
  if (p === null) throw new Error(errors.map((e) => `${e.pointer}: ${e.message}`).join('; '))
  return p
}

t.test('methodArn is arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}', async (t) => {
  t.equal(arn, 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/1')
})

t.test('Allow with * and ? wildcards, explicit Deny wins, nothing matching is NONE', async (t) => {
  const allow = compile({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:abc123/prod/GET/*' }] })
  t.equal(evaluatePolicy(allow, req()), 'ALLOW')
  t.equal(evaluatePolicy(allow, req({ resource: arn.replace('/GET/', '/POST/') })), 'NONE')
  const q = compile({ Statement: { Effect: 'Allow', Action: 'execute-api:*', Resource: 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/?' } })
  t.equal(evaluatePolicy(q, req()), 'ALLOW')
  t.equal(evaluatePolicy(q, req({ resource: arn + '0' })), 'NONE')
  const both = compile({ Statement: [
    { Effect: 'Allow', Action: '*', Resource: '*' },
    { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:abc123/*/GET/pets/*' },
  ] })
  t.equal(evaluatePolicy(both, req()), 'DENY')
})

t.test('NotResource and NotAction invert the match', async (t) => {
  const p = compile({ Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', NotResource: 'arn:aws:execute-api:*:*:abc123/prod/DELETE/*' }] })
  t.equal(evaluatePolicy(p, req()), 'ALLOW')
  t.equal(evaluatePolicy(p, req({ resource: arn.replace('/GET/', '/DELETE/') })), 'NONE')
  const na = compile({ Statement: [{ Effect: 'Deny', NotAction: 'execute-api:Invoke', Resource: '*' }] })
  t.equal(evaluatePolicy(na, req()), 'NONE')
})

t.test('aws:SourceIp conditions with CIDR blocks; absent keys per IAM', async (t) => {
  const p = compile({ Statement: [
    { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' },
    { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1'] } } },
  ] })
  t.equal(evaluatePolicy(p, req({ conditionKeys: { 'aws:sourceip': '127.0.0.1' } })), 'ALLOW')
  t.equal(evaluatePolicy(p, req({ conditionKeys: { 'aws:sourceip': '::ffff:127.0.0.9' } })), 'ALLOW')
  t.equal(evaluatePolicy(p, req({ conditionKeys: { 'aws:sourceip': '10.1.2.3' } })), 'DENY')
  // A negated operator on an absent key is true: the Deny applies.
  t.equal(evaluatePolicy(p, req()), 'DENY')
})

t.test('Principal names an account or an ARN; an anonymous caller matches only "*"', async (t) => {
  const p = compile({ Statement: [{ Effect: 'Allow', Principal: { AWS: ['123456789012'] }, Action: 'execute-api:Invoke', Resource: '*' }] })
  t.equal(evaluatePolicy(p, req({ principalArn: 'arn:aws:iam::123456789012:user/alice' })), 'ALLOW')
  t.equal(evaluatePolicy(p, req({ principalArn: 'arn:aws:iam::999999999999:user/bob' })), 'NONE')
  t.equal(evaluatePolicy(p, req()), 'NONE')
})

t.test('a policy the gateway cannot evaluate is refused, with pointers', async (t) => {
  const errors: PolicyError[] = []
  t.equal(compilePolicy({ Statement: [{ Effect: 'Maybe', Action: 'x', Resource: '*' }, { Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }] }, '/x-amazon-apigateway-policy', errors), null)
  t.strictSame(errors, [
    { pointer: '/x-amazon-apigateway-policy/Statement/0/Effect', message: 'Effect must be "Allow" or "Deny"' },
    { pointer: '/x-amazon-apigateway-policy/Statement/1/Condition/DateGreaterThan', message: 'condition operator DateGreaterThan is not supported' },
  ])
})
