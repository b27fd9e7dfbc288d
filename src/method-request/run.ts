// Method request, run step: payload decompression and request validation (authorization,
// API keys, throttling and the cache lookup join here, each compiled by its own file).
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { validateRequest } from './validation.js'
import { DECOMPRESSED_TOO_LARGE, UNSUPPORTED_CONTENT_ENCODING, decompressRequestBody } from '../payload/compression.js'

/** Method request: payload decompression and validation. False once it has answered. */
export function runMethodRequest(ctx: RequestContext): boolean {
  // The guide ("Payload compression for REST APIs"): "By default, API Gateway supports
  // decompression of the method request payload"; only response compression needs
  // minimumCompressionSize ("Call an API method with a compressed payload": the coding is
  // checked before the API and stage are even identified).
  if (ctx.body !== null) {
    const coding = ctx.header('content-encoding')
    if (coding !== null) {
      const out = decompressRequestBody(ctx.body, coding)
      if (out === UNSUPPORTED_CONTENT_ENCODING) {
        sendGatewayResponse(ctx, 'UNSUPPORTED_MEDIA_TYPE')
        return false
      }
      if (out === DECOMPRESSED_TOO_LARGE) {
        sendGatewayResponse(ctx, 'REQUEST_TOO_LARGE')
        return false
      }
      if (out !== ctx.body) ctx.bodyDecompressed = true
      ctx.body = out
    }
  }
  const validation = ctx.method!.validation
  if (validation === null) return true
  const headers: Record<string, string> = {}
  const h = ctx.request.headers
  for (let i = 0; i < h.length; i += 2) headers[h[i]!] = h[i + 1]!
  const path: Record<string, string> = {}
  const p = ctx.match!.params
  for (let i = 0; i < p.length; i += 2) path[p[i]!] = p[i + 1]!
  const failure = validateRequest(validation, { contentType: ctx.header('content-type'), body: ctx.body, query: ctx.queryParameters(), headers, pathParams: path })
  if (failure === null) return true
  ctx.validationErrorString = failure.validationErrorString
  sendGatewayResponse(ctx, failure.type, failure.message)
  return false
}
