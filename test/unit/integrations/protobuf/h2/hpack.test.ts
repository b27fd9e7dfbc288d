// HPACK decoding against RFC 7541 appendix C (C.2 single fields, C.3/C.4 requests without
// and with Huffman, C.5/C.6 responses in a 256-octet table with evictions), the Huffman
// code against appendix B, and the errors §4.2, §5.2 and §6 name.
import t from 'tap'
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, HpackDecoder, encodeBlock, huffmanDecode, huffmanEncode } from '../../../../../src/integrations/protobuf/h2/hpack.js'

const COMPRESSION = { code: 'ERR_HTTP2_COMPRESSION_ERROR' }
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const pairs = (flat: string[]) => {
  const out: [string, string][] = []
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}
function decode(d: HpackDecoder, block: string): [string, string][] {
  const out: string[] = []
  const buf = hex(block)
  d.decode(buf, 0, buf.length, out)
  return pairs(out)
}

t.test('the Huffman code rebuilt from the lengths is appendix B\'s', async (t) => {
  // A sample of the RFC's rows: [symbol, code as printed, length].
  const rows: [number, number, number][] = [
    [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [10, 0x3ffffffc, 30], [32, 0x14, 6], [48, 0x0, 5], [58, 0x5c, 7],
    [92, 0x7fff0, 19], [97, 0x3, 5], [123, 0x7ffe, 15], [127, 0xffffffc, 28], [128, 0xfffe6, 20],
    [200, 0x3ffffe2, 26], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
  ]
  for (const [sym, code, len] of rows) {
    t.equal(HUFFMAN_LENGTHS[sym], len, `symbol ${sym}: ${len} bits`)
    t.equal(HUFFMAN_CODES[sym], code, `symbol ${sym}: code 0x${code.toString(16)}`)
  }
  // Kraft's sum is exactly 1: a complete prefix code (EOS is the all-ones code of 30 bits).
  let kraft = 0
  for (let s = 0; s <= 256; s++) kraft += 2 ** -HUFFMAN_LENGTHS[s]!
  t.equal(kraft, 1)
  // Every octet survives a round trip.
  const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i))
  const enc = huffmanEncode(all)
  t.equal(huffmanDecode(enc, 0, enc.length), all)
})

t.test('C.2: one field of each representation', async (t) => {
  let d = new HpackDecoder()
  t.strictSame(decode(d, '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'), [['custom-key', 'custom-header']], 'C.2.1 literal with indexing')
  t.strictSame(d.entries(), [['custom-key', 'custom-header']])
  t.equal(d.size, 55)
  d = new HpackDecoder()
  t.strictSame(decode(d, '040c 2f73 616d 706c 652f 7061 7468'), [[':path', '/sample/path']], 'C.2.2 literal without indexing')
  t.strictSame(d.entries(), [])
  d = new HpackDecoder()
  t.strictSame(decode(d, '1008 7061 7373 776f 7264 0673 6563 7265 74'), [['password', 'secret']], 'C.2.3 never indexed')
  t.equal(d.size, 0)
  t.strictSame(decode(d, '82'), [[':method', 'GET']], 'C.2.4 indexed')
})

const REQ1: [string, string][] = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]
const REQ2: [string, string][] = [...REQ1, ['cache-control', 'no-cache']]
const REQ3: [string, string][] = [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]

for (const [section, blocks] of [
  ['C.3 (no Huffman)', ['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', '8286 84be 5808 6e6f 2d63 6163 6865', '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65']],
  ['C.4 (Huffman)', ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf', '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf']],
] as const) {
  t.test(`${section}: three requests on one decoder`, async (t) => {
    const d = new HpackDecoder()
    t.strictSame(decode(d, blocks[0]), REQ1)
    t.strictSame(d.entries(), [[':authority', 'www.example.com']])
    t.equal(d.size, 57)
    t.strictSame(decode(d, blocks[1]), REQ2)
    t.strictSame(d.entries(), [['cache-control', 'no-cache'], [':authority', 'www.example.com']])
    t.equal(d.size, 110)
    t.strictSame(decode(d, blocks[2]), REQ3)
    t.strictSame(d.entries(), [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']])
    t.equal(d.size, 164)
  })
}

const DATE1 = 'Mon, 21 Oct 2013 20:13:21 GMT'
const DATE2 = 'Mon, 21 Oct 2013 20:13:22 GMT'
const LOC = 'https://www.example.com'
const COOKIE = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1'

for (const [section, blocks] of [
  ['C.5 (no Huffman)', [
    '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
    '4803 3330 37c1 c0bf',
    '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
  ]],
  ['C.6 (Huffman)', [
    '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
    '4883 640e ffc1 c0bf',
    '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
  ]],
] as const) {
  t.test(`${section}: three responses in a 256-octet table, the oldest entries evicted`, async (t) => {
    const d = new HpackDecoder(256)
    t.strictSame(decode(d, blocks[0]), [[':status', '302'], ['cache-control', 'private'], ['date', DATE1], ['location', LOC]])
    t.strictSame(d.entries(), [['location', LOC], ['date', DATE1], ['cache-control', 'private'], [':status', '302']])
    t.equal(d.size, 222)
    t.strictSame(decode(d, blocks[1]), [[':status', '307'], ['cache-control', 'private'], ['date', DATE1], ['location', LOC]])
    t.strictSame(d.entries(), [[':status', '307'], ['location', LOC], ['date', DATE1], ['cache-control', 'private']], ':status 302 evicted')
    t.equal(d.size, 222)
    t.strictSame(decode(d, blocks[2]), [[':status', '200'], ['cache-control', 'private'], ['date', DATE2], ['location', LOC], ['content-encoding', 'gzip'], ['set-cookie', COOKIE]])
    t.strictSame(d.entries(), [['set-cookie', COOKIE], ['content-encoding', 'gzip'], ['date', DATE2]], 'three more evicted')
    t.equal(d.size, 215)
  })
}

t.test('table size updates: within the announced bound, at the start of a block, evicting', async (t) => {
  const d = new HpackDecoder()
  decode(d, '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')
  t.equal(d.entries().length, 1)
  // 0x20: size 0 empties the table; then 0x3f e1 1f = 4096 restores it.
  t.strictSame(decode(d, '20 3fe11f 82'), [[':method', 'GET']])
  t.equal(d.entries().length, 0)
  t.equal(d.maxSize, 4096)
  t.throws(() => decode(d, '3fe21f'), COMPRESSION, 'above SETTINGS_HEADER_TABLE_SIZE (4097)')
  t.throws(() => decode(d, '82 20'), COMPRESSION, 'after a field')
  // An entry larger than the table empties it and is not added (§4.4).
  const small = new HpackDecoder(40)
  decode(small, '4003 6162 6301 78')
  t.strictSame(small.entries(), [['abc', 'x']])
  decode(small, '400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572')
  t.strictSame(small.entries(), [])
  t.equal(small.size, 0)
})

t.test('malformed blocks are compression errors', async (t) => {
  const d = new HpackDecoder()
  t.throws(() => decode(d, '80'), COMPRESSION, 'index 0')
  t.throws(() => decode(d, 'be'), COMPRESSION, 'an index past both tables')
  t.throws(() => decode(d, '0408 2f61'), COMPRESSION, 'a string longer than the block')
  t.throws(() => decode(d, '7f'), COMPRESSION, 'a truncated integer')
  t.throws(() => decode(d, '0481 00'), COMPRESSION, 'Huffman padding of 0 bits')
  t.throws(() => decode(d, '0482 ffff'), COMPRESSION, 'Huffman padding of 8+ bits')
  t.throws(() => decode(d, '0484 ffff ffff'), COMPRESSION, 'EOS in a Huffman string')
})

t.test('the encoder: static fields indexed, the rest literals without indexing that a decoder reads back', async (t) => {
  const fields = [':method', 'POST', ':scheme', 'http', ':path', '/pets.v1.Pets/Get', ':authority', '127.0.0.1:50051', 'content-type', 'application/grpc', 'te', 'trailers', 'x-long', 'v'.repeat(300)]
  const block = encodeBlock(fields)
  t.equal(block[0], 0x83, ':method POST is static index 3')
  t.equal(block[1], 0x86, ':scheme http is static index 6')
  t.equal(block[2], 0x04, ':path: literal without indexing, name index 4')
  const d = new HpackDecoder()
  const out: string[] = []
  d.decode(block, 0, block.length, out)
  t.strictSame(out, fields)
  t.equal(d.entries().length, 0, 'nothing indexed')
})

t.test('the decoded header list is bounded: one-octet references to a large entry cannot expand past maxListSize', async (t) => {
  const d = new HpackDecoder()
  // Literal with incremental indexing, new name "x" and a 1,000-octet value: dynamic index 62.
  const value = 'v'.repeat(1000)
  // The length 1000 as a 7-bit prefix integer: 127, then 873 = 0x69 + 128 × 6 → 0xe9, 0x06.
  const literal = Buffer.concat([Buffer.from([0x40, 0x01, 0x78, 0x7f, 0xe9, 0x06]), Buffer.from(value)])
  const first: string[] = []
  d.decode(literal, 0, literal.length, first, 2_000)
  t.strictSame(first, ['x', value], 'the entry, 1,033 octets by §6.5.2')
  // 100 indexed references (0xbe = index 62): 100 × 1,033 octets decoded from 100 octets.
  const refs = Buffer.alloc(100, 0xbe)
  t.throws(() => d.decode(refs, 0, refs.length, [], 64 * 1024), { message: 'a header list over 65536 octets' })
  const fits: string[] = []
  d.decode(refs, 0, 63, fits, 64 * 1024)
  t.equal(fits.length, 126, '63 references (65,079 octets) fit')
  t.throws(() => d.decode(refs, 0, 64, [], 64 * 1024), { message: 'a header list over 65536 octets' }, 'the 64th is past the bound')
})
