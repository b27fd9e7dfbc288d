// Integration request for non-proxy integrations: choose the request template by the
// method request's Content-Type, apply passthroughBehavior, render, map headers.
import { TargetKind } from './compile.js'
import { type CompiledIntegration } from '../integrations/compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { buildTemplateVariables } from '../mapping/template-variables.js'
import { renderTemplate } from '../mapping/templates.js'
import { resolveMapping } from './parameters.js'
import type { TemplateOverrides } from '../mapping/templates.js'
import { BASE64_DECODE_FAILED, convertRequestBody } from '../payload/binary.js'
import { setHeader } from '../util/header-pairs.js'

/** What a non-proxy integration request sends, made here. */
export interface PreparedRequest {
  readonly headers: string[]
  readonly body: Uint8Array | null
  readonly overrides: TemplateOverrides | null
}
/** The guide: a request without Content-Type is taken as application/json. */
export const DEFAULT_REQUEST_CONTENT_TYPE = 'application/json'

/** The request template whose key equals the media type (parameters ignored), or null. */
export function matchRequestTemplate(templates: Readonly<Record<string, string>>, contentType: string | null): [string, string] | null {
  const type = (contentType ?? DEFAULT_REQUEST_CONTENT_TYPE).split(';')[0]!.trim().toLowerCase()
  for (const k in templates) if (k.toLowerCase() === type) return [k, templates[k]!]
  return null
}

/**
 * Returns what to send, or null after answering the client (415 for an unmatched
 * Content-Type under WHEN_NO_TEMPLATES with templates, or NEVER; 500 for a failed template).
 */
export function prepareIntegrationRequest(ctx: RequestContext, integ: CompiledIntegration): PreparedRequest | null {
  const contentType = ctx.header('content-type')
  const template = matchRequestTemplate(integ.requestTemplates, contentType)
  const headers: string[] = []
  // contentHandling converts first: a template then sees the converted payload.
  const converted = convertRequestBody(ctx.body, ctx.api!.binary.isBinary(contentType), integ.contentHandling)
  if (converted === BASE64_DECODE_FAILED) {
    sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
    return null
  }
  ctx.body = converted
  let body: Uint8Array | null = converted
  let overrides = null
  if (template === null) {
    const hasTemplates = Object.keys(integ.requestTemplates).length > 0
    const refuse = integ.passthroughBehavior === 'NEVER' || (integ.passthroughBehavior === 'WHEN_NO_TEMPLATES' && hasTemplates)
    if (refuse) {
      sendGatewayResponse(ctx, 'UNSUPPORTED_MEDIA_TYPE')
      return null
    }
    // The client's Content-Type passes with a method that has a body (recorded: a GET's does not).
    const m = ctx.request.method
    if (contentType !== null && m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS') headers.push('content-type', contentType)
  } else {
    const out = renderTemplate(template[1], buildTemplateVariables(ctx, null))
    if (!out.ok) {
      console.error(`[${ctx.requestId}] request template failed: ${out.message}`)
      sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
      return null
    }
    body = out.output
    overrides = out.overrides
    headers.push('content-type', template[0])
  }
  for (const m of integ.requestParameters) {
    if (m.target !== TargetKind.Header) continue
    const v = resolveMapping(ctx, m)
    if (v !== null) setHeader(headers, m.name, v)
  }
  if (overrides !== null) for (const [k, v] of Object.entries(overrides.requestHeader)) setHeader(headers, k.toLowerCase(), v)
  return { headers, body, overrides }
}

