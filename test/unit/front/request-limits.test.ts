// checkRequestHead(): the front's refusals before any worker sees a request.
// Limits: API Gateway developer guide, "Quotas for configuring and running a REST API"
// (URL of a regional API ≤ 10240 characters; request line and header values ≤ 10240
// bytes). Framing: RFC 9112 §6.1 (only chunked served; chunked last and once; not with
// Content-Length).
import t from 'tap'
import { FrontCheck, MAX_REQUEST_HEAD_BYTES, MAX_URL_LENGTH, checkRequestHead } from '../../../src/front/request-limits.js'

t.test('URL length counts path, "?" and query', async (t) => {
  t.equal(MAX_URL_LENGTH, 10_240)
  const path = '/test/x'
  t.equal(checkRequestHead('GET', path, 'q'.repeat(MAX_URL_LENGTH - path.length - 1), []), FrontCheck.HEADERS_TOO_LARGE, 'a URL that just fits still makes the head too large with the request line')
  t.equal(checkRequestHead('GET', path, 'q'.repeat(MAX_URL_LENGTH - path.length), []), FrontCheck.URL_TOO_LONG)
  t.equal(checkRequestHead('GET', '/' + 'p'.repeat(MAX_URL_LENGTH), '', []), FrontCheck.URL_TOO_LONG)
})

t.test('request line and header values: 10240 bytes at most', async (t) => {
  t.equal(MAX_REQUEST_HEAD_BYTES, 10_240)
  const line = 'GET'.length + '/x'.length + 10 // METHOD SP target SP HTTP/1.1
  t.equal(checkRequestHead('GET', '/x', '', ['x-a', 'v'.repeat(MAX_REQUEST_HEAD_BYTES - line)]), FrontCheck.OK)
  t.equal(checkRequestHead('GET', '/x', '', ['x-a', 'v'.repeat(MAX_REQUEST_HEAD_BYTES - line + 1)]), FrontCheck.HEADERS_TOO_LARGE)
  t.equal(checkRequestHead('GET', '/x', '', ['x-' + 'n'.repeat(5000), 'v']), FrontCheck.OK, 'names do not count, as the quota says "header values"')
})

t.test('Transfer-Encoding: exactly chunked is served, the rest refused', async (t) => {
  const te = (v: string, ...more: string[]) => checkRequestHead('POST', '/x', '', ['transfer-encoding', v, ...more])
  t.equal(te('chunked'), FrontCheck.OK)
  t.equal(te('CHUNKED'), FrontCheck.OK, 'codings are case-insensitive')
  for (const v of ['xchunked', 'identity, chunked', 'gzip, chunked', 'identity', 'gzip']) t.equal(te(v), FrontCheck.UNKNOWN_TRANSFER_CODING, v)
  for (const v of ['chunked, chunked', 'chunked, gzip', ', chunked', 'chunked,', 'chu nked', '"chunked"']) t.equal(te(v), FrontCheck.BAD_FRAMING, v)
  t.equal(te('gzip', 'transfer-encoding', 'chunked'), FrontCheck.UNKNOWN_TRANSFER_CODING, 'two fields are one list: gzip, chunked')
  t.equal(te('chunked', 'content-length', '5'), FrontCheck.BAD_FRAMING, 'with Content-Length')
})

t.test('Content-Length: one number', async (t) => {
  const cl = (...pairs: string[]) => checkRequestHead('POST', '/x', '', pairs)
  t.equal(cl('content-length', '12'), FrontCheck.OK)
  t.equal(cl('content-length', '1x'), FrontCheck.BAD_FRAMING)
  t.equal(cl('content-length', '-1'), FrontCheck.BAD_FRAMING)
  t.equal(cl('content-length', '5', 'content-length', '5'), FrontCheck.BAD_FRAMING, 'twice')
})
