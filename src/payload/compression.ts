// Payload compression: x-amazon-apigateway-minimum-compression-size (RestApi
// minimumCompressionSize), Accept-Encoding negotiation for method responses, and
// decompression of method request payloads sent with a Content-Encoding.
//
// Documented facts (developer guide), pinned in test/unit/pipeline/compression.test.ts:
// - "Content codings supported by API Gateway" (Enable payload compression for an API):
//   deflate, gzip, identity; the Accept-Encoding forms `deflate,gzip`, ``, `*`,
//   `deflate;q=0.5,gzip;q=1.0`, `gzip;q=1.0,identity;q=0.5,*;q=0`; and "The
//   highest-priority content encoding must be one supported by API Gateway. If it is not,
//   compression is not applied to the response payload."
// - "Payload compression for REST APIs": minimumCompressionSize is 0…10485760; null or
//   absent disables compression; 0 compresses a payload of any size; "By default, API
//   Gateway supports decompression of the method request payload".
// - "Receive an API response with a compressed payload": compression only when the request
//   has an Accept-Encoding with a supported coding (absent means `*`, which does not
//   compress), minimumCompressionSize is set, the integration response has no
//   Content-Encoding, and the payload after the mapping template is ≥ minimumCompressionSize;
//   the response carries `Content-Encoding: gzip` (the only header the page shows).
// - "Call an API method with a compressed payload": an unsupported Content-Encoding, or a
//   payload not compressed with the coding named, gets 415 Unsupported Media Type.

import { gzipSync, deflateSync, gunzipSync, inflateSync, constants as zlibConstants } from 'node:zlib'
import { MAX_REQUEST_BODY_BYTES } from '../config/model.js'

/** The codings API Gateway compresses with (identity is "no compression"). */
export type ContentCoding = 'gzip' | 'deflate'

/** zlib level. Default (6); measured on the dev machine at ≈ 5–13 ms per MB of JSON. */
const COMPRESSION_LEVEL = zlibConstants.Z_DEFAULT_COMPRESSION
/** The largest minimumCompressionSize API Gateway accepts (10 MB). */
export const MAX_MINIMUM_COMPRESSION_SIZE = 10_485_760
/** A decompressed request body may not exceed API Gateway's payload limit (a bound against zip bombs). */
const MAX_DECOMPRESSED_BYTES = MAX_REQUEST_BODY_BYTES

/** decompressRequestBody(): unknown coding, or a body not compressed with it → 415 UNSUPPORTED_MEDIA_TYPE. */
export const UNSUPPORTED_CONTENT_ENCODING: unique symbol = Symbol('UNSUPPORTED_CONTENT_ENCODING')
/** decompressRequestBody(): the decompressed body exceeds the payload limit → 413 REQUEST_TOO_LARGE. */
export const DECOMPRESSED_TOO_LARGE: unique symbol = Symbol('DECOMPRESSED_TOO_LARGE')
export type DecompressedBody = Uint8Array | null | typeof UNSUPPORTED_CONTENT_ENCODING | typeof DECOMPRESSED_TOO_LARGE

/**
 * The coding to compress a response with, from the request's Accept-Encoding; null for none.
 * The entry with the highest q decides (the first such entry on a tie): gzip or deflate
 * compress; identity, `*`, or a coding API Gateway does not support (br, zstd, …) mean no
 * compression. q=0 entries are refused codings. An absent or empty header means no compression.
 */
export function chooseEncoding(acceptEncoding: string | null): ContentCoding | null {
  if (acceptEncoding === null) return null
  let best: string | null = null
  let bestQ = 0
  for (const part of acceptEncoding.split(',')) {
    const semi = part.indexOf(';')
    const coding = (semi < 0 ? part : part.slice(0, semi)).trim().toLowerCase()
    if (coding === '') continue
    let q = 1
    if (semi >= 0) {
      const m = /;\s*q\s*=([^;]*)/i.exec(part.slice(semi))
      if (m !== null) {
        const w = m[1]!.trim()
        q = /^[0-9.]+$/.test(w) ? Number(w) : NaN
        if (!Number.isFinite(q) || q > 1) q = 0 // a malformed weight refuses the coding
      }
    }
    if (q > bestQ) {
      best = coding
      bestQ = q
    }
  }
  return best === 'gzip' || best === 'deflate' ? best : null
}

/**
 * Whether a response payload of `bodyLength` bytes (after the mapping template) is compressed:
 * minimumCompressionSize set (null disables), the integration response carries no
 * Content-Encoding (taken as already compressed), and bodyLength ≥ minimumCompressionSize.
 */
export function shouldCompress(minimumCompressionSize: number | null, bodyLength: number, integrationContentEncoding: string | null): boolean {
  if (minimumCompressionSize === null) return false
  if (integrationContentEncoding !== null && integrationContentEncoding.trim() !== '') return false
  return bodyLength >= minimumCompressionSize
}

/**
 * The coding to apply to a method response, or null: chooseEncoding() ∧ shouldCompress().
 * When non-null, send the compressed body with `Content-Encoding: <coding>`.
 */
export function responseEncoding(
  minimumCompressionSize: number | null,
  acceptEncoding: string | null,
  bodyLength: number,
  integrationContentEncoding: string | null,
): ContentCoding | null {
  if (!shouldCompress(minimumCompressionSize, bodyLength, integrationContentEncoding)) return null
  return chooseEncoding(acceptEncoding)
}

/**
 * Compresses a body (gzip: RFC 1952; deflate: the zlib format of RFC 1950, as HTTP's
 * `deflate` is). Synchronous: it blocks this worker ≈ 5–13 ms per MB, so a large
 * minimumCompressionSize of 0 with big payloads costs the worker's other requests.
 */
export function compressBody(body: Uint8Array, encoding: ContentCoding): Uint8Array {
  return encoding === 'gzip' ? gzipSync(body, { level: COMPRESSION_LEVEL }) : deflateSync(body, { level: COMPRESSION_LEVEL })
}

/**
 * Decompresses a method request payload by its Content-Encoding (null, '' or identity:
 * unchanged). Codings listed in order of application are undone in reverse. Returns
 * UNSUPPORTED_CONTENT_ENCODING (→ 415) for an unknown coding or a body that does not
 * decompress, DECOMPRESSED_TOO_LARGE (→ 413) past the 10 MB payload limit.
 */
export function decompressRequestBody(body: Uint8Array | null, contentEncoding: string | null): DecompressedBody {
  if (contentEncoding === null) return body
  const codings = contentEncoding.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity')
  if (codings.length === 0) return body
  for (const c of codings) if (c !== 'gzip' && c !== 'deflate') return UNSUPPORTED_CONTENT_ENCODING
  if (body === null || body.byteLength === 0) return UNSUPPORTED_CONTENT_ENCODING // nothing compressed with the coding named
  let out: Uint8Array = body
  for (let i = codings.length - 1; i >= 0; i--) {
    try {
      out = codings[i] === 'gzip' ? gunzipSync(out, { maxOutputLength: MAX_DECOMPRESSED_BYTES }) : inflateSync(out, { maxOutputLength: MAX_DECOMPRESSED_BYTES })
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? DECOMPRESSED_TOO_LARGE : UNSUPPORTED_CONTENT_ENCODING
    }
  }
  return out.byteLength === 0 ? null : out
}
