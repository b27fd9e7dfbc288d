// The gateway config's accountId, region, vpcLinks, endpoints and roles (AWS service
// integrations): read at load, every problem with file, JSON pointer and reason, and no
// secret value in any message.
import t from 'tap'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { envCredentials, loadGateway } from '../../../src/config/load.js'
import { ConfigError, formatProblem } from '../../../src/errors.js'

const API = { openapi: '3.0.1', info: { title: 'a', version: '1' }, paths: {} }

function load(dir: string, config: object) {
  writeFileSync(join(dir, 'api.json'), JSON.stringify(API))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({ ...config, apis: [{ file: 'api.json' }] }))
  return loadGateway({ apiFiles: [], configFile: join(dir, 'backplane.json') })
}

t.test('defaults: no account (the URI\'s, else 123456789012), us-east-1, no links, endpoints or roles', async (t) => {
  const g = load(t.testdir(), {}).gateway
  t.equal(g.accountId, undefined)
  t.equal(g.region, 'us-east-1')
  t.strictSame(g.vpcLinks, {})
  t.strictSame(g.aws?.endpoints, {})
  t.strictSame(g.aws?.roles, {})
})

t.test('roles resolve ${env:NAME}; an unset variable is named, never its neighbours\' values', async (t) => {
  process.env['BP_TEST_KEY'] = 'AKIDTEST'
  process.env['BP_TEST_SECRET'] = 'very-secret-value'
  t.teardown(() => { delete process.env['BP_TEST_KEY']; delete process.env['BP_TEST_SECRET'] })
  const role = 'arn:aws:iam::123456789012:role/r'
  const g = load(t.testdir(), { accountId: '111111111111', region: 'eu-west-1', endpoints: { dynamodb: 'http://127.0.0.1:8000' }, roles: { [role]: { accessKeyId: '${env:BP_TEST_KEY}', secretAccessKey: '${env:BP_TEST_SECRET}' } } }).gateway
  t.equal(g.accountId, '111111111111')
  t.equal(g.region, 'eu-west-1')
  t.strictSame(g.aws?.endpoints, { dynamodb: 'http://127.0.0.1:8000' })
  t.strictSame(g.aws?.roles[role], { accessKeyId: 'AKIDTEST', secretAccessKey: 'very-secret-value' })
  try {
    load(t.testdir(), { roles: { [role]: { accessKeyId: '${env:BP_TEST_KEY}', secretAccessKey: '${env:BP_UNSET_SECRET}' } } })
    t.fail('should refuse')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    const lines = (err as ConfigError).problems.map(formatProblem)
    t.match(lines, [/\/roles\/arn:aws:iam::123456789012:role~1r\/secretAccessKey: environment variable BP_UNSET_SECRET is not set/])
    t.notMatch(lines.join('\n'), 'AKIDTEST')
  }
})

t.test('bad values are refused with their pointer', async (t) => {
  try {
    load(t.testdir(), { accountId: '12', region: 'moon', vpcLinks: { l: 'ftp://x' }, endpoints: { sqs: 'nope' }, roles: { 'not-an-arn': { accessKeyId: 'a', secretAccessKey: 'b', extra: 1 } } })
    t.fail('should refuse')
  } catch (err) {
    const lines = (err as ConfigError).problems.map(formatProblem).map((l) => l.slice(l.indexOf(': ') + 2))
    t.match(lines, [
      /^\/vpcLinks\/l: VPC link l: the target must be an origin/,
      /^\/endpoints\/sqs: endpoint of sqs: must be an origin/,
      /^\/roles\/not-an-arn: must be an IAM role ARN/,
      /^\/roles\/not-an-arn\/extra: unknown credentials field "extra"/,
      // The account section (config/access.ts) is read after the APIs it names.
      /^\/region: must be an AWS region name/,
      /^\/accountId: must be a 12-digit AWS account id/,
    ])
  }
})

t.test('the standard environment credentials, when both are set', async (t) => {
  t.equal(envCredentials({}), null)
  t.equal(envCredentials({ AWS_ACCESS_KEY_ID: 'a' }), null)
  t.strictSame(envCredentials({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }), { accessKeyId: 'a', secretAccessKey: 'b' })
  t.strictSame(envCredentials({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c' }), { accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 'c' })
})
