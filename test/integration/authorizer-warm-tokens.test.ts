// A TOKEN authorizer's warm tokens (authorizer-cache.ts WarmTokens): a worker that has read a
// token's cached result answers its repeats from a per-token memo (the key, the checked result,
// ctx.authorizer, and the policy's decision per method and resource path when the policy has no
// Condition). What the memo must never do is serve open what the definition protects, so these
// pin, through a started gateway with one worker (every repeat reaches the same memo) and a
// real Lambda-style authorizer module in the function host:
// - one token, one policy: Allow GET /a and Deny GET /b (and NONE for GET /items/2, and an ANY
//   method allowed for GET and denied for POST), each answered as its own, every time, on one call;
// - a policy with a Condition (aws:SourceIp) is evaluated on each request: the same token from
//   127.0.0.1 and 127.0.0.2 (both loopback) gets 200 and 403 in turn;
// - the TTL (authorizerResultTtlInSeconds 1): after it the function is called again;
// - a reload (SIGHUP, which clears the host's cache and compiles new steps) ends every hit;
// - 1,001 distinct tokens (past the memo's and the mirror's 1,000) and then the first again:
//   still its own answer, from the shared cache, with no new call;
// - tokens never reach the gateway's output.
// Gateway response bodies and types: "Gateway response types for API Gateway" and the
// AWS-observed texts pinned in authorizer-lambda.test.ts.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent } from 'undici'
import { startGateway, request, until, type Response } from '../helpers/index.js'

const AUTHORIZER = join(fileURLToPath(new URL('../fixtures/functions/', import.meta.url)), 'warm-authorizers.mjs')
const arn = (fn: string) => `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:${fn}/invocations`
const EXPLICIT_DENY = '{"Message":"User is not authorized to access this resource with an explicit deny"}'
const IMPLICIT_DENY = '{"Message":"User is not authorized to access this resource"}'

function tokenScheme(fn: string, extra: object = {}) {
  return {
    type: 'apiKey', name: 'X-Token', in: 'header',
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': { type: 'token', authorizerUri: arn(fn), ...extra },
  }
}

/** A mock answering what the request was authorized as ($context.path is the request path, with the stage). */
const integration = {
  type: 'mock',
  requestTemplates: { 'application/json': '{"statusCode": 200}' },
  responses: {
    default: {
      statusCode: '200',
      responseTemplates: { 'application/json': '{"principal":"$context.authorizer.principalId","n":"$context.authorizer.n","method":"$context.httpMethod","path":"$context.path","ip":"$context.identity.sourceIp"}' },
    },
  },
}
const op = (scheme: string) => ({ security: [{ [scheme]: [] }], 'x-amazon-apigateway-integration': integration })

function calls(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
}

function callsOf(file: string, token: string): number {
  return calls(file).filter((l) => l === token).length
}

t.test('warm TOKEN authorizer results', async (t) => {
  const dir = t.testdir({ 'warm.txt': '', 'short.txt': '', 'mode.txt': 'normal' })
  const files = { warm: join(dir, 'warm.txt'), short: join(dir, 'short.txt'), mode: join(dir, 'mode.txt') }
  const api = {
    openapi: '3.0.1',
    info: { title: 'warm', version: '1' },
    components: {
      securitySchemes: {
        warm: tokenScheme('warmAuth'),
        short: tokenScheme('shortAuth', { authorizerResultTtlInSeconds: 1 }),
      },
    },
    paths: {
      '/a': { get: op('warm') },
      '/b': { get: op('warm') },
      '/items/{id}': { get: op('warm') },
      '/any': { 'x-amazon-apigateway-any-method': op('warm') },
      '/short/a': { get: op('short') },
      '/short/b': { get: op('short') },
    },
  }
  writeFileSync(join(dir, 'api.json'), JSON.stringify(api))
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    apis: [{ id: 'warmapi', file: 'api.json', stages: { prod: { variables: {} } } }],
    functions: {
      warmAuth: { handler: `${AUTHORIZER}#token`, environment: { COUNT_FILE: files.warm, MODE_FILE: files.mode } },
      shortAuth: { handler: `${AUTHORIZER}#token`, environment: { COUNT_FILE: files.short } },
    },
  }))
  const gw = await startGateway({ args: ['--config', join(dir, 'backplane.json')] })
  t.teardown(() => gw.stop())
  const base = `${gw.url}/prod`
  // Requests from another loopback address: the policy's aws:SourceIp sees 127.0.0.2.
  const other = new Agent({ localAddress: '127.0.0.2' })
  t.teardown(() => other.close())

  const get = (path: string, token: string, from: 'primary' | 'other' = 'primary', method = 'GET') =>
    request(`${base}${path}`, { method, headers: { 'x-token': token }, ...(from === 'other' ? { dispatcher: other } : {}) })

  function allowed(t: Test, res: Response, want: { principal: string; n?: string; method?: string; path: string; ip?: string }, what: string): void {
    t.equal(res.status, 200, what)
    t.equal(res.headers['content-type'], 'application/json', what)
    t.equal(res.text, JSON.stringify({ principal: want.principal, n: want.n ?? '', method: want.method ?? 'GET', path: `/prod${want.path}`, ip: want.ip ?? '127.0.0.1' }), what)
  }

  function denied(t: Test, res: Response, body: string, what: string): void {
    t.equal(res.status, 403, what)
    t.equal(res.headers['content-type'], 'application/json', what)
    t.equal(res.headers['x-amzn-errortype'], 'AccessDeniedException', what)
    t.equal(res.text, body, what)
  }

  t.test('one token, one policy: Allow GET /a, Deny GET /b, no statement for /items/2, every time', async (t) => {
    // Six rounds: the first calls the function, the second reads the shared cache into this
    // worker's mirror, the third makes the token warm, the rest are warm hits.
    for (let round = 0; round < 6; round++) {
      allowed(t, await get('/a', 'mixed-1'), { principal: 'user-1', n: '1', path: '/a' }, `round ${round} /a`)
      denied(t, await get('/b', 'mixed-1'), EXPLICIT_DENY, `round ${round} /b`)
      allowed(t, await get('/items/1', 'mixed-1'), { principal: 'user-1', n: '1', path: '/items/1' }, `round ${round} /items/1`)
      denied(t, await get('/items/2', 'mixed-1'), IMPLICIT_DENY, `round ${round} /items/2`)
      // The policy has no Condition: the source address changes nothing.
      denied(t, await get('/b', 'mixed-1', 'other'), EXPLICIT_DENY, `round ${round} /b from 127.0.0.2`)
      allowed(t, await get('/a', 'mixed-1', 'other'), { principal: 'user-1', n: '1', path: '/a', ip: '127.0.0.2' }, `round ${round} /a from 127.0.0.2`)
    }
    t.equal(callsOf(files.warm, 'mixed-1'), 1, 'one call for every path and round')
  })

  t.test('an ANY method: the decision is per HTTP method', async (t) => {
    for (let round = 0; round < 5; round++) {
      allowed(t, await get('/any', 'mixed-2'), { principal: 'user-2', n: '2', path: '/any' }, `round ${round} GET`)
      denied(t, await get('/any', 'mixed-2', 'primary', 'POST'), EXPLICIT_DENY, `round ${round} POST`)
      // No statement names DELETE /any.
      denied(t, await get('/any', 'mixed-2', 'primary', 'DELETE'), IMPLICIT_DENY, `round ${round} DELETE`)
    }
    t.equal(callsOf(files.warm, 'mixed-2'), 1)
  })

  t.test('a policy with a Condition is evaluated on each request', async (t) => {
    for (let round = 0; round < 6; round++) {
      allowed(t, await get('/a', 'ip-3'), { principal: 'user-3', path: '/a' }, `round ${round} from 127.0.0.1`)
      denied(t, await get('/a', 'ip-3', 'other'), IMPLICIT_DENY, `round ${round} from 127.0.0.2`)
    }
    t.equal(callsOf(files.warm, 'ip-3'), 1, 'one call: the cached policy, evaluated per request')
  })

  t.test('the TTL ends a warm hit: after it the function is called again', async (t) => {
    const started = Date.now()
    for (let i = 0; i < 5; i++) {
      allowed(t, await get('/short/a', 'mixed-4'), { principal: 'user-4', n: '4', path: '/short/a' }, `before the TTL, ${i}`)
      denied(t, await get('/short/b', 'mixed-4'), EXPLICIT_DENY, `before the TTL, ${i}`)
    }
    // The warm-up must fit in the TTL for the count to say "one call" (a loaded machine).
    if (Date.now() - started < 900) t.equal(callsOf(files.short, 'mixed-4'), 1)
    const before = callsOf(files.short, 'mixed-4')
    await sleep(1_300)
    allowed(t, await get('/short/a', 'mixed-4'), { principal: 'user-4', n: '4', path: '/short/a' }, 'after the TTL')
    t.equal(callsOf(files.short, 'mixed-4'), before + 1, 'called again after the TTL')
    denied(t, await get('/short/b', 'mixed-4'), EXPLICIT_DENY, 'after the TTL, the Deny stays')
  })

  t.test('a failure is never cached nor warm, and tokens never reach the output', async (t) => {
    for (let i = 0; i < 3; i++) {
      const res = await get('/a', 'boom-5')
      t.equal(res.status, 500)
      t.equal(res.headers['x-amzn-errortype'], 'AuthorizerConfigurationException')
      t.equal(res.text, '{"message": null}')
    }
    t.equal(callsOf(files.warm, 'boom-5'), 3)
    t.notMatch(gw.output(), /mixed-|ip-3|boom-5/)
  })

  t.test('1,001 distinct tokens, then the first again: each its own answer', async (t) => {
    const tokens = Array.from({ length: 1_001 }, (_, i) => `mixed-${100 + i}`)
    const wrong: string[] = []
    // Eight lanes; each token three times (call, mirror, warm) and once more warm on /b.
    let next = 0
    const lane = async () => {
      while (next < tokens.length) {
        const token = tokens[next++]!
        const n = token.slice('mixed-'.length)
        for (let i = 0; i < 3; i++) {
          const res = await get('/a', token)
          if (res.status !== 200 || res.text !== JSON.stringify({ principal: `user-${n}`, n, method: 'GET', path: '/prod/a', ip: '127.0.0.1' })) wrong.push(`${token} /a: ${res.status} ${res.text}`)
        }
        const b = await get('/b', token)
        if (b.status !== 403 || b.text !== EXPLICIT_DENY) wrong.push(`${token} /b: ${b.status} ${b.text}`)
      }
    }
    await Promise.all(Array.from({ length: 8 }, lane))
    t.strictSame(wrong, [], 'every answer was its token\'s own')
    const before = calls(files.warm).length
    t.equal(tokens.filter((tok) => callsOf(files.warm, tok) === 0).length, 0, 'each token was called')
    for (const token of [tokens[0]!, tokens[1]!, tokens[1_000]!]) {
      const n = token.slice('mixed-'.length)
      for (let i = 0; i < 4; i++) {
        allowed(t, await get('/a', token), { principal: `user-${n}`, n, path: '/a' }, `${token} again /a`)
        denied(t, await get('/b', token), EXPLICIT_DENY, `${token} again /b`)
      }
    }
    t.equal(calls(files.warm).length, before, 'answered from the shared cache (10,000 entries): no new call')
  })

  t.test('a reload ends every warm hit', async (t) => {
    for (let i = 0; i < 4; i++) allowed(t, await get('/a', 'mixed-6'), { principal: 'user-6', n: '6', path: '/a' }, `warm ${i}`)
    t.equal(callsOf(files.warm, 'mixed-6'), 1)
    // The handler now denies: a cached result still allows until it goes (as API Gateway).
    writeFileSync(files.mode, 'deny-all')
    allowed(t, await get('/a', 'mixed-6'), { principal: 'user-6', n: '6', path: '/a' }, 'cached, before the reload')
    t.equal(callsOf(files.warm, 'mixed-6'), 1)
    const reloads = (gw.output().match(/reloaded: configuration version/g) ?? []).length
    gw.signal('SIGHUP')
    await until(() => (gw.output().match(/reloaded: configuration version/g) ?? []).length > reloads, 'the reload line')
    for (let i = 0; i < 4; i++) denied(t, await get('/a', 'mixed-6'), EXPLICIT_DENY, `after the reload ${i}`)
    t.equal(callsOf(files.warm, 'mixed-6'), 2, 'one new call after the reload')
    t.notMatch(gw.output(), /mixed-|ip-3|boom-5/)
  })
})
