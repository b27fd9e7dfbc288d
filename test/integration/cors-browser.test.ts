// CORS as a browser sees it (issue 4): headless Chromium on a page from another loopback
// origin fetches from the gateway.
//
// test/fixtures/apis/cors-enabled.json is what the API Gateway console's "Enable CORS"
// leaves behind: a MOCK OPTIONS method whose integration response sets
// Access-Control-Allow-{Headers,Methods,Origin}, Access-Control-Allow-Origin '*' on the
// GET's integration response, and DEFAULT_4XX/5XX gateway responses carrying
// Access-Control-Allow-Origin/-Headers. cors-none.json is the same API without any of it.
//
// Documented facts pinned here (API Gateway developer guide, "Enabling CORS for a REST API
// resource"):
// - a non-simple request (PUT, Content-Type application/json, X-Api-Key) is preceded by an
//   OPTIONS preflight, which the mock OPTIONS method answers 200 with the three headers;
//   the preflight carries no Content-Type, and the mock still runs its application/json
//   request template (the default content type when there is none);
// - for proxy integrations the backend returns Access-Control-Allow-Origin itself;
// - "to return CORS headers on errors, add them to the gateway responses" (DEFAULT_4XX):
//   without them a browser script cannot read a 403 Missing Authentication Token at all.

import t from 'tap'
import { join } from 'node:path'
import { startGateway, startEchoBackend, request, REPO_ROOT } from '../helpers/index.js'
import { launchBrowser, servePage, pageFetch, recordNetwork, settled } from '../helpers/browser.js'
import type { NetworkExchange } from '../helpers/browser.js'

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'apis')
const ALLOW_HEADERS = 'Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token'
const ITEMS = '{"items":[{"id":1,"name":"one"}]}'
const MISSING_TOKEN = '{"message":"Missing Authentication Token"}'
/** The page's `location` (the tests compile without the DOM types). */
interface Location { origin: string }
const TYPE_ERROR = { ok: false, name: 'TypeError', message: 'Failed to fetch' }

t.test('CORS in headless Chromium', async (t) => {
  const echo = await startEchoBackend()
  t.teardown(() => echo.close())
  // Both start at once; each is stopped by teardown as soon as it is up, even if the other fails.
  const serve = (fixture: string) => startGateway({ args: [join(FIXTURES, fixture), '--stage-var', `backend=${echo.url}`, '--workers', '1'] })
    .then((gw) => { t.teardown(() => gw.stop()); return gw })
  const [cors, none] = await Promise.all([serve('cors-enabled.json'), serve('cors-none.json')])

  const browser = await launchBrowser(t)
  const origin = await servePage(t, '<!doctype html><html><head><title>cors client</title></head><body>cors client</body></html>')
  t.not(origin, cors.url, 'the page is on another origin than the gateway')
  const page = await browser.newPage()
  const net = await recordNetwork(page)
  await page.goto(`${origin}/`)
  t.equal(await page.evaluate(() => (globalThis as unknown as { location: Location }).location.origin), origin)

  /** Chromium's exchanges with the gateway at `base` since `from` (an index into net.exchanges), once finished. */
  const since = (from: number, base: string): Promise<NetworkExchange[]> =>
    settled(() => net.exchanges.slice(from).filter((x) => x.url.startsWith(base)))

  t.test('(a) a simple cross-origin GET: no preflight, the page reads 200 and the body', async (t) => {
    const from = net.exchanges.length
    const res = await pageFetch(page, `${cors.url}/test/items`)
    t.same(res, { ok: true, status: 200, body: ITEMS, contentType: 'application/json' })
    const xs = await since(from, cors.url)
    t.same(xs.map((x) => `${x.type} ${x.method}`), ['Fetch GET'], 'one request, no preflight')
    const get = xs[0]!
    t.equal(get.requestHeaders.origin, origin, 'the browser sent its Origin')
    t.equal(get.status, 200)
    t.equal(get.responseHeaders?.['access-control-allow-origin'], '*')
  })

  t.test('(b) a PUT with Content-Type application/json and X-Api-Key: a real preflight, then the PUT reaches the backend', async (t) => {
    const from = net.exchanges.length
    const echoedBefore = echo.requests.length
    const res = await pageFetch(page, `${cors.url}/test/items`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json', 'X-Api-Key': 'test-key' },
      body: '{"id":2,"name":"two"}'
    })
    t.match(res, { ok: true, status: 200, contentType: 'application/json' }, 'the page read the response')
    if (!res.ok) return
    const echoed = JSON.parse(res.body)
    t.equal(echoed.method, 'PUT')
    t.equal(echoed.path, '/echo/items')
    t.equal(echoed.body, '{"id":2,"name":"two"}')
    t.equal(echoed.headers['content-type'], 'application/json')
    t.equal(echoed.headers['x-api-key'], 'test-key')
    t.equal(echoed.headers.origin, origin)

    const xs = await since(from, cors.url)
    t.same(xs.map((x) => `${x.type} ${x.method}`).sort(), ['Fetch PUT', 'Preflight OPTIONS'], 'a preflight and the PUT')
    const preflight = xs.find((x) => x.type === 'Preflight')!
    const put = xs.find((x) => x.type === 'Fetch')!
    t.ok(preflight.answeredSeq !== undefined && put.sentSeq !== undefined && preflight.answeredSeq < put.sentSeq,
      'the PUT went on the wire after the preflight was answered')
    t.equal(preflight.url, `${cors.url}/test/items`)
    t.equal(preflight.requestHeaders.origin, origin)
    t.equal(preflight.requestHeaders['access-control-request-method'], 'PUT')
    t.equal(preflight.requestHeaders['access-control-request-headers'], 'content-type,x-api-key')
    t.equal(preflight.requestHeaders['content-type'], undefined, 'a preflight has no Content-Type')
    t.equal(preflight.status, 200, 'the mock OPTIONS method answered the preflight')
    t.match(preflight.responseHeaders, {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET,PUT,OPTIONS',
      'access-control-allow-headers': ALLOW_HEADERS
    })
    t.equal(put.status, 200)
    t.equal(put.responseHeaders?.['access-control-allow-origin'], '*', "the backend's header, passed through")

    // The OPTIONS was the gateway's own (mock): only the PUT reached the backend.
    t.same(echo.requests.slice(echoedBefore).map((r) => `${r.method} ${r.path}`), ['PUT /echo/items'])
  })

  t.test('(c) an unknown path: the page can read the 403 because DEFAULT_4XX carries Access-Control-Allow-Origin', async (t) => {
    const from = net.exchanges.length
    const res = await pageFetch(page, `${cors.url}/test/nothing`)
    t.same(res, { ok: true, status: 403, body: MISSING_TOKEN, contentType: 'application/json' })
    const xs = await since(from, cors.url)
    t.same(xs.map((x) => `${x.type} ${x.method}`), ['Fetch GET'])
    t.match(xs[0]!.responseHeaders, {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': '*',
      'x-amzn-errortype': 'MissingAuthenticationTokenException'
    })
  })

  t.test('(d) controls: without CORS headers the browser blocks what the gateway answered', async (t) => {
    t.test('a route whose integration response sets no Access-Control-Allow-Origin', async (t) => {
      const direct = await request(`${cors.url}/test/plain`)
      t.equal(direct.status, 200, 'outside a browser the route answers')
      t.equal(direct.text, '{"plain":true}')
      t.equal(direct.headers['access-control-allow-origin'], undefined)

      const from = net.exchanges.length
      t.same(await pageFetch(page, `${cors.url}/test/plain`), TYPE_ERROR, 'CORS blocked')
      const xs = await since(from, cors.url)
      t.same(xs.map((x) => `${x.type} ${x.method} ${x.corsError}`), ['Fetch GET MissingAllowOriginHeader'])
    })

    t.test('an API without DEFAULT_4XX CORS headers: its 403 cannot be read', async (t) => {
      const direct = await request(`${none.url}/test/nothing`)
      t.equal(direct.status, 403)
      t.equal(direct.text, MISSING_TOKEN)
      t.equal(direct.headers['access-control-allow-origin'], undefined)

      const from = net.exchanges.length
      t.same(await pageFetch(page, `${none.url}/test/nothing`), TYPE_ERROR, 'CORS blocked')
      const xs = await since(from, none.url)
      t.same(xs.map((x) => `${x.type} ${x.method} ${x.corsError}`), ['Fetch GET MissingAllowOriginHeader'])
    })

    t.test('an API without an OPTIONS method: the preflight fails and the PUT never reaches the backend', async (t) => {
      const echoedBefore = echo.requests.length
      const from = net.exchanges.length
      const res = await pageFetch(page, `${none.url}/test/items`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'X-Api-Key': 'test-key' },
        body: '{"id":3}'
      })
      t.same(res, TYPE_ERROR, 'CORS blocked')
      const xs = await since(from, none.url)
      t.same(xs.map((x) => `${x.type} ${x.method} ${x.status} ${x.corsError}`).sort(), [
        'Fetch PUT undefined PreflightMissingAllowOriginHeader',
        'Preflight OPTIONS 403 undefined'
      ], 'the preflight got 403 Missing Authentication Token, so the PUT was blocked')
      const preflight = xs.find((x) => x.type === 'Preflight')
      t.equal(preflight?.requestHeaders.origin, origin)
      t.equal(preflight?.responseHeaders?.['x-amzn-errortype'], 'MissingAuthenticationTokenException')
      t.equal(preflight?.responseHeaders?.['access-control-allow-origin'], undefined)
      t.same(echo.requests.slice(echoedBefore), [], 'the PUT was never sent')
    })
  })
})
