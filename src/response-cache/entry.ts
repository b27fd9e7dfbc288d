// A cached response as bytes: what the integration response produced (status, headers,
// body), before the per-request parts (compression, x-amzn-RequestId) are added. The same
// bytes go into the shared store and into Redis.
//
//   status (u16 LE) | headers JSON length (u32 LE) | headers JSON ([name, value, …]) | body

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** "The maximum size of a response that can be cached is 1048576 bytes" (the guide, "Cache settings for REST APIs"). */
export const MAX_CACHED_RESPONSE_BYTES = 1_048_576

export interface CachedResponse {
  readonly status: number
  readonly headers: string[]
  readonly body: Uint8Array | null
}

export function encodeCachedResponse(status: number, headers: readonly string[], body: Uint8Array | null): Uint8Array {
  const json = encoder.encode(JSON.stringify(headers))
  const bodyLen = body === null ? 0 : body.byteLength
  const out = new Uint8Array(6 + json.length + bodyLen)
  const view = new DataView(out.buffer)
  view.setUint16(0, status, true)
  view.setUint32(2, json.length, true)
  out.set(json, 6)
  if (body !== null) out.set(body, 6 + json.length)
  return out
}

/** The response stored in `bytes`, or null when they are not an entry (a foreign Redis value). */
export function decodeCachedResponse(bytes: Uint8Array): CachedResponse | null {
  if (bytes.byteLength < 6) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const status = view.getUint16(0, true)
  const jsonLen = view.getUint32(2, true)
  if (6 + jsonLen > bytes.byteLength) return null
  let headers: unknown
  try {
    headers = JSON.parse(decoder.decode(bytes.subarray(6, 6 + jsonLen)))
  } catch {
    return null
  }
  if (!Array.isArray(headers) || headers.some((h) => typeof h !== 'string')) return null
  const body = bytes.byteLength > 6 + jsonLen ? bytes.slice(6 + jsonLen) : null
  return { status, headers: headers as string[], body }
}
