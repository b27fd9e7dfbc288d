// The router's API Gateway precedence: a static segment beats {param}, which beats
// {proxy+}; a method beats ANY; path parameters arrive URL-decoded.
import t from 'tap'
import { RouteNode, insertRoute, freezeTree } from '../../../src/router/tree.js'
import { matchRoute, decodeSegment } from '../../../src/router/match.js'

function tree(routes: [string, string][]): RouteNode {
  const root = new RouteNode('/')
  routes.forEach(([m, p], i) => t.equal(insertRoute(root, p, m, i), null, `inserts ${m} ${p}`))
  freezeTree(root)
  return root
}

const routes: [string, string][] = [
  ['GET', '/'],
  ['GET', '/pets'],
  ['POST', '/pets'],
  ['GET', '/pets/{petId}'],
  ['GET', '/pets/mine'],
  ['ANY', '/pets/{petId}/toys'],
  ['GET', '/pets/{petId}/toys'],
  ['ANY', '/{proxy+}'],
  ['GET', '/files/{path+}'],
]
const root = tree(routes)

t.test('a static segment beats {param}', async (t) => {
  const m = matchRoute(root, 'GET', '/pets/mine')
  t.equal(m?.resourcePath, '/pets/mine')
  t.strictSame(m?.params, [])
})

t.test('{param} matches one segment and is URL-decoded', async (t) => {
  const m = matchRoute(root, 'GET', '/pets/a%20b%2Fc')
  t.equal(m?.resourcePath, '/pets/{petId}')
  t.strictSame(m?.params, ['petId', 'a b/c'])
})

t.test('{param} beats {proxy+}, and {proxy+} takes the rest of the path', async (t) => {
  t.equal(matchRoute(root, 'GET', '/pets/1')?.resourcePath, '/pets/{petId}')
  const m = matchRoute(root, 'DELETE', '/a/b/c%21')
  t.equal(m?.resourcePath, '/{proxy+}')
  t.strictSame(m?.params, ['proxy', 'a/b/c!'])
})

t.test('a method beats ANY on the same resource', async (t) => {
  t.equal(matchRoute(root, 'GET', '/pets/1/toys')?.routeIndex, 6)
  t.equal(matchRoute(root, 'PUT', '/pets/1/toys')?.routeIndex, 5)
})

t.test('a resource without the method and without ANY is no match', async (t) => {
  const r = tree([['GET', '/pets'], ['POST', '/pets'], ['GET', '/pets/{petId}']])
  t.equal(matchRoute(r, 'DELETE', '/pets'), null)
  t.equal(matchRoute(r, 'POST', '/pets/1'), null)
})

// AWS-validated: LocalStack tests/aws/services/apigateway/test_apigateway_common.py
// TestApigatewayRouting::test_proxy_routing_with_hardcoded_resource_sibling (OPTIONS /test, where
// /test has only POST, answers from the sibling /{proxy+}'s OPTIONS).
t.test('a resource without the method gives way to the next candidate that has it', async (t) => {
  const r = tree([['POST', '/test'], ['ANY', '/test/any'], ['OPTIONS', '/{proxy+}']])
  const m = matchRoute(r, 'OPTIONS', '/test')
  t.equal(m?.resourcePath, '/{proxy+}')
  t.strictSame(m?.params, ['proxy', 'test'])
  t.equal(matchRoute(r, 'POST', '/test')?.resourcePath, '/test')
  t.equal(matchRoute(r, 'OPTIONS', '/test/any')?.resourcePath, '/test/any')
  t.equal(matchRoute(r, 'GET', '/test'), null, 'no candidate has GET')
  // the same walk lets a {param} resource without the method give way to {proxy+}
  t.equal(matchRoute(root, 'DELETE', '/pets')?.resourcePath, '/{proxy+}')
  t.equal(matchRoute(root, 'POST', '/pets/1')?.resourcePath, '/{proxy+}')
})

t.test('the matcher backtracks from a static branch that misses deeper', async (t) => {
  const r = tree([['GET', '/a/b'], ['GET', '/{x}/c']])
  const m = matchRoute(r, 'GET', '/a/c')
  t.equal(m?.resourcePath, '/{x}/c')
  t.strictSame(m?.params, ['x', 'a'])
})

t.test('root and trailing slash', async (t) => {
  t.equal(matchRoute(root, 'GET', '/')?.resourcePath, '/')
  t.equal(matchRoute(root, 'GET', '/pets/')?.resourcePath, '/pets')
  t.equal(matchRoute(root, 'GET', '/files/a/b.txt')?.resourcePath, '/files/{path+}')
  t.strictSame(matchRoute(root, 'GET', '/files/a/b.txt')?.params, ['path', 'a/b.txt'])
})

t.test('an intermediate node without methods is not a resource', async (t) => {
  const r = tree([['GET', '/a/b']])
  t.equal(matchRoute(r, 'GET', '/a'), null)
  t.equal(matchRoute(r, 'GET', '/a/b/c'), null)
})

t.test('{proxy+} needs at least one segment', async (t) => {
  const r = tree([['ANY', '/{proxy+}']])
  t.equal(matchRoute(r, 'GET', '/'), null)
  t.equal(matchRoute(r, 'GET', '/x')?.resourcePath, '/{proxy+}')
})

t.test('paths are case-sensitive, as API Gateway resources are', async (t) => {
  const r = tree([['GET', '/Pets']])
  t.equal(matchRoute(r, 'GET', '/pets'), null)
  t.ok(matchRoute(r, 'GET', '/Pets'))
})

t.test('insertRoute refuses a duplicate method and a second variable sibling', async (t) => {
  const r = new RouteNode('/')
  t.equal(insertRoute(r, '/a/{id}', 'GET', 0), null)
  t.equal(insertRoute(r, '/a/{id}', 'GET', 1), 'duplicate-method')
  t.equal(insertRoute(r, '/a/{other}', 'PUT', 2), 'sibling-variable')
  t.equal(insertRoute(r, '/a/{rest+}', 'PUT', 3), 'sibling-variable')
})

t.test('a malformed escape is kept as received', async (t) => {
  t.equal(decodeSegment('100%'), '100%')
  t.equal(decodeSegment('%E2%82%AC'), '€')
})
