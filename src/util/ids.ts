// Request ids: $context.requestId (a UUID, as API Gateway's) and $context.extendedRequestId
// (API Gateway's 16-character base64 id, sent as x-amz-apigw-id).
//
// Hot path (issue 11): each id is written byte by byte into a scratch buffer and read out as
// one flat latin1 string, one allocation per id. Building them with `+=` (or crypto's
// randomUUID, which joins 16 hex pairs) made a rope of ~20 strings per id for the GC.
import { randomBytes, randomFillSync } from 'node:crypto'

/** Random bytes drawn 4 KB at a time: ids and trace ids cost no entropy call each. */
const POOL = Buffer.alloc(4096)
let poolAt = POOL.length

/** The offset of `n` fresh random bytes in POOL (refilled when used up). */
function take(n: number): number {
  if (poolAt + n > POOL.length) {
    randomFillSync(POOL)
    poolAt = 0
  }
  const at = poolAt
  poolAt += n
  return at
}

/** ASCII codes of the 16 hex digits. */
const HEX = Buffer.from('0123456789abcdef', 'latin1')
/** Scratch for the UUID text: 8-4-4-4-12 hex digits. */
const UUID = Buffer.from('00000000-0000-4000-8000-000000000000', 'latin1')
/** Where each of the 16 bytes' two digits go in UUID. */
const UUID_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]

/** A random (version 4, RFC 9562) UUID, lower-case, as API Gateway's request ids. */
export function newRequestId(): string {
  const at = take(16)
  for (let i = 0; i < 16; i++) {
    let b = POOL[at + i]!
    if (i === 6) b = (b & 0x0f) | 0x40 // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80 // variant 10
    const o = UUID_AT[i]!
    UUID[o] = HEX[b >> 4]!
    UUID[o + 1] = HEX[b & 15]!
  }
  return UUID.toString('latin1', 0, 36)
}

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1')
/** Scratch for the apigw id: a per-thread random prefix (7), 'F', a counter (7), '='. */
const APIGW = Buffer.from('AAAAAAAFAAAAAAA=', 'latin1')
{
  const b = randomBytes(7)
  for (let i = 0; i < 7; i++) APIGW[i] = ALPHABET[b[i]! & 63]!
}
let counter = 0

/** Unique without drawing entropy per request: the prefix is random per thread, the tail counts. */
export function newApigwId(): string {
  let n = (counter = (counter + 1) % 0x1000000000)
  for (let i = 14; i >= 8; i--) {
    APIGW[i] = ALPHABET[n & 63]!
    n = Math.floor(n / 64)
  }
  return APIGW.toString('latin1', 0, 16)
}

/** `Root=1-{epoch seconds, 8 hex}-`, kept for the second it names. */
let rootSecond = -1
let rootPrefix = ''

/**
 * An X-Ray trace header value, `Root=1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}`,
 * as API Gateway sends in X-Amzn-Trace-Id when the client sent none.
 */
export function newTraceId(nowMs: number): string {
  const second = Math.floor(nowMs / 1000)
  if (second !== rootSecond) {
    rootSecond = second
    rootPrefix = 'Root=1-' + second.toString(16).padStart(8, '0') + '-'
  }
  const at = take(12)
  return rootPrefix + POOL.toString('hex', at, at + 12)
}
