// Integration response for non-proxy integrations (MOCK, HTTP, AWS): choose the response
// by selectionPattern, map headers with responseParameters, render the response template
// chosen by the client's Accept header, answer with the method response's status.
import type { CompiledIntegration } from '../integrations/compile.js'
import type { CompiledIntegrationResponse } from './compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { buildTemplateVariables } from '../mapping/template-variables.js'
import { renderTemplate, type TemplateOverrides } from '../mapping/templates.js'
import { BASE64_DECODE_FAILED, convertResponseBody } from '../payload/binary.js'
import { findHeader } from '../util/header-pairs.js'
import { pushResponseHeader } from '../integrations/headers.js'
import { contextValue } from '../integration-request/parameters.js'

/** Every value of a header, comma-joined, or null. */
function allValues(headers: readonly string[], name: string): string | null {
  const lower = name.toLowerCase()
  let out: string | null = null
  for (let i = 0; i < headers.length; i += 2) if (headers[i]!.toLowerCase() === lower) out = out === null ? headers[i + 1]! : out + ',' + headers[i + 1]!
  return out
}

/** What the backend (or the mock) produced. */
export interface IntegrationResult {
  /** What selectionPattern is matched against: the status code, or a Lambda errorMessage; null for a Lambda success (the default response). */
  readonly selector: string | null
  readonly headers: readonly string[]
  readonly body: Uint8Array | null
  /** Overrides a MOCK request template set: its response template starts from them, and its status and headers apply. */
  readonly overrides?: TemplateOverrides | null
}

/** API Gateway's response Content-Type when no template names one. */
export const DEFAULT_RESPONSE_CONTENT_TYPE = 'application/json'

export function selectIntegrationResponse(integ: CompiledIntegration, selector: string | null): CompiledIntegrationResponse | null {
  if (selector !== null) for (const r of integ.responses) if (r.pattern!.test(selector)) return r
  return integ.defaultResponse
}

/** Template by Accept: the first listed type with a template, else application/json, else the first. */
function chooseResponseTemplate(templates: Readonly<Record<string, string>>, accept: string | null): [string, string] | null {
  const keys = Object.keys(templates)
  if (keys.length === 0) return null
  if (accept !== null) {
    for (const part of accept.split(',')) {
      const type = part.split(';')[0]!.trim().toLowerCase()
      for (const k of keys) if (k.toLowerCase() === type) return [k, templates[k]!]
    }
  }
  if (templates['application/json'] !== undefined) return ['application/json', templates['application/json']]
  return [keys[0]!, templates[keys[0]!]!]
}


/** integration.response.body.a.b → the JSON value at a.b, as text. */
function bodyField(body: Uint8Array | null, path: string): string | null {
  if (body === null) return null
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  if (path === '') return text
  try {
    let cur: unknown = JSON.parse(text)
    for (const k of path.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[k] : undefined
    if (cur === undefined || cur === null) return null
    return typeof cur === 'string' ? cur : JSON.stringify(cur)
  } catch {
    return null
  }
}

/** $context with the overrides an earlier template of this request set. */
function withOverrides(context: Record<string, unknown>, o: TemplateOverrides): Record<string, unknown> {
  const responseOverride: Record<string, unknown> = { ...o.responseExtra, header: o.responseHeader }
  if (o.status !== null) responseOverride.status = o.status
  return { ...context, requestOverride: { header: o.requestHeader, querystring: o.querystring, path: o.path }, responseOverride }
}

export function completeIntegration(ctx: RequestContext, integ: CompiledIntegration, result: IntegrationResult): void {
  const chosen = selectIntegrationResponse(integ, result.selector)
  if (chosen === null) {
    // No response matches and no default: the guide's API_CONFIGURATION_ERROR case.
    sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR')
    return
  }
  const headers: string[] = []
  const template = chooseResponseTemplate(chosen.responseTemplates, ctx.header('accept'))
  let status = chosen.statusCode
  let body = result.body
  const carried = result.overrides ?? null
  // An AWS service's own Content-Type (application/x-amz-json-1.0, text/xml) is not passed:
  // the method response is application/json unless mapped (the recorded DynamoDB answers).
  const backendType = integ.service !== null ? null : findHeader(result.headers, 'content-type')
  let contentType = template === null ? (backendType ?? DEFAULT_RESPONSE_CONTENT_TYPE) : template[0]
  if (template === null) {
    // No template: the payload passes, converted per contentHandling and binaryMediaTypes.
    const binary = ctx.api!.binary
    const converted = convertResponseBody(body, binary.isBinary(findHeader(result.headers, 'content-type')), binary.isBinary(ctx.header('accept')), chosen.contentHandling)
    if (converted === BASE64_DECODE_FAILED) {
      sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR')
      return
    }
    body = converted
    if (carried !== null) {
      if (carried.status !== null) status = carried.status
      for (const [k, v] of Object.entries(carried.responseHeader)) {
        if (k.toLowerCase() === 'content-type') contentType = v
        else headers.push(k, v)
      }
    }
  } else {
    const vars = buildTemplateVariables(ctx, null)
    const context = carried === null ? vars.context : withOverrides(vars.context, carried)
    const out = renderTemplate(template[1], { context, stageVariables: vars.stageVariables, params: vars.params, body: result.body })
    if (!out.ok) {
      console.error(`[${ctx.requestId}] response template failed: ${out.message}`)
      sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR')
      return
    }
    body = out.output
    if (out.overrides !== null) {
      if (out.overrides.status !== null) status = out.overrides.status
      for (const [k, v] of Object.entries(out.overrides.responseHeader)) {
        if (k.toLowerCase() === 'content-type') contentType = v
        else pushResponseHeader(headers, k, v, true, false)
      }
    }
  }
  headers.unshift('Content-Type', contentType)
  for (const p of chosen.responseParameters) {
    const src = p.source
    let v: string | null = null
    if (src.startsWith("'") && src.endsWith("'")) v = src.slice(1, -1)
    else if (src.startsWith('integration.response.header.')) v = findHeader(result.headers, src.slice('integration.response.header.'.length))
    else if (src.startsWith('integration.response.multivalueheader.')) v = allValues(result.headers, src.slice('integration.response.multivalueheader.'.length))
    else if (src === 'integration.response.body' || src.startsWith('integration.response.body.')) v = bodyField(result.body, src.slice('integration.response.body'.length + 1))
    else if (src.startsWith('stageVariables.')) v = ctx.stage!.variables[src.slice('stageVariables.'.length)] ?? null
    else if (src.startsWith('context.')) v = contextValue(ctx, src.slice('context.'.length))
    if (v === null) continue
    if (p.header.toLowerCase() === 'content-type') headers[1] = v
    else pushResponseHeader(headers, p.header, v, true, false)
  }
  // Every integration but MOCK returns the request's trace id (the recorded HTTP, AWS and DynamoDB answers).
  if (integ.type !== 'MOCK') headers.push('X-Amzn-Trace-Id', ctx.traceId())
  ctx.send(status, headers, body !== null && body.byteLength === 0 ? null : body)
}
