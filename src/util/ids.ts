// Request ids: $context.requestId (a UUID, as API Gateway's) and $context.extendedRequestId
// (API Gateway's 16-character base64 id, sent as x-amz-apigw-id).
import { randomBytes, randomFillSync, randomUUID } from 'node:crypto'

export function newRequestId(): string {
  // randomUUID draws from a cached entropy pool: no syscall per call.
  return randomUUID()
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
/** A per-thread random prefix plus a counter: unique without drawing entropy per request. */
const PREFIX = (() => {
  const b = randomBytes(7)
  let s = ''
  for (let i = 0; i < 7; i++) s += ALPHABET[b[i]! & 63]
  return s
})()
let counter = 0

export function newApigwId(): string {
  let n = (counter = (counter + 1) % 0x1000000000)
  let tail = ''
  for (let i = 0; i < 7; i++) {
    tail = ALPHABET[n & 63]! + tail
    n = Math.floor(n / 64)
  }
  return PREFIX + 'F' + tail + '='
}

const HEX = '0123456789abcdef'
/** Random bytes drawn 4 KB at a time: a trace id per request costs no entropy call. */
const POOL = Buffer.alloc(4096)
let poolAt = POOL.length

/**
 * An X-Ray trace header value, `Root=1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}`,
 * as API Gateway sends in X-Amzn-Trace-Id when the client sent none.
 */
export function newTraceId(nowMs: number): string {
  if (poolAt + 12 > POOL.length) {
    randomFillSync(POOL)
    poolAt = 0
  }
  let r = ''
  for (let i = poolAt; i < poolAt + 12; i++) r += HEX[POOL[i]! >> 4]! + HEX[POOL[i]! & 15]!
  poolAt += 12
  return 'Root=1-' + Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + '-' + r
}
