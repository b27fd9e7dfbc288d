// Payload compression. Each test names the developer-guide page whose fact it pins.
import t from 'tap'
import { gzipSync, deflateSync, deflateRawSync, gunzipSync, inflateSync, brotliCompressSync } from 'node:zlib'
import {
  chooseEncoding,
  shouldCompress,
  responseEncoding,
  compressBody,
  decompressRequestBody,
  UNSUPPORTED_CONTENT_ENCODING,
  DECOMPRESSED_TOO_LARGE,
  MAX_MINIMUM_COMPRESSION_SIZE,
} from '../../../src/payload/compression.js'

const PETS = Buffer.from(JSON.stringify([{ id: 1, type: 'dog', price: 249.99 }, { id: 2, type: 'cat', price: 124.99 }, { id: 3, type: 'fish', price: 0.99 }]))
const text = (b: unknown) => (b instanceof Uint8Array ? Buffer.from(b).toString('utf8') : b)

t.test('"Content codings supported by API Gateway": the Accept-Encoding forms it lists', async (t) => {
  t.equal(chooseEncoding('deflate,gzip'), 'deflate', 'deflate,gzip: equal weights, the first wins')
  t.equal(chooseEncoding(''), null, 'Accept-Encoding: (empty) → identity only')
  t.equal(chooseEncoding('*'), null, '* → no explicit supported coding → not compressed')
  t.equal(chooseEncoding('deflate;q=0.5,gzip;q=1.0'), 'gzip')
  t.equal(chooseEncoding('gzip;q=1.0,identity;q=0.5,*;q=0'), 'gzip')
})

t.test('"Receive an API response with a compressed payload": which requests get compression', async (t) => {
  t.equal(chooseEncoding(null), null, 'no Accept-Encoding (defaults to *) → not compressed')
  t.equal(chooseEncoding('gzip'), 'gzip', 'the guide\'s example: Accept-Encoding:gzip → Content-Encoding:gzip')
  t.equal(chooseEncoding('gzip, deflate, br'), 'gzip', 'a browser\'s gzip, deflate, br turns compression on')
  t.equal(chooseEncoding('identity'), null)
  t.equal(chooseEncoding('GZIP ; Q=0.9'), 'gzip', 'case and spaces')
  t.equal(chooseEncoding('gzip;q=0, deflate;q=0.1'), 'deflate', 'q=0 refuses a coding')
  t.equal(chooseEncoding('gzip;q=0'), null)
  t.equal(chooseEncoding('gzip;q=abc'), null, 'a malformed weight refuses the coding')
})

t.test('"Enable payload compression": the highest-priority coding must be supported', async (t) => {
  t.equal(chooseEncoding('br'), null, 'br is not among deflate, gzip, identity')
  t.equal(chooseEncoding('br;q=1.0, gzip;q=0.8'), null, 'br preferred → no compression')
  t.equal(chooseEncoding('br, gzip'), null, 'br first among equals → no compression')
  t.equal(chooseEncoding('br;q=0.5, gzip'), 'gzip')
  t.equal(chooseEncoding('identity;q=1, gzip;q=0.5'), null, 'identity preferred → no compression')
})

t.test('"Payload compression for REST APIs": the minimumCompressionSize threshold', async (t) => {
  t.equal(shouldCompress(null, 1_000_000, null), false, 'null/absent disables compression')
  t.equal(shouldCompress(0, 0, null), true, '0 compresses any size')
  t.equal(shouldCompress(0, 1, null), true)
  t.equal(shouldCompress(1024, 1023, null), false, 'smaller than the threshold → not compressed')
  t.equal(shouldCompress(1024, 1024, null), true, '"greater than or equal to"')
  t.equal(shouldCompress(0, 100, 'gzip'), false, 'an integration response with Content-Encoding is taken as compressed already')
  t.equal(shouldCompress(0, 100, ''), true, 'an empty Content-Encoding is none')
  t.equal(MAX_MINIMUM_COMPRESSION_SIZE, 10485760, 'the range ends at 10485760 (10M bytes)')
  t.equal(responseEncoding(0, 'gzip', 10, null), 'gzip')
  t.equal(responseEncoding(null, 'gzip', 10, null), null)
  t.equal(responseEncoding(100, 'gzip', 10, null), null)
  t.equal(responseEncoding(0, null, 10, null), null)
})

t.test('compressBody: gzip and deflate (zlib) bodies that clients decode', async (t) => {
  t.equal(text(gunzipSync(compressBody(PETS, 'gzip'))), PETS.toString())
  t.equal(text(inflateSync(compressBody(PETS, 'deflate'))), PETS.toString(), 'HTTP deflate is the zlib format')
  t.equal(text(gunzipSync(compressBody(new Uint8Array(0), 'gzip'))), '', 'an empty payload still compresses (minimumCompressionSize 0)')
})

t.test('"Call an API method with a compressed payload": request decompression', async (t) => {
  t.equal(text(decompressRequestBody(gzipSync(PETS), 'gzip')), PETS.toString(), 'gzip')
  t.equal(text(decompressRequestBody(deflateSync(PETS), 'deflate')), PETS.toString(), 'deflate')
  t.equal(text(decompressRequestBody(gzipSync(PETS), 'GZIP')), PETS.toString(), 'case-insensitive')
  t.equal(text(decompressRequestBody(gzipSync(deflateSync(PETS)), 'deflate, gzip')), PETS.toString(), 'codings undone in reverse order')
  t.equal(decompressRequestBody(PETS, null), PETS, 'no Content-Encoding → unchanged')
  t.equal(decompressRequestBody(PETS, 'identity'), PETS, 'identity → unchanged')
  t.equal(decompressRequestBody(null, null), null)
  t.equal(decompressRequestBody(brotliCompressSync(PETS), 'br'), UNSUPPORTED_CONTENT_ENCODING, 'unsupported coding → 415 Unsupported Media Type')
  t.equal(decompressRequestBody(PETS, 'compress'), UNSUPPORTED_CONTENT_ENCODING)
  t.equal(decompressRequestBody(PETS, 'gzip'), UNSUPPORTED_CONTENT_ENCODING, 'a payload not compressed with the coding named → 415')
  t.equal(decompressRequestBody(deflateRawSync(PETS), 'deflate'), UNSUPPORTED_CONTENT_ENCODING, 'raw deflate is not the deflate coding')
  t.equal(decompressRequestBody(null, 'gzip'), UNSUPPORTED_CONTENT_ENCODING, 'an empty body is not gzip')
  t.equal(decompressRequestBody(gzipSync(''), 'gzip'), null, 'a gzip of nothing is an empty body')
  const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024 + 1))
  t.equal(decompressRequestBody(bomb, 'gzip'), DECOMPRESSED_TOO_LARGE, 'past the 10 MB payload limit → 413')
})
