// combineWithResourcePolicy against the developer guide's "How API Gateway resource policies
// affect authorization workflow" (Table A: API owner's account, Table B: cross-account;
// Cognito and resource-policy-only need the resource policy's explicit Allow; a Lambda
// authorizer's explicit Deny is checked before the authorizer runs), and the compile step.
import t from 'tap'
import { normalizeApi } from '../../../../src/config/normalize.js'
import { DEFAULT_ACCESS } from '../../../../src/config/model.js'
import { compileGateway } from '../../../../src/pipeline/compile.js'
import { RequestContext } from '../../../../src/pipeline/context.js'
import type { ReplyRecord } from '../../../../src/pool/protocol.js'
import type { ConfigProblem } from '../../../../src/errors.js'
import type { PolicyDecision } from '../../../../src/method-request/authorization/policy.js'
import { AuthorizationKind, checkResourcePolicyDeny, combineWithResourcePolicy, compileResourcePolicy } from '../../../../src/method-request/authorization/resource-policy.js'
import { stageSource, gatewaySource } from '../../../helpers/sources.js'

const mock = { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } }

function apiWith(policy: unknown) {
  const problems: ConfigProblem[] = []
  const api = normalizeApi({ openapi: '3.0.1', info: { title: 'rp', version: '1' }, 'x-amazon-apigateway-policy': policy, paths: { '/p': { get: { 'x-amazon-apigateway-integration': mock } } } }, { file: 'rp.json', id: 'rpapi', basePath: '', stages: [stageSource('prod')] }, problems)!
  return { api, problems }
}

const ARN = 'arn:aws:execute-api:us-east-1:123456789012:rpapi/prod/GET/p'
const SAME = 'arn:aws:iam::123456789012:user/alice'
const OTHER = 'arn:aws:iam::210987654321:user/carol'
const policies = {
  ALLOW: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }] },
  DENY: { Statement: [{ Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }] },
  NONE: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/other/*' }] },
}

/** Runs the combination for GET /prod/p and returns the reply (null when the request may go on). */
function outcome(resource: keyof typeof policies | null, kind: AuthorizationKind, decision: PolicyDecision, principal: string | null): { status: number, message: string } | null {
  const { api } = apiWith(resource === null ? null : policies[resource])
  const problems: ConfigProblem[] = []
  const gw = compileGateway(gatewaySource({ apis: [api], access: DEFAULT_ACCESS }), problems)
  const rp = compileResourcePolicy(api, DEFAULT_ACCESS, problems)
  const replies: ReplyRecord[] = []
  const ctx = new RequestContext({ id: 1, method: 'GET', url: '/prod/p', query: '', headers: [], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: 0 }, { reply: (r) => replies.push(r) })
  ctx.api = gw.apis[0]!
  ctx.stage = ctx.api.stages.get('prod')!
  ctx.path = '/p'
  const go = combineWithResourcePolicy(ctx, rp, kind, decision, principal, ARN)
  if (go) return replies.length === 0 ? null : { status: -1, message: 'replied and continued' }
  const body = JSON.parse(new TextDecoder().decode(replies[0]!.body!))
  t.strictSame(Object.keys(body), ['Message'], 'the uncustomized body is {"Message":…}')
  return { status: replies[0]!.status, message: body.Message }
}

const explicit = (who: string) => `User: ${who} is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny`
const implicit = (who: string) => `User: ${who} is not authorized to perform: execute-api:Invoke on resource: ${ARN}`

t.test('resource policy only: an explicit Allow is needed', async (t) => {
  t.equal(outcome('ALLOW', AuthorizationKind.None, 'NONE', null), null)
  t.strictSame(outcome('NONE', AuthorizationKind.None, 'NONE', null), { status: 403, message: implicit('anonymous') })
  t.strictSame(outcome('DENY', AuthorizationKind.None, 'NONE', null), { status: 403, message: explicit('anonymous') })
  t.equal(outcome(null, AuthorizationKind.None, 'NONE', null), null, 'no resource policy: nothing to check')
})

t.test('IAM, same account: Table A', async (t) => {
  t.equal(outcome('ALLOW', AuthorizationKind.Iam, 'ALLOW', SAME), null)
  t.equal(outcome('ALLOW', AuthorizationKind.Iam, 'NONE', SAME), null)
  t.strictSame(outcome('ALLOW', AuthorizationKind.Iam, 'DENY', SAME), { status: 403, message: explicit(SAME) })
  t.equal(outcome('NONE', AuthorizationKind.Iam, 'ALLOW', SAME), null)
  t.strictSame(outcome('NONE', AuthorizationKind.Iam, 'NONE', SAME), { status: 403, message: `${implicit(SAME)} because no identity-based policy allows the execute-api:Invoke action` })
  t.strictSame(outcome('NONE', AuthorizationKind.Iam, 'DENY', SAME), { status: 403, message: explicit(SAME) })
  for (const d of ['ALLOW', 'NONE', 'DENY'] as const) t.strictSame(outcome('DENY', AuthorizationKind.Iam, d, SAME), { status: 403, message: explicit(SAME) }, `resource Deny, identity ${d}`)
  t.equal(outcome(null, AuthorizationKind.Iam, 'ALLOW', SAME), null, 'no resource policy: the identity policy decides')
  t.strictSame(outcome(null, AuthorizationKind.Iam, 'NONE', SAME), { status: 403, message: `${implicit(SAME)} because no identity-based policy allows the execute-api:Invoke action` })
})

t.test('IAM, another account: Table B', async (t) => {
  t.equal(outcome('ALLOW', AuthorizationKind.Iam, 'ALLOW', OTHER), null)
  t.strictSame(outcome('ALLOW', AuthorizationKind.Iam, 'NONE', OTHER), { status: 403, message: `${implicit(OTHER)} because no identity-based policy allows the execute-api:Invoke action` })
  t.strictSame(outcome('NONE', AuthorizationKind.Iam, 'ALLOW', OTHER), { status: 403, message: implicit(OTHER) })
  t.strictSame(outcome('ALLOW', AuthorizationKind.Iam, 'DENY', OTHER), { status: 403, message: explicit(OTHER) })
})

t.test('Cognito: authenticated, then the resource policy must allow', async (t) => {
  t.equal(outcome('ALLOW', AuthorizationKind.Cognito, 'ALLOW', null), null)
  t.strictSame(outcome('NONE', AuthorizationKind.Cognito, 'ALLOW', null), { status: 403, message: implicit('anonymous') })
  t.strictSame(outcome('DENY', AuthorizationKind.Cognito, 'ALLOW', null), { status: 403, message: explicit('anonymous') })
  t.equal(outcome(null, AuthorizationKind.Cognito, 'ALLOW', null), null)
})

t.test('Lambda authorizer: Table A with the authorizer\'s policy', async (t) => {
  t.equal(outcome('ALLOW', AuthorizationKind.LambdaAuthorizer, 'NONE', null), null)
  t.equal(outcome('NONE', AuthorizationKind.LambdaAuthorizer, 'ALLOW', null), null)
  t.strictSame(outcome('NONE', AuthorizationKind.LambdaAuthorizer, 'NONE', null), { status: 403, message: 'User is not authorized to access this resource' })
  t.strictSame(outcome('ALLOW', AuthorizationKind.LambdaAuthorizer, 'DENY', null), { status: 403, message: 'User is not authorized to access this resource with an explicit deny' })
  t.strictSame(outcome('DENY', AuthorizationKind.LambdaAuthorizer, 'ALLOW', null), { status: 403, message: explicit('anonymous') })
  t.strictSame(outcome(null, AuthorizationKind.LambdaAuthorizer, 'DENY', null), { status: 403, message: 'User is not authorized to access this resource with an explicit deny' })
})

t.test('the Lambda authorizer\'s first phase: an explicit Deny answers before the authorizer runs', async (t) => {
  for (const [name, expectGo] of [['DENY', false], ['NONE', true], ['ALLOW', true]] as const) {
    const { api } = apiWith(policies[name])
    const problems: ConfigProblem[] = []
    const gw = compileGateway(gatewaySource({ apis: [api], access: DEFAULT_ACCESS }), problems)
    const replies: ReplyRecord[] = []
    const ctx = new RequestContext({ id: 1, method: 'GET', url: '/prod/p', query: '', headers: [], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: 0 }, { reply: (r) => replies.push(r) })
    ctx.api = gw.apis[0]!
    ctx.stage = ctx.api.stages.get('prod')!
    ctx.path = '/p'
    t.equal(checkResourcePolicyDeny(ctx, compileResourcePolicy(api, DEFAULT_ACCESS, problems)), expectGo, name)
    t.equal(replies.length, expectGo ? 0 : 1)
  }
})

t.test('compile: execute-api:/ expands to the API\'s ARN; what cannot be evaluated is refused with its pointer', async (t) => {
  const { api } = apiWith({ Statement: { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/prod/GET/p', 'arn:aws:execute-api:us-east-1:123456789012:other/*'] } })
  const problems: ConfigProblem[] = []
  t.ok(compileResourcePolicy(api, DEFAULT_ACCESS, problems))
  t.strictSame(problems, [])
  const bad = apiWith({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': 'not-an-ip' } } }, { Effect: 'Maybe' }] }).api
  const p2: ConfigProblem[] = []
  t.equal(compileResourcePolicy(bad, DEFAULT_ACCESS, p2), null)
  t.strictSame(p2.map((p) => `${p.file} ${p.pointer}: ${p.message}`), [
    'rp.json /x-amazon-apigateway-policy/Statement/0/Condition/IpAddress: resource policy: IpAddress: values must be IP addresses or CIDR blocks; the API is refused rather than served without its policy',
    'rp.json /x-amazon-apigateway-policy/Statement/1/Effect: resource policy: Effect must be "Allow" or "Deny"; the API is refused rather than served without its policy',
  ])
})
