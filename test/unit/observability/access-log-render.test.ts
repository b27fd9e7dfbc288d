// Access log lines are rendered as bytes into a reused buffer (observability/access-log.ts):
// the line must be what the format says, byte for byte — numbers, "-" for absent values,
// UTF-8 for values that are not ASCII, and a buffer that grows for a long value.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { normalizeApi } from '../../../src/config/normalize.js'
import { DEFAULT_ACCESS } from '../../../src/config/model.js'
import { parseStageSettings } from '../../../src/config/stage-settings.js'
import { compileGateway } from '../../../src/pipeline/compile.js'
import { handleRequest } from '../../../src/pipeline/handle-request.js'
import { installMappingEngine } from '../../../src/mapping/install-engine.js'
import { closeLogWriters } from '../../../src/observability/log-writer.js'
import type { ConfigProblem } from '../../../src/errors.js'
import type { ReplyRecord, RequestRecord } from '../../../src/pool/protocol.js'
import { gatewaySource } from '../../helpers/sources.js'

t.test('a line of numbers, ids, absent values and a UTF-8 user agent; a long value grows the buffer', async (t) => {
  const file = join(t.testdir(), 'access.log')
  const problems: ConfigProblem[] = []
  const format = '$context.requestId|$context.httpMethod|$context.resourcePath|$context.path|$context.status|$context.responseLength|$context.requestTimeEpoch|$context.requestTime|$context.identity.userAgent|$context.integrationLatency|$context.error.responseType|$context.stage'
  const settings = parseStageSettings({ accessLogSettings: { format, destination: file } }, 'gw.json', '/stages/prod', problems)
  const api = normalizeApi({
    openapi: '3.0.1',
    info: { title: 'render', version: '1' },
    paths: { '/pets/{id}': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': '{"ok":1}' } } } } } } },
  }, { file: 'render.json', id: 'renderapi', basePath: '', stages: [{ name: 'prod', variables: {}, settings }] }, problems)!
  const gateway = compileGateway(gatewaySource({ apis: [api], access: DEFAULT_ACCESS }), problems)
  installMappingEngine(gateway)
  t.strictSame(problems.filter((p) => p.severity === 'error'), [])
  const receivedAt = Date.UTC(2026, 10, 25, 13, 53, 6, 789)
  const ids: string[] = []
  const run = (url: string, agent: string): void => {
    const replies: ReplyRecord[] = []
    const req: RequestRecord = { id: ids.length + 1, method: 'GET', url, query: '', headers: ['user-agent', agent], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt }
    const ctx = handleRequest(gateway, req, { reply: (r) => replies.push(r) })
    ids.push(ctx.requestId)
  }
  const long = 'agent-'.repeat(2000)
  run('/prod/pets/7', 'Navigateur/1.0 (café ☕)')
  run('/prod/nope', long)
  await closeLogWriters(2000)
  t.equal(readFileSync(file, 'utf8'), [
    `${ids[0]}|GET|/pets/{id}|/prod/pets/7|200|8|${receivedAt}|25/Nov/2026:13:53:06 +0000|Navigateur/1.0 (café ☕)|-|-|prod`,
    `${ids[1]}|GET|-|/prod/nope|403|42|${receivedAt}|25/Nov/2026:13:53:06 +0000|${long}|-|MISSING_AUTHENTICATION_TOKEN|prod`,
  ].join('\n') + '\n')
})
