// Amazon Cognito user pool authorizers over HTTP. The tests mint their own RSA keys and
// tokens with jose; one pool's JWKS is a file, the other's is served by a loopback server
// that counts fetches and rotates keys.
//
// Facts pinned:
// - identitySource is the scheme's header (`name`, `in: header`): LocalStack's AWS-validated
//   snapshot test_import_with_cognito_auth_identity_source (identitySource
//   method.request.header.TestHeaderAuth); the security requirement's scopes become the
//   method's authorizationScopes (same snapshot).
// - Method.authorizationScopes (API Gateway API reference): "The method invocation is
//   authorized if any method scopes matches a claimed scope in the access token. … When the
//   method scope is configured, the client must provide an access token instead of an
//   identity token"; without scopes the ID token is required (AWS knowledge center "401
//   Unauthorized errors … Amazon Cognito user pool").
// - Missing or invalid token → 401 {"message":"Unauthorized"} (UNAUTHORIZED); an expired one →
//   401 {"message":"The incoming token has expired"}.
import t from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'
import { writeApi, request, startEchoBackend } from '../helpers/index.js'
import { startGatewayWithAccess } from '../helpers/access.js'

const FUNCTIONS = fileURLToPath(new URL('../fixtures/functions/', import.meta.url))
const FILE_POOL = 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_FilePool'
const FILE_ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FilePool'
const URL_POOL = 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_UrlPool'
const URL_ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_UrlPool'
const DOWN_POOL = 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_DownPool'
const DOWN_ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_DownPool'

interface Key { kid: string, privateKey: CryptoKey, jwk: JWK }

async function newKey (kid: string): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } }
}

async function token (key: Key, issuer: string, claims: Record<string, unknown>, expiresIn: string | number = '1h'): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: key.kid }).setIssuer(issuer).setSubject('sub-alice').setIssuedAt().setExpirationTime(expiresIn).sign(key.privateKey)
}

const idClaims = { token_use: 'id', aud: 'client-1', email: 'alice@example.com', email_verified: true, 'cognito:username': 'alice', auth_time: 1700000000 }
const accessClaims = (scope: string) => ({ token_use: 'access', client_id: 'client-1', scope, username: 'alice' })
const mock = (template: string) => ({ type: 'mock', requestTemplates: { 'application/json': '{"statusCode": 200}' }, responses: { default: { statusCode: '200', responseTemplates: { 'application/json': template } } } })
const lambdaArn = 'arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:echo/invocations'

t.test('Cognito user pool authorizers', async (t) => {
  const fileKey = await newKey('file-key-1')
  const oldKey = await newKey('url-key-1')
  const newUrlKey = await newKey('url-key-2')
  // The loopback JWKS endpoint: serves `served`, counts fetches.
  let served: JWK[] = [oldKey.jwk]
  let fetches = 0
  const jwksServer: Server = createServer((_req, res) => {
    fetches++
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }))
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { jwksServer.closeAllConnections(); jwksServer.close(() => resolve()) }))
  const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`

  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  const jwksFile = writeApi(t, { keys: [fileKey.jwk] }, 'jwks.json')
  // A JWKS URL nobody listens on: a port taken and released again.
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const downUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
  await new Promise<void>((resolve) => closed.close(() => resolve()))
  const scheme = (arn: string, extra: object = {}) => ({ type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'cognito_user_pools', 'x-amazon-apigateway-authorizer': { type: 'cognito_user_pools', providerARNs: [arn] }, ...extra })
  const claimsTemplate = '{"email":"$context.authorizer.claims.email","sub":"$context.authorizer.claims.sub","verified":"$context.authorizer.claims.email_verified","exp":"$context.authorizer.claims.exp","authTime":"$context.authorizer.claims.auth_time"}'
  const apiFile = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'cognito', version: '1' },
    paths: {
      '/profile': { get: { security: [{ filePool: [] }], 'x-amazon-apigateway-integration': mock(claimsTemplate) } },
      '/orders': { get: { security: [{ filePool: ['orders/read', 'orders/admin'] }], 'x-amazon-apigateway-integration': mock('{"scope":"$context.authorizer.claims.scope"}') } },
      '/own-header': { get: { security: [{ ownHeader: [] }], 'x-amazon-apigateway-integration': mock('{"user":"$context.authorizer.claims[\'cognito:username\']"}') } },
      '/down': { get: { security: [{ downPool: [] }], 'x-amazon-apigateway-integration': mock('{}') } },
      '/remote': { get: { security: [{ urlPool: [] }], 'x-amazon-apigateway-integration': mock('{"email":"$context.authorizer.claims.email"}') } },
      '/mapped': {
        get: {
          security: [{ filePool: [] }],
          'x-amazon-apigateway-integration': { type: 'http_proxy', httpMethod: 'GET', uri: `${echo.url}/mapped`, requestParameters: { 'integration.request.header.x-email': 'context.authorizer.claims.email' } },
        },
      },
      '/lambda': { get: { security: [{ filePool: [] }], 'x-amazon-apigateway-integration': { type: 'aws_proxy', httpMethod: 'POST', uri: lambdaArn } } },
    },
    components: {
      securitySchemes: {
        filePool: scheme(FILE_POOL),
        ownHeader: scheme(FILE_POOL, { name: 'X-Id-Token' }),
        urlPool: scheme(URL_POOL),
        downPool: scheme(DOWN_POOL),
      },
    },
  })
  const dir = t.testdirName
  writeFileSync(join(dir, 'backplane.json'), JSON.stringify({
    workers: 1,
    apis: [{ id: 'cognito', file: apiFile, stages: { prod: {} } }],
    functions: { echo: { handler: `${join(FUNCTIONS, 'behaviors.mjs')}#echo` } },
  }))
  const gw = await startGatewayWithAccess(t, {
    args: ['--config', join(dir, 'backplane.json')],
    access: { userPools: { [FILE_POOL]: { arn: FILE_POOL, issuer: FILE_ISSUER, jwks: jwksFile }, [URL_POOL]: { arn: URL_POOL, issuer: URL_ISSUER, jwks: jwksUrl }, [DOWN_POOL]: { arn: DOWN_POOL, issuer: DOWN_ISSUER, jwks: `${downUrl}/jwks.json` } } },
  })
  t.teardown(gw.stop)
  const base = `${gw.url}/prod`
  const get = (path: string, auth: string | null, header = 'authorization') => request(`${base}${path}`, { headers: auth === null ? {} : { [header]: auth } })

  await t.test('a valid ID token passes; its claims reach $context.authorizer.claims as strings', async (t) => {
    const jwt = await token(fileKey, FILE_ISSUER, idClaims)
    const res = await get('/profile', jwt)
    t.equal(res.status, 200)
    const body = res.json()
    t.equal(body.email, 'alice@example.com')
    t.equal(body.sub, 'sub-alice')
    t.equal(body.verified, 'true')
    t.equal(body.authTime, '1700000000', 'auth_time stays a number string')
    t.match(body.exp, /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$/, 'exp as Java Date text')
  })

  await t.test('missing, malformed, wrongly signed or foreign tokens → 401 {"message":"Unauthorized"}', async (t) => {
    const stranger = await newKey('file-key-1')
    for (const [what, auth] of [
      ['missing', null],
      ['malformed', 'not-a-jwt'],
      ['signed by another key', await token(stranger, FILE_ISSUER, idClaims)],
      ['another issuer', await token(fileKey, 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other', idClaims)],
      ['an access token where no scopes are set', await token(fileKey, FILE_ISSUER, accessClaims('orders/read'))],
    ] as const) {
      const res = await get('/profile', auth)
      t.equal(res.status, 401, what)
      t.equal(res.headers['x-amzn-errortype'], 'UnauthorizedException', what)
      t.equal(res.text, '{"message":"Unauthorized"}', what)
    }
  })

  await t.test('an expired token → 401 {"message":"The incoming token has expired"}', async (t) => {
    const res = await get('/profile', await token(fileKey, FILE_ISSUER, idClaims, Math.floor(Date.now() / 1000) - 60))
    t.equal(res.status, 401)
    t.equal(res.headers['x-amzn-errortype'], 'UnauthorizedException')
    t.equal(res.text, '{"message":"The incoming token has expired"}')
  })

  await t.test('with authorizationScopes: an access token holding one of them passes; an ID token or other scopes → 401', async (t) => {
    const ok = await get('/orders', await token(fileKey, FILE_ISSUER, accessClaims('openid orders/admin')))
    t.equal(ok.status, 200)
    t.strictSame(ok.json(), { scope: 'openid orders/admin' })
    const wrongScope = await get('/orders', await token(fileKey, FILE_ISSUER, accessClaims('openid orders/write')))
    t.equal(wrongScope.status, 401)
    t.equal(wrongScope.text, '{"message":"Unauthorized"}')
    const idToken = await get('/orders', await token(fileKey, FILE_ISSUER, idClaims))
    t.equal(idToken.status, 401)
    t.equal(idToken.text, '{"message":"Unauthorized"}')
  })

  await t.test('the identity source is the scheme header', async (t) => {
    const jwt = await token(fileKey, FILE_ISSUER, idClaims)
    t.equal((await get('/own-header', jwt, 'x-id-token')).status, 200)
    t.strictSame((await get('/own-header', jwt, 'x-id-token')).json(), { user: 'alice' })
    t.equal((await get('/own-header', jwt)).status, 401, 'the Authorization header is not read')
  })

  await t.test('claims in parameter mappings (context.authorizer.claims.*) and the Lambda proxy event', async (t) => {
    const jwt = await token(fileKey, FILE_ISSUER, idClaims)
    const mapped = await get('/mapped', jwt)
    t.equal(mapped.status, 200)
    t.equal(mapped.json().headers['x-email'], 'alice@example.com', 'integration.request.header.x-email ← context.authorizer.claims.email')
    const event = (await get('/lambda', jwt)).json().event
    t.match(event.requestContext.authorizer.claims, { email: 'alice@example.com', sub: 'sub-alice', 'cognito:username': 'alice', token_use: 'id', email_verified: 'true' })
    t.equal(event.requestContext.identity.userArn, null, 'a user pool fills no IAM identity')
  })

  await t.test('a JWKS URL that cannot be fetched is the gateway\'s failure: 500 AUTHORIZER_FAILURE, not 401', async (t) => {
    const key = await newKey('down-1')
    const res = await get('/down', await token(key, DOWN_ISSUER, idClaims))
    t.equal(res.status, 500)
    t.equal(res.headers['x-amzn-errortype'], 'AuthorizerFailureException')
    t.equal(res.text, '{"message": "Internal server error"}')
  })

  await t.test('a JWKS URL is fetched once, cached, and refetched for an unknown kid at most once per cooldown', async (t) => {
    const first = await get('/remote', await token(oldKey, URL_ISSUER, idClaims))
    t.equal(first.status, 200)
    t.equal((await get('/remote', await token(oldKey, URL_ISSUER, idClaims))).status, 200)
    t.equal(fetches, 1, 'one fetch for two requests')
    // The pool rotates: the new key is published; a token signed with it names an unknown kid.
    served = [oldKey.jwk, newUrlKey.jwk]
    const rotated = await token(newUrlKey, URL_ISSUER, idClaims)
    const soon = await get('/remote', rotated)
    t.equal(soon.status, 401, 'within the cooldown the set is not refetched')
    t.equal(fetches, 1)
    await new Promise((resolve) => setTimeout(resolve, 10_500))
    const later = await get('/remote', rotated)
    t.equal(later.status, 200, 'after the cooldown the unknown kid triggers a refetch')
    t.equal(fetches, 2)
  })
})

t.test('a Cognito authorizer naming a pool outside the gateway config is refused at load', async (t) => {
  const apiFile = writeApi(t, {
    openapi: '3.0.1',
    info: { title: 'c', version: '1' },
    paths: { '/p': { get: { security: [{ pool: [] }], 'x-amazon-apigateway-integration': mock('{}') } } },
    components: { securitySchemes: { pool: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'cognito_user_pools', 'x-amazon-apigateway-authorizer': { type: 'cognito_user_pools', providerARNs: [URL_POOL] } } } },
  })
  await t.rejects(startGatewayWithAccess(t, { args: [apiFile], access: {} }), /\/components\/securitySchemes\/pool\/x-amazon-apigateway-authorizer\/providerARNs\/0: user pool arn:aws:cognito-idp:us-east-1:123456789012:userpool\/us-east-1_UrlPool is not in the gateway config's userPools; the method GET \/p is refused rather than served open/)
})
