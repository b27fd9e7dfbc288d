// Request ids: $context.requestId (a UUID, as API Gateway's) and $context.extendedRequestId
// (API Gateway's 16-character base64 id, sent as x-amz-apigw-id).
import { randomBytes, randomUUID } from 'node:crypto'

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

/**
 * An X-Ray trace header value, `Root=1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}`,
 * as API Gateway sends in X-Amzn-Trace-Id when the client sent none.
 */
export function newTraceId(nowMs: number): string {
  const b = randomBytes(12)
  let r = ''
  for (let i = 0; i < 12; i++) r += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!
  return 'Root=1-' + Math.floor(nowMs / 1000).toString(16).padStart(8, '0') + '-' + r
}
