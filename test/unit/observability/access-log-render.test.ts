// Access log lines are rendered as bytes into a reused buffer (observability/access-log.ts):
// the line must be what the format says, byte for byte — numbers, "-" for absent values,
// UTF-8 for values that are not ASCII, and a buffer that grows for a long value.
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { normalizeApi } from '../../../src/config/normalize.js'
import { DEFAULT_ACCESS } from '../../../src/config/model.js'
import { parseStageSettings } from '../../../src/config/stage-settings.js'
import { compileGateway, type CompiledGateway } from '../../../src/pipeline/compile.js'
import { handleRequest } from '../../../src/pipeline/handle-request.js'
import { installMappingEngine } from '../../../src/mapping/install-engine.js'
import { closeLogWriters, writerFor } from '../../../src/observability/log-writer.js'
import { observeQueued } from '../../../src/observability/observe.js'
import type { ConfigProblem } from '../../../src/errors.js'
import type { ReplyRecord, RequestRecord } from '../../../src/pool/protocol.js'
import { gatewaySource } from '../../helpers/sources.js'

/** Replies are observed once the turn that sent them ends (observe.ts): their lines are queued then. */
const replyTurnEnds = () => new Promise<void>((resolve) => setImmediate(resolve))

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
  await replyTurnEnds()
  await closeLogWriters(2000)
  t.equal(readFileSync(file, 'utf8'), [
    `${ids[0]}|GET|/pets/{id}|/prod/pets/7|200|8|${receivedAt}|25/Nov/2026:13:53:06 +0000|Navigateur/1.0 (café ☕)|-|-|prod`,
    `${ids[1]}|GET|-|/prod/nope|403|42|${receivedAt}|25/Nov/2026:13:53:06 +0000|${long}|-|MISSING_AUTHENTICATION_TOKEN|prod`,
  ].join('\n') + '\n')
})

/** A gateway with one MOCK method, GET /prod/a, whose stage logs `format` to `file` (its config problems asserted empty). */
function mockGateway(t: Test, format: string, file: string, accountId?: string): CompiledGateway {
  const problems: ConfigProblem[] = []
  const settings = parseStageSettings({ accessLogSettings: { format, destination: file } }, 'gw.json', '/stages/prod', problems)
  const api = normalizeApi({
    openapi: '3.0.1',
    info: { title: 'render', version: '1' },
    paths: { '/a': { get: { 'x-amazon-apigateway-integration': { type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200' } } } } } },
  }, { file: 'render.json', id: 'renderapi', basePath: '', stages: [{ name: 'prod', variables: {}, settings }] }, problems)!
  const gateway = compileGateway(gatewaySource({ apis: [api], access: DEFAULT_ACCESS, ...(accountId === undefined ? {} : { accountId }) }), problems)
  installMappingEngine(gateway)
  t.strictSame(problems.filter((p) => p.severity === 'error'), [])
  return gateway
}

// $context.accountId is the gateway config's accountId (the default without one), as in mapping
// templates and the Lambda event; $context.domainPrefix is the host's first label, the whole host
// without a dot, "-" without a Host header.
t.test('accountId follows the config; domainPrefix is the first label of the host', async (t) => {
  const lines: string[] = []
  for (const accountId of [undefined, '210987654321']) {
    const file = join(t.testdir(), `access-${accountId ?? 'default'}.log`)
    const gateway = mockGateway(t, '$context.requestId $context.accountId $context.domainName $context.domainPrefix', file, accountId)
    let id = 0
    for (const headers of [['host', 'abc123.execute-api.us-east-1.amazonaws.com'], ['host', 'localhost'], []]) {
      const req: RequestRecord = { id: ++id, method: 'GET', url: '/prod/a', query: '', headers, remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.now() }
      handleRequest(gateway, req, { reply: () => {} })
    }
    await replyTurnEnds()
    await closeLogWriters(2000)
    // Each line starts with the request id the format must hold; the rest is compared.
    lines.push(readFileSync(file, 'utf8').replace(/^\S+ /gm, ''))
  }
  t.strictSame(lines, [
    '123456789012 abc123.execute-api.us-east-1.amazonaws.com abc123\n123456789012 localhost localhost\n123456789012 - -\n',
    '210987654321 abc123.execute-api.us-east-1.amazonaws.com abc123\n210987654321 localhost localhost\n210987654321 - -\n',
  ])
})

// Lines are rendered straight into the writer's chunk when it has room (observe.ts
// writeAccessLog); one that outgrows the room is finished in the renderer's own buffer and
// copied in, and a chunk left with too little room is followed by a new one. Lengths from a
// few bytes to past a 64 KB chunk, in an order that lands lines on every chunk boundary.
t.test('lines of every length around the chunk and room boundaries come out whole and in order', async (t) => {
  const file = join(t.testdir(), 'access.log')
  const gateway = mockGateway(t, '$context.requestId "$context.identity.userAgent" $context.status', file)
  const expected: string[] = []
  let seed = 7
  const lengths: number[] = []
  for (let i = 0; i < 1500; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    lengths.push(i === 700 ? 70_000 : i % 97 === 0 ? 400 + (seed % 800) : 1 + (seed % 300))
  }
  for (let i = 0; i < lengths.length; i++) {
    // Some agents carry non-ASCII text, encoded as UTF-8 wherever the line lands.
    const agent = (i % 5 === 0 ? 'é☕' : '') + 'x'.repeat(lengths[i]!)
    const req: RequestRecord = { id: i + 1, method: 'GET', url: '/prod/a', query: '', headers: ['user-agent', agent], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.now() }
    const ctx = handleRequest(gateway, req, { reply: () => {} })
    expected.push(`${ctx.requestId} "${agent}" 200`)
  }
  await replyTurnEnds()
  await closeLogWriters(5000)
  const got = readFileSync(file, 'utf8').split('\n')
  t.equal(got.pop(), '', 'the file ends with a newline')
  t.equal(got.length, expected.length)
  const bad = got.findIndex((l, i) => l !== expected[i])
  t.equal(bad, -1, 'every line whole, in order')
  if (bad >= 0) t.comment(bad, lengths[bad], JSON.stringify(got[bad]!.slice(0, 200)), JSON.stringify(expected[bad]!.slice(0, 200)), got[bad]!.length, expected[bad]!.length)
})

// Replies are observed once the turn that sent them ends (observe.ts: observed one by one, each
// ran ~3× slower, straight after its reply's socket write); a scrape and the flush on stop
// observe what is queued first. The latency is the one at the reply, not at the drain.
t.test('a reply is observed when its turn ends, or at once when observeQueued runs; its latency is taken at the reply', async (t) => {
  const file = join(t.testdir(), 'access.log')
  const gateway = mockGateway(t, '$context.requestId $context.responseLatency $context.status', file)
  const writer = writerFor(file)
  const ids: string[] = []
  const receivedAt = Date.now()
  for (let i = 1; i <= 3; i++) {
    const req: RequestRecord = { id: i, method: 'GET', url: '/prod/a', query: '', headers: [], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt }
    ids.push(handleRequest(gateway, req, { reply: () => {} }).requestId)
  }
  const replied = Date.now()
  t.equal(writer.pendingLines, 0, 'no line while the turn that replied runs')
  const until = replied + 40
  while (Date.now() < until) {} // the drain comes 40 ms after the replies
  observeQueued()
  t.equal(writer.pendingLines, 3, 'observeQueued queues every reply of the turn')
  observeQueued()
  t.equal(writer.pendingLines, 3, 'and each once')
  // A reply of the next turn is queued when that turn ends.
  const next: RequestRecord = { id: 4, method: 'GET', url: '/prod/a', query: '', headers: [], remoteAddress: '127.0.0.1', body: null, bodyTooLarge: false, receivedAt: Date.now() }
  ids.push(handleRequest(gateway, next, { reply: () => {} }).requestId)
  await replyTurnEnds()
  t.equal(writer.pendingLines, 4)
  await closeLogWriters(2000)
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.split(' '))
  t.strictSame(lines.map((l) => l[0]), ids)
  t.strictSame(lines.map((l) => l[2]), ['200', '200', '200', '200'])
  const bound = replied - receivedAt
  t.ok(lines.slice(0, 3).every((l) => Number(l[1]) <= bound), `latencies ${lines.slice(0, 3).map((l) => l[1]).join(', ')} are those at the reply (≤ ${bound} ms), not at the drain 40 ms later`)
})
