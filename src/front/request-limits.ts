// What the front refuses before any worker sees a request: a request line or header
// section past API Gateway's limits, and message framing it cannot honour. Each answer
// closes the connection (the bytes that follow cannot be trusted to start a request).
//
// API Gateway developer guide, "Quotas for configuring and running a REST API":
//   - length, in characters, of the URL for a regional API: 10240;
//   - total combined size of request line and header values: 10240 bytes.

/** The request target (path and query string) at most, in characters. */
export const MAX_URL_LENGTH = 10_240
/** The request line and the header values together at most, in bytes. */
export const MAX_REQUEST_HEAD_BYTES = 10_240

/** Why the front refuses a request, or OK. */
export const enum FrontCheck {
  OK,
  /** 414: the URL is longer than MAX_URL_LENGTH. */
  URL_TOO_LONG,
  /** 431: the request line and header values pass MAX_REQUEST_HEAD_BYTES. */
  HEADERS_TOO_LARGE,
  /** 400: Transfer-Encoding that is not a list of tokens, chunked twice or not last, or with Content-Length; a Content-Length that is not one number. */
  BAD_FRAMING,
  /** 501: a transfer coding other than chunked (`gzip, chunked`, `identity`, `xchunked`). */
  UNKNOWN_TRANSFER_CODING,
}

/** A token (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const DIGITS = /^[0-9]+$/

/**
 * Checks the copied request head. `headers` are uWS's pairs, names lower-case.
 * The request line counts as METHOD SP target SP HTTP/1.1.
 */
export function checkRequestHead(method: string, url: string, query: string, headers: readonly string[]): FrontCheck {
  const urlLength = url.length + (query === '' ? 0 : query.length + 1)
  if (urlLength > MAX_URL_LENGTH) return FrontCheck.URL_TOO_LONG
  let size = method.length + urlLength + 10
  let te: string | null = null
  let contentLength: string | null = null
  let contentLengths = 0
  for (let i = 0; i < headers.length; i += 2) {
    const value = headers[i + 1]!
    size += value.length
    const name = headers[i]!
    if (name.length === 17 && name === 'transfer-encoding') te = te === null ? value : te + ',' + value
    else if (name.length === 14 && name === 'content-length') {
      contentLengths++
      contentLength = value
    }
  }
  if (size > MAX_REQUEST_HEAD_BYTES) return FrontCheck.HEADERS_TOO_LARGE
  if (contentLength !== null && (contentLengths > 1 || !DIGITS.test(contentLength.trim()))) return FrontCheck.BAD_FRAMING
  if (te === null) return FrontCheck.OK
  if (te.length === 7 && te.toLowerCase() === 'chunked') return contentLength === null ? FrontCheck.OK : FrontCheck.BAD_FRAMING
  return classifyTransferEncoding(te, contentLength !== null)
}

/** The slow path: a Transfer-Encoding other than exactly `chunked`. */
function classifyTransferEncoding(te: string, hasContentLength: boolean): FrontCheck {
  const codings = te.split(',')
  let chunked = 0
  for (let i = 0; i < codings.length; i++) {
    const c = codings[i]!.trim().toLowerCase()
    // A list element may carry parameters (`gzip;q=1` is not valid here, but `foo;a=b` is syntax).
    const name = c.indexOf(';') === -1 ? c : c.slice(0, c.indexOf(';')).trim()
    if (!TOKEN.test(name)) return FrontCheck.BAD_FRAMING
    if (name === 'chunked') {
      chunked++
      // RFC 9112 §6.1: chunked at most once, and last.
      if (i !== codings.length - 1) return FrontCheck.BAD_FRAMING
    }
  }
  if (chunked > 1 || hasContentLength) return FrontCheck.BAD_FRAMING
  return FrontCheck.UNKNOWN_TRANSFER_CODING
}
