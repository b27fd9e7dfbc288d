// Renders a gateway response from the API's compiled table: status, x-amzn-ErrorType,
// responseParameters and the template (default `{"message":$context.error.messageString}`).
import { compileGatewayResponses } from './compile.js'
import type { GatewayResponseTypeName } from './gateway-response-types.js'
import type { RequestContext } from '../pipeline/context.js'
import { renderTemplate, selectTemplate } from '../mapping/templates.js'
import { buildTemplateVariables } from '../mapping/template-variables.js'
import { setHeader } from '../util/header-pairs.js'
import { noteGatewayResponse } from '../observability/observe.js'

const encoder = new TextEncoder()

/** The uncustomized table, for requests that match no API at all. */
const DEFAULT_TABLE = compileGatewayResponses({})

/**
 * The default template's output, JSON-escaped without the engine. API Gateway's 5XX
 * answers (`{"message": "Internal server error"}`, `{"message": "Endpoint request timed
 * out"}`) carry a space after the colon; its 4XX answers (`{"message":"Missing
 * Authentication Token"}`) do not.
 */
function defaultBody(message: string, status: number): Uint8Array {
  return encoder.encode((status >= 500 ? '{"message": ' : '{"message":') + JSON.stringify(message) + '}')
}

/**
 * Answers the request with gateway response `type`. `message` overrides the type's
 * default text ($context.error.message); `status` overrides the status code where API
 * Gateway uses one type for several (a 502 DEFAULT_5XX, say). `uncustomizedBody` replaces
 * the default `{"message":…}` body where API Gateway sends another one for this outcome
 * (a Lambda authorizer's `{"Message":…}` denial, its `{"message": null}` failures); a
 * template the API defines for the type still wins. `errorType` overrides the type's
 * x-amzn-ErrorType where AWS sends another (a 403 DEFAULT_4XX that AWS sends as
 * UnrecognizedClientException, say).
 */
export function sendGatewayResponse(ctx: RequestContext, type: GatewayResponseTypeName, message: string | null = null, status: number | null = null, extraHeaders: string[] | null = null, uncustomizedBody: Uint8Array | null = null, errorType: string | null = null): void {
  if (ctx.done) return
  const gr = ctx.api === null ? DEFAULT_TABLE[type] : ctx.api.gatewayResponses[type]
  const text = message ?? gr.defaultMessage
  const headers: string[] = ['Content-Type', 'application/json', 'x-amzn-ErrorType', errorType ?? gr.errorType]
  if (extraHeaders !== null) for (const h of extraHeaders) headers.push(h)
  const finalStatus = status ?? gr.status
  let body: Uint8Array
  const template = selectTemplate(gr.responseTemplates, 'application/json')
  const vars = template !== null || gr.responseParameters.length > 0 ? buildTemplateVariables(ctx, { message: text, responseType: type, validationErrorString: null }) : null
  if (template === null && uncustomizedBody !== null) body = uncustomizedBody
  else if (template === null || vars === null) body = defaultBody(text, finalStatus)
  else {
    const out = renderTemplate(template, vars)
    body = out.ok ? out.output : defaultBody(text, finalStatus)
  }
  if (vars !== null) {
    for (const p of gr.responseParameters) {
      const v = resolveGatewayParameter(p.source, vars)
      if (v !== null) setHeader(headers, p.header, v)
    }
  }
  noteGatewayResponse(ctx, type, text)
  ctx.send(finalStatus, headers, body)
}


/** A gateway response parameter: 'static', method.request.*, stageVariables.*, context.*. */
function resolveGatewayParameter(source: string, vars: ReturnType<typeof buildTemplateVariables>): string | null {
  if (source.startsWith("'") && source.endsWith("'")) return source.slice(1, -1)
  let m = /^method\.request\.(path|querystring|header)\.(.+)$/.exec(source)
  if (m !== null) {
    const map = vars.params[m[1] as 'path' | 'querystring' | 'header']
    return map[m[1] === 'header' ? m[2]!.toLowerCase() : m[2]!] ?? null
  }
  m = /^stageVariables\.(.+)$/.exec(source)
  if (m !== null) return vars.stageVariables[m[1]!] ?? null
  m = /^context\.(.+)$/.exec(source)
  if (m !== null) {
    let cur: unknown = vars.context
    for (const k of m[1]!.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[k] : undefined
    return cur === undefined || cur === null ? null : String(cur)
  }
  return null
}
