// Binary media types and contentHandling. Every row of the two tables of the developer
// guide's "Content type conversions in API Gateway" is pinned below, in the table's order.
import t from 'tap'
import {
  compileBinaryMediaTypes,
  convertRequestBody,
  convertResponseBody,
  base64Decode,
  firstMediaType,
  BASE64_DECODE_FAILED,
} from '../../../src/payload/binary.js'
import type { ContentHandling } from '../../../src/config/model.js'

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'))
const bytes = (b: unknown) => (b instanceof Uint8Array ? Array.from(b) : b)
const str = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('utf8') : b)
/** Bytes that are not UTF-8 text (a PNG signature). */
const BINARY = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00])
const BINARY_B64 = Buffer.from(BINARY).toString('base64')
const TEXT = '{"a":"ü"}'
/** A text payload that is itself base64 (what CONVERT_TO_BINARY expects). */
const TEXT_B64 = Buffer.from('hello').toString('base64')

t.test('binaryMediaTypes matching ("Working with binary media types for REST APIs")', async (t) => {
  const m = compileBinaryMediaTypes(['image/png', 'application/octet-stream', 'audio/*'])
  t.ok(m.isBinary('image/png'))
  t.ok(m.isBinary('IMAGE/PNG'), 'case-insensitive')
  t.ok(m.isBinary('application/octet-stream; charset=binary'), 'parameters ignored')
  t.ok(m.isBinary('audio/mpeg'), 'type/* covers every subtype')
  t.notOk(m.isBinary('audio'), 'a bare type is no media type')
  t.notOk(m.isBinary('image/jpeg'))
  t.notOk(m.isBinary('application/json'))
  t.notOk(m.isBinary(null), 'no header → not binary')
  t.notOk(m.isBinary(''))
  t.notOk(m.isBinary('*/*'), 'a wildcard in the request is not a match for a listed type')
  const all = compileBinaryMediaTypes(['*/*'])
  t.ok(all.isBinary('application/json'), '"*/* includes all content types"')
  t.ok(all.isBinary('text/plain; charset=utf-8'))
  t.notOk(all.isBinary(null))
  t.ok(compileBinaryMediaTypes(['image~1png']).isBinary('image/png'), '~1-escaped entries (REST API patch path form)')
  t.notOk(compileBinaryMediaTypes([]).isBinary('image/png'), 'undefined binaryMediaTypes: nothing is binary')
})

t.test('"Content type conversions": only the first Accept media type counts', async (t) => {
  const m = compileBinaryMediaTypes(['image/webp'])
  t.ok(m.isBinary('image/webp,image/*,*/*;q=0.8'), 'the guide\'s browser example: add image/webp to binaryMediaTypes')
  t.notOk(compileBinaryMediaTypes(['image/jpeg']).isBinary('image/webp,image/jpeg;q=0.9'), 'a later binary type does not count')
  t.notOk(compileBinaryMediaTypes(['image/*']).isBinary('text/html, image/png'))
  t.equal(firstMediaType(' Text/HTML;q=0.9, image/png'), 'text/html')
})

t.test('request table: method request payload → integration request payload', async (t) => {
  const none = compileBinaryMediaTypes([])
  const set = compileBinaryMediaTypes(['image/png'])
  const rows: [string, boolean, ContentHandling | null, Uint8Array, unknown][] = [
    // [row, isBinary(Content-Type), contentHandling, method request payload, integration request payload]
    ['text, any type, binaryMediaTypes undefined, undefined → UTF8-encoded string', none.isBinary('application/json'), null, enc(TEXT), TEXT],
    ['text, any type, undefined, CONVERT_TO_BINARY → Base64-decoded binary blob', none.isBinary('application/json'), 'CONVERT_TO_BINARY', enc(TEXT_B64), 'hello'],
    ['text, any type, undefined, CONVERT_TO_TEXT → UTF8-encoded string', none.isBinary('application/json'), 'CONVERT_TO_TEXT', enc(TEXT), TEXT],
    ['text, text type, set, undefined → text data', set.isBinary('application/json'), null, enc(TEXT), TEXT],
    ['text, text type, set, CONVERT_TO_BINARY → Base64-decoded binary blob', set.isBinary('application/json'), 'CONVERT_TO_BINARY', enc(TEXT_B64), 'hello'],
    ['text, text type, set, CONVERT_TO_TEXT → text data', set.isBinary('application/json'), 'CONVERT_TO_TEXT', enc(TEXT), TEXT],
    ['binary, binary type, set, undefined → binary data', set.isBinary('image/png'), null, BINARY, BINARY],
    ['binary, binary type, set, CONVERT_TO_BINARY → binary data', set.isBinary('image/png'), 'CONVERT_TO_BINARY', BINARY, BINARY],
    ['binary, binary type, set, CONVERT_TO_TEXT → Base64-encoded string', set.isBinary('image/png'), 'CONVERT_TO_TEXT', BINARY, BINARY_B64],
  ]
  for (const [row, isBinary, ch, input, expected] of rows) {
    const out = convertRequestBody(input, isBinary, ch)
    if (expected instanceof Uint8Array) t.strictSame(bytes(out), bytes(expected), row)
    else t.equal(str(out), expected, row)
  }
  t.equal(convertRequestBody(null, false, 'CONVERT_TO_BINARY'), null, 'no body stays no body')
  t.equal(convertRequestBody(enc('{not base64}'), false, 'CONVERT_TO_BINARY'), BASE64_DECODE_FAILED, 'a failed decode → API_CONFIGURATION_ERROR (500)')
})

t.test('response table: integration response payload → method response payload', async (t) => {
  const none = compileBinaryMediaTypes([])
  const set = compileBinaryMediaTypes(['image/png'])
  type Row = [string, boolean, boolean, ContentHandling | null, Uint8Array, unknown]
  // [row, payload is binary (integration Content-Type), Accept is binary, contentHandling, integration payload, method payload]
  const rows: Row[] = [
    ['text or binary, text Accept, binaryMediaTypes undefined, undefined → UTF8-encoded string', none.isBinary('image/png'), none.isBinary('application/json'), null, enc(TEXT), TEXT],
    ['text or binary, text Accept, undefined, CONVERT_TO_BINARY → Base64-decoded blob', none.isBinary('image/png'), none.isBinary('application/json'), 'CONVERT_TO_BINARY', enc(TEXT_B64), 'hello'],
    ['text or binary, text Accept, undefined, CONVERT_TO_TEXT → UTF8-encoded string', none.isBinary('image/png'), none.isBinary('application/json'), 'CONVERT_TO_TEXT', enc(TEXT), TEXT],
    ['text, text Accept, set, undefined → text data', set.isBinary('application/json'), set.isBinary('application/json'), null, enc(TEXT), TEXT],
    ['text, text Accept, set, CONVERT_TO_BINARY → Base64-decoded blob', set.isBinary('application/json'), set.isBinary('application/json'), 'CONVERT_TO_BINARY', enc(TEXT_B64), 'hello'],
    ['text, text Accept, set, CONVERT_TO_TEXT → UTF8-encoded string', set.isBinary('application/json'), set.isBinary('application/json'), 'CONVERT_TO_TEXT', enc(TEXT), TEXT],
    ['text, binary Accept, set, undefined → Base64-decoded blob', set.isBinary('application/json'), set.isBinary('image/png'), null, enc(BINARY_B64), BINARY],
    ['text, binary Accept, set, CONVERT_TO_BINARY → Base64-decoded blob', set.isBinary('application/json'), set.isBinary('image/png'), 'CONVERT_TO_BINARY', enc(BINARY_B64), BINARY],
    ['text, binary Accept, set, CONVERT_TO_TEXT → UTF8-encoded string', set.isBinary('application/json'), set.isBinary('image/png'), 'CONVERT_TO_TEXT', enc(TEXT), TEXT],
    ['binary, text Accept, set, undefined → Base64-encoded string', set.isBinary('image/png'), set.isBinary('application/json'), null, BINARY, BINARY_B64],
    ['binary, text Accept, set, CONVERT_TO_BINARY → binary data', set.isBinary('image/png'), set.isBinary('application/json'), 'CONVERT_TO_BINARY', BINARY, BINARY],
    ['binary, text Accept, set, CONVERT_TO_TEXT → Base64-encoded string', set.isBinary('image/png'), set.isBinary('application/json'), 'CONVERT_TO_TEXT', BINARY, BINARY_B64],
    ['binary, binary Accept, set, undefined → binary data', set.isBinary('image/png'), set.isBinary('image/png'), null, BINARY, BINARY],
    ['binary, binary Accept, set, CONVERT_TO_BINARY → binary data', set.isBinary('image/png'), set.isBinary('image/png'), 'CONVERT_TO_BINARY', BINARY, BINARY],
    ['binary, binary Accept, set, CONVERT_TO_TEXT → Base64-encoded string', set.isBinary('image/png'), set.isBinary('image/png'), 'CONVERT_TO_TEXT', BINARY, BINARY_B64],
  ]
  t.equal(rows.length, 15, 'all fifteen rows')
  for (const [row, payloadIsBinary, acceptIsBinary, ch, input, expected] of rows) {
    const out = convertResponseBody(input, payloadIsBinary, acceptIsBinary, ch)
    if (expected instanceof Uint8Array) t.strictSame(bytes(out), bytes(expected), row)
    else t.equal(str(out), expected, row)
  }
  t.equal(convertResponseBody(enc('plain text!'), false, true, null), BASE64_DECODE_FAILED, 'text to a binary Accept that is not base64 → 500 API_CONFIGURATION_ERROR')
  t.equal(convertResponseBody(null, true, false, null), null)
})

t.test('base64 decoding is strict', async (t) => {
  t.equal(str(base64Decode(enc('aGVsbG8='))), 'hello')
  t.equal(str(base64Decode(enc('aGVsbG8'))), 'hello', 'unpadded')
  t.equal(str(base64Decode(enc('aGVs\r\nbG8='))), 'hello', 'MIME line breaks')
  t.equal(str(base64Decode(enc(''))), '')
  t.equal(base64Decode(enc('aGVsbG8-')), BASE64_DECODE_FAILED, 'URL-safe alphabet is not base64')
  t.equal(base64Decode(enc('a')), BASE64_DECODE_FAILED, 'a lone character')
  t.equal(base64Decode(enc('aGV=bG8=')), BASE64_DECODE_FAILED, 'padding in the middle')
  t.equal(base64Decode(enc('aGVsbA=')), BASE64_DECODE_FAILED, 'short padding')
})
