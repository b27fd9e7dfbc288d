// HPACK (RFC 7541) for the gateway's own HTTP/2 client: a full decoder (static and dynamic
// tables, table size updates, Huffman strings) for what backends answer, and an encoder that
// only writes what a client's requests need: indexed static fields and literals without
// indexing, so the backend's decoder table never holds anything of ours and no per-request
// state is kept for it. Header strings are latin1 (one char per octet), as the table sizes
// count octets.

/** A violation of RFC 7541: the connection's decoding state is lost (COMPRESSION_ERROR). */
export class HpackError extends Error {
  readonly code = 'ERR_HTTP2_COMPRESSION_ERROR'
}

/** RFC 7541 appendix A, index 1..61 (index 0 unused). */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
]
const STATIC_COUNT = STATIC_TABLE.length - 1

// ---------------------------------------------------------------------------------------
// Huffman code (RFC 7541 appendix B). The code is canonical (codes of one length are
// consecutive, in symbol order, after the shorter ones), so the lengths alone define it;
// the codes are rebuilt from them at load and the test checks them against the RFC's.

/** Code length in bits of each symbol 0..255 and EOS (256), appendix B. */
const HUFFMAN_LENGTHS = Uint8Array.from([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
])
const EOS = 256

/** The canonical codes, right-aligned (as appendix B prints them). */
export const HUFFMAN_CODES: Uint32Array = (() => {
  const codes = new Uint32Array(257)
  let code = 0
  for (let len = 1; len <= 30; len++) {
    for (let sym = 0; sym <= EOS; sym++) {
      if (HUFFMAN_LENGTHS[sym] !== len) continue
      codes[sym] = code
      code++
    }
    code <<= 1
  }
  return codes
})()
export { HUFFMAN_LENGTHS }

/**
 * The decoding tree: node n's children at [2n] (bit 0) and [2n+1] (bit 1); a child > 0 is an
 * inner node, ≤ 0 a leaf holding -symbol. Node 0 is the root (never a child).
 */
const TREE: Int32Array = (() => {
  const tree = new Int32Array(2 * 257)
  let nodes = 1
  for (let sym = 0; sym <= EOS; sym++) {
    const len = HUFFMAN_LENGTHS[sym]!
    const code = HUFFMAN_CODES[sym]!
    let node = 0
    for (let i = len - 1; i > 0; i--) {
      const slot = 2 * node + ((code >>> i) & 1)
      if (tree[slot] === 0) tree[slot] = nodes++
      node = tree[slot]!
    }
    tree[2 * node + (code & 1)] = -sym
  }
  return tree
})()

/** Huffman-decoded octets land here (grown as needed, one per module). */
let scratch = Buffer.allocUnsafe(256)

/** Decodes `len` Huffman-coded octets of `buf` from `at` to a latin1 string. */
export function huffmanDecode(buf: Uint8Array, at: number, len: number): string {
  // Every symbol takes at least 5 bits: at most 8/5 octets per input octet.
  if (scratch.length < len * 2) scratch = Buffer.allocUnsafe(len * 2)
  const out = scratch
  let n = 0
  let node = 0
  // Bits read since the last symbol, and whether all of them were 1s (the EOS prefix that pads the end).
  let pending = 0
  let ones = true
  const end = at + len
  for (let i = at; i < end; i++) {
    const byte = buf[i]!
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >>> b) & 1
      const next = TREE[2 * node + bit]!
      pending++
      if (bit === 0) ones = false
      if (next > 0) {
        node = next
        continue
      }
      const sym = -next
      if (sym === EOS) throw new HpackError('a Huffman string holds EOS')
      out[n++] = sym
      node = 0
      pending = 0
      ones = true
    }
  }
  // RFC 7541 §5.2: padding is the most significant bits of EOS (all 1s), shorter than a octet.
  if (pending > 7 || !ones) throw new HpackError('a Huffman string ends with bad padding')
  return out.toString('latin1', 0, n)
}

/** Encodes a latin1 string with the Huffman code (the decoder's tests use it; requests go as raw literals). */
export function huffmanEncode(s: string): Buffer {
  let bits = 0
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!
  const out = Buffer.alloc((bits + 7) >> 3)
  let acc = 0
  let accBits = 0
  let o = 0
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff
    const len = HUFFMAN_LENGTHS[sym]!
    const code = HUFFMAN_CODES[sym]!
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | ((code >>> b) & 1)
      if (++accBits === 8) {
        out[o++] = acc
        acc = 0
        accBits = 0
      }
    }
  }
  if (accBits > 0) out[o] = (acc << (8 - accBits)) | (0xff >> accBits)
  return out
}

// ---------------------------------------------------------------------------------------
// Decoder

/** The per-entry overhead of RFC 7541 §4.1. */
const ENTRY_OVERHEAD = 32

/** One connection's decoding context: the dynamic table, newest entry first. */
export class HpackDecoder {
  /** SETTINGS_HEADER_TABLE_SIZE we announced: the most a size update may ask for. */
  readonly maxAllowed: number
  /** The table's current maximum size (the last size update). */
  maxSize: number
  size = 0
  /** A ring of entries: names[head] is the newest (dynamic index 62). */
  names: string[] = new Array<string>(64)
  values: string[] = new Array<string>(64)
  head = 0
  count = 0

  constructor(maxAllowed = 4096) {
    this.maxAllowed = maxAllowed
    this.maxSize = maxAllowed
  }

  /**
   * Decodes a complete header block, pushing name, value pairs onto `out`. Throws HpackError,
   * also when the decoded list passes `maxListSize` (RFC 9113 §6.5.2's measure: name, value
   * and 32 octets per field): an indexed field is one octet on the wire and up to the table's
   * size decoded, so a small block could otherwise expand into a huge list.
   */
  decode(buf: Buffer, start: number, end: number, out: string[], maxListSize = Infinity): void {
    let i = start
    let fieldSeen = false
    let listSize = 0
    while (i < end) {
      if (fieldSeen) {
        // The field the last pass pushed (every pass after the first field pushes exactly one).
        listSize += out[out.length - 2]!.length + out[out.length - 1]!.length + ENTRY_OVERHEAD
        if (listSize > maxListSize) throw new HpackError(`a header list over ${maxListSize} octets`)
      }
      const b = buf[i]!
      if ((b & 0x80) !== 0) {
        // §6.1 Indexed Header Field.
        i = this.readInt(buf, i, end, 7)
        const index = intValue
        if (index === 0) throw new HpackError('index 0')
        this.pushIndexed(index, out)
        fieldSeen = true
        continue
      }
      if ((b & 0xe0) === 0x20) {
        // §6.3 Dynamic Table Size Update: only at the start of a block (§4.2).
        if (fieldSeen) throw new HpackError('a table size update after a header field')
        i = this.readInt(buf, i, end, 5)
        if (intValue > this.maxAllowed) throw new HpackError(`a table size update to ${intValue}, above the ${this.maxAllowed} allowed`)
        this.maxSize = intValue
        this.evict(0)
        continue
      }
      // §6.2 Literal Header Field: with incremental indexing (01), without (0000) or never indexed (0001).
      const indexing = (b & 0xc0) === 0x40
      i = this.readInt(buf, i, end, indexing ? 6 : 4)
      const nameIndex = intValue
      let name: string
      if (nameIndex === 0) {
        i = this.readString(buf, i, end)
        name = strValue
      } else {
        name = this.nameAt(nameIndex)
      }
      i = this.readString(buf, i, end)
      const value = strValue
      out.push(name, value)
      fieldSeen = true
      if (indexing) this.add(name, value)
    }
    if (fieldSeen && listSize + out[out.length - 2]!.length + out[out.length - 1]!.length + ENTRY_OVERHEAD > maxListSize) {
      throw new HpackError(`a header list over ${maxListSize} octets`)
    }
  }

  /** The dynamic table, newest first (for tests and diagnostics). */
  entries(): [string, string][] {
    const out: [string, string][] = []
    for (let d = 0; d < this.count; d++) {
      const slot = (this.head + d) & (this.names.length - 1)
      out.push([this.names[slot]!, this.values[slot]!])
    }
    return out
  }

  nameAt(index: number): string {
    if (index <= STATIC_COUNT) return STATIC_TABLE[index]![0]
    const d = index - STATIC_COUNT - 1
    if (d >= this.count) throw new HpackError(`index ${index} is outside the tables`)
    return this.names[(this.head + d) & (this.names.length - 1)]!
  }

  pushIndexed(index: number, out: string[]): void {
    if (index <= STATIC_COUNT) {
      const e = STATIC_TABLE[index]!
      out.push(e[0], e[1])
      return
    }
    const d = index - STATIC_COUNT - 1
    if (d >= this.count) throw new HpackError(`index ${index} is outside the tables`)
    const slot = (this.head + d) & (this.names.length - 1)
    out.push(this.names[slot]!, this.values[slot]!)
  }

  /** §4.4: evicts from the oldest end until `extra` more octets fit. */
  evict(extra: number): void {
    const mask = this.names.length - 1
    while (this.count > 0 && this.size + extra > this.maxSize) {
      const slot = (this.head + this.count - 1) & mask
      this.size -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD
      this.names[slot] = ''
      this.values[slot] = ''
      this.count--
    }
  }

  add(name: string, value: string): void {
    const entry = name.length + value.length + ENTRY_OVERHEAD
    this.evict(entry)
    // An entry larger than the table empties it and is not added (§4.4).
    if (entry > this.maxSize) return
    if (this.count === this.names.length) this.grow()
    const mask = this.names.length - 1
    this.head = (this.head - 1) & mask
    this.names[this.head] = name
    this.values[this.head] = value
    this.count++
    this.size += entry
  }

  grow(): void {
    const len = this.names.length
    const names = new Array<string>(len * 2)
    const values = new Array<string>(len * 2)
    for (let d = 0; d < this.count; d++) {
      names[d] = this.names[(this.head + d) & (len - 1)]!
      values[d] = this.values[(this.head + d) & (len - 1)]!
    }
    this.names = names
    this.values = values
    this.head = 0
  }

  /** §5.1: an integer with an N-bit prefix at buf[i]; the value in intValue, returns the next offset. */
  readInt(buf: Uint8Array, i: number, end: number, prefixBits: number): number {
    const max = (1 << prefixBits) - 1
    let v = buf[i++]! & max
    if (v === max) {
      let shift = 0
      let b: number
      do {
        if (i >= end) throw new HpackError('a truncated integer')
        b = buf[i++]!
        v += (b & 0x7f) * 2 ** shift
        shift += 7
        if (shift > 28) throw new HpackError('an integer too large')
      } while ((b & 0x80) !== 0)
    }
    intValue = v
    return i
  }

  /** §5.2: a string literal at buf[i]; the value in strValue, returns the next offset. */
  readString(buf: Buffer, i: number, end: number): number {
    if (i >= end) throw new HpackError('a truncated string')
    const huffman = (buf[i]! & 0x80) !== 0
    i = this.readInt(buf, i, end, 7)
    const len = intValue
    if (i + len > end) throw new HpackError('a string longer than its block')
    strValue = huffman ? huffmanDecode(buf, i, len) : latin1(buf, i, len)
    return i + len
  }
}

// readInt and readString's results (one decoder runs at a time on the thread: no allocation for a pair).
let intValue = 0
let strValue = ''

function latin1(buf: Buffer, at: number, len: number): string {
  if (len === 0) return ''
  return buf.toString('latin1', at, at + len)
}

// ---------------------------------------------------------------------------------------
// Encoder (requests): built once per route, so plain number arrays are good enough.

/** §5.1 integer with an N-bit prefix, the first octet's high bits from `flags`. */
export function encodeInt(out: number[], value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1
  if (value < max) {
    out.push(flags | value)
    return
  }
  out.push(flags | max)
  value -= max
  while (value >= 128) {
    out.push((value % 128) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
}

function encodeRaw(out: number[], s: string): void {
  encodeInt(out, s.length, 7, 0)
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff)
}

/** The static index of (name, value), or 0. */
function staticIndex(name: string, value: string): number {
  for (let i = 1; i <= STATIC_COUNT; i++) if (STATIC_TABLE[i]![0] === name && STATIC_TABLE[i]![1] === value) return i
  return 0
}

/** The static index of a name, or 0. */
function staticNameIndex(name: string): number {
  for (let i = 1; i <= STATIC_COUNT; i++) if (STATIC_TABLE[i]![0] === name) return i
  return 0
}

/**
 * One field: indexed when the static table has it whole (§6.1), else a literal without
 * indexing (§6.2.2), its name indexed when the static table has the name.
 */
export function encodeField(out: number[], name: string, value: string): void {
  const full = staticIndex(name, value)
  if (full !== 0) {
    encodeInt(out, full, 7, 0x80)
    return
  }
  const nameIndex = staticNameIndex(name)
  encodeInt(out, nameIndex, 4, 0)
  if (nameIndex === 0) encodeRaw(out, name)
  encodeRaw(out, value)
}

/** A header block of `fields` (name, value, name, value …). */
export function encodeBlock(fields: readonly string[]): Buffer {
  const out: number[] = []
  for (let i = 0; i < fields.length; i += 2) encodeField(out, fields[i]!, fields[i + 1]!)
  return Buffer.from(out)
}
