// The API-level x-amazon-apigateway-* keys: binary media types, minimum compression
// size, API key source, request validators and gateway responses.
import { Codes, pointerJoin } from '../../errors.js'
import type { GatewayResponseSource, RequestValidatorSource } from '../model.js'
import { GATEWAY_RESPONSE_TYPES } from '../../method-response/gateway-response-types.js'
import type { ExtensionContext } from './integration.js'
import { isRecord } from '../../util/is-record.js'
import { readStringMap } from '../string-map.js'
import { warnUnknownKeys } from '../unknown-keys.js'


function error(ctx: ExtensionContext, pointer: string, message: string): void {
  ctx.problems.push({ code: Codes.SHAPE, file: ctx.file, pointer, message, severity: 'error' })
}

/** x-amazon-apigateway-binary-media-types: a list of MIME types, wildcards allowed. */
export function normalizeBinaryMediaTypes(ctx: ExtensionContext, raw: unknown): string[] {
  if (raw === undefined) return []
  const ptr = '/x-amazon-apigateway-binary-media-types'
  if (!Array.isArray(raw)) {
    error(ctx, ptr, 'must be a list of media types')
    return []
  }
  const out: string[] = []
  raw.forEach((t, i) => {
    // Exports escape the slash as "~1" (image~1png): API Gateway's own path encoding.
    if (typeof t === 'string' && t.length > 0) out.push(t.replace(/~1/g, '/').toLowerCase())
    else error(ctx, pointerJoin(ptr, i), 'must be a media type string')
  })
  return out
}

/** x-amazon-apigateway-minimum-compression-size: 0 … 10485760 bytes, or absent (off). */
export function normalizeMinimumCompressionSize(ctx: ExtensionContext, raw: unknown): number | null {
  if (raw === undefined || raw === null) return null
  if (!Number.isInteger(raw) || (raw as number) < 0 || (raw as number) > 10485760) {
    error(ctx, '/x-amazon-apigateway-minimum-compression-size', 'must be an integer from 0 to 10485760')
    return null
  }
  return raw as number
}

/** x-amazon-apigateway-api-key-source: HEADER (default) or AUTHORIZER. */
export function normalizeApiKeySource(ctx: ExtensionContext, raw: unknown): 'HEADER' | 'AUTHORIZER' {
  if (raw === undefined) return 'HEADER'
  if (raw === 'HEADER' || raw === 'AUTHORIZER') return raw
  error(ctx, '/x-amazon-apigateway-api-key-source', 'must be HEADER or AUTHORIZER')
  return 'HEADER'
}

export function normalizeRequestValidators(ctx: ExtensionContext, raw: unknown): Record<string, RequestValidatorSource> {
  const out: Record<string, RequestValidatorSource> = {}
  if (raw === undefined) return out
  const ptr = '/x-amazon-apigateway-request-validators'
  if (!isRecord(raw)) {
    error(ctx, ptr, 'must be a map of validator names')
    return out
  }
  for (const [name, v] of Object.entries(raw)) {
    if (!isRecord(v)) {
      error(ctx, pointerJoin(ptr, name), 'must be an object with validateRequestBody and validateRequestParameters')
      continue
    }
    warnUnknownKeys(v, ['validateRequestBody', 'validateRequestParameters'], ctx.file, pointerJoin(ptr, name), ctx.problems)
    out[name] = { validateRequestBody: v.validateRequestBody === true, validateRequestParameters: v.validateRequestParameters === true }
  }
  return out
}

export function normalizeGatewayResponses(ctx: ExtensionContext, raw: unknown): Record<string, GatewayResponseSource> {
  const out: Record<string, GatewayResponseSource> = {}
  if (raw === undefined) return out
  const ptr = '/x-amazon-apigateway-gateway-responses'
  if (!isRecord(raw)) {
    error(ctx, ptr, 'must be a map of gateway response types')
    return out
  }
  for (const [type, v] of Object.entries(raw)) {
    const p = pointerJoin(ptr, type)
    if (!Object.hasOwn(GATEWAY_RESPONSE_TYPES, type)) {
      error(ctx, p, `unknown gateway response type ${type}`)
      continue
    }
    if (!isRecord(v)) {
      error(ctx, p, 'must be an object')
      continue
    }
    warnUnknownKeys(v, ['statusCode', 'responseParameters', 'responseTemplates', 'defaultResponse'], ctx.file, p, ctx.problems)
    let statusCode: number | null = null
    if (v.statusCode !== undefined) {
      const s = Number(v.statusCode)
      if (Number.isInteger(s) && s >= 100 && s <= 599) statusCode = s
      else error(ctx, pointerJoin(p, 'statusCode'), 'must be an HTTP status code')
    }
    const strings = (m: unknown, mp: string) => readStringMap(ctx.problems, ctx.file, Codes.SHAPE, m, mp)
    const responseParameters = strings(v.responseParameters, pointerJoin(p, 'responseParameters'))
    for (const k of Object.keys(responseParameters)) {
      // A header name is an HTTP token, dots included (API Gateway imports gatewayresponse.header.X.Y).
      if (!/^gatewayresponse\.header\.[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k)) error(ctx, pointerJoin(p, 'responseParameters', k), `invalid mapping expression specified: ${k}`)
    }
    out[type] = { statusCode, responseParameters, responseTemplates: strings(v.responseTemplates, pointerJoin(p, 'responseTemplates')) }
  }
  return out
}
