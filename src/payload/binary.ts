// Binary media types and contentHandling: which payloads are binary, and the base64
// conversions API Gateway applies between method and integration.
//
// Documented facts (developer guide), pinned in test/unit/pipeline/binary.test.ts:
// - "Content type conversions in API Gateway": the two tables (request: by the request's
//   Content-Type; response: by the request's Accept and the integration response's payload),
//   one row per test; "When a request contains multiple media types in its Accept header,
//   API Gateway only honors the first Accept media type"; a failed base64 decode "returns a
//   500 response indicating an API configuration error".
// - "Working with binary media types for REST APIs": "You can use the wildcard character (*)
//   to cover multiple media types. For example, */* includes all content types."
// - "Gateway response types": API_CONFIGURATION_ERROR covers "when base64 decoding fails on
//   binary data when binary support is enacted".

import type { ContentHandling } from '../config/model.js'

/** Decides whether a Content-Type (or the first type of an Accept header) is binary. */
export interface BinaryMediaTypeMatcher {
  /** True when the media type matches an entry of binaryMediaTypes; false for null or empty. */
  isBinary(contentTypeOrAccept: string | null): boolean
}

/** Returned by the conversions when a body is not valid base64: answer API_CONFIGURATION_ERROR (500). */
export const BASE64_DECODE_FAILED: unique symbol = Symbol('BASE64_DECODE_FAILED')
export type ConvertedBody = Uint8Array | null | typeof BASE64_DECODE_FAILED

/**
 * The media type a header names, lower-case and without parameters; for an Accept header,
 * its first media type only. '' when there is none.
 */
export function firstMediaType(value: string): string {
  let end = value.length
  const comma = value.indexOf(',')
  if (comma >= 0) end = comma
  const semi = value.indexOf(';')
  if (semi >= 0 && semi < end) end = semi
  return value.slice(0, end).trim().toLowerCase()
}

class Matcher implements BinaryMediaTypeMatcher {
  readonly #exact: ReadonlySet<string>
  /** Types whose every subtype is binary (`image` for `image/*`). */
  readonly #types: ReadonlySet<string>
  readonly #all: boolean

  constructor(exact: Set<string>, types: Set<string>, all: boolean) {
    this.#exact = exact
    this.#types = types
    this.#all = all
  }

  isBinary(contentTypeOrAccept: string | null): boolean {
    if (contentTypeOrAccept === null) return false
    const mt = firstMediaType(contentTypeOrAccept)
    if (mt === '') return false
    if (this.#all || this.#exact.has(mt)) return true
    const slash = mt.indexOf('/')
    return slash > 0 && this.#types.has(mt.slice(0, slash))
  }
}

/** Compiles x-amazon-apigateway-binary-media-types into a matcher (entries may be `~1`-escaped, as in the REST API's patch paths). */
export function compileBinaryMediaTypes(list: readonly string[]): BinaryMediaTypeMatcher {
  const exact = new Set<string>()
  const types = new Set<string>()
  let all = false
  for (const raw of list) {
    const mt = firstMediaType(raw.replace(/~1/g, '/'))
    if (mt === '') continue
    if (mt === '*/*' || mt === '*') all = true
    else if (mt.endsWith('/*')) types.add(mt.slice(0, -2))
    else exact.add(mt)
  }
  return Object.freeze(new Matcher(exact, types, all))
}

/** Encodes bytes as a base64 string's UTF-8 bytes (the "Base64-encoded string" of the tables). */
export function base64Encode(body: Uint8Array): Uint8Array {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return Buffer.from(b.toString('base64'), 'latin1')
}

/** Standard alphabet, optional padding; whitespace (line breaks of MIME base64) is skipped. */
const BASE64_BODY = /^[A-Za-z0-9+/]*={0,2}$/

/** Decodes a base64 text body; BASE64_DECODE_FAILED when it is not base64. */
export function base64Decode(body: Uint8Array): Uint8Array | typeof BASE64_DECODE_FAILED {
  let text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1')
  if (/\s/.test(text)) text = text.replace(/\s+/g, '')
  if (!BASE64_BODY.test(text) || text.length % 4 === 1) return BASE64_DECODE_FAILED
  const eq = text.indexOf('=')
  if (eq >= 0 && text.length % 4 !== 0) return BASE64_DECODE_FAILED // padding only completes a quantum
  return Buffer.from(text, 'base64')
}

/**
 * Method request payload → integration request payload ("Content type conversions",
 * first table). `isBinary`: the request's Content-Type matches binaryMediaTypes.
 * - binary payload: CONVERT_TO_TEXT base64-encodes it; otherwise it passes as-is.
 * - text payload: CONVERT_TO_BINARY base64-decodes it; otherwise it passes as-is.
 */
export function convertRequestBody(body: Uint8Array | null, isBinary: boolean, contentHandling: ContentHandling | null): ConvertedBody {
  if (body === null || body.byteLength === 0) return body
  if (isBinary) return contentHandling === 'CONVERT_TO_TEXT' ? base64Encode(body) : body
  return contentHandling === 'CONVERT_TO_BINARY' ? base64Decode(body) : body
}

/**
 * Integration response payload → method response payload ("Content type conversions",
 * second table). `payloadIsBinary`: the integration response's Content-Type matches
 * binaryMediaTypes; `acceptIsBinary`: the first type of the request's Accept does.
 * - CONVERT_TO_TEXT: a binary payload is base64-encoded; text passes.
 * - CONVERT_TO_BINARY: a text payload is base64-decoded; binary passes.
 * - undefined: passes when payload and Accept agree; else binary→text encodes, text→binary decodes.
 */
export function convertResponseBody(
  body: Uint8Array | null,
  payloadIsBinary: boolean,
  acceptIsBinary: boolean,
  contentHandling: ContentHandling | null,
): ConvertedBody {
  if (body === null || body.byteLength === 0) return body
  if (contentHandling === 'CONVERT_TO_TEXT') return payloadIsBinary ? base64Encode(body) : body
  if (contentHandling === 'CONVERT_TO_BINARY') return payloadIsBinary ? body : base64Decode(body)
  if (payloadIsBinary === acceptIsBinary) return body
  return payloadIsBinary ? base64Encode(body) : base64Decode(body)
}
