// MOCK integration: the rendered request template's `statusCode` selects the integration
// response; no backend is called.
import type { CompiledIntegration } from './compile.js'
import type { RequestContext } from '../pipeline/context.js'
import { sendGatewayResponse } from '../method-response/gateway-responses.js'
import { completeIntegration } from '../integration-response/complete.js'
import { buildTemplateVariables } from '../mapping/template-variables.js'
import { renderTemplate, selectTemplate, type TemplateOverrides } from '../mapping/templates.js'

const STATUS_CODE = /"statusCode"\s*:\s*"?(\d{3})"?/
const decoder = new TextDecoder()

/** Reads statusCode from the rendered request template; 200 when it names none. */
export function mockStatusCode(rendered: string): string {
  try {
    const v = JSON.parse(rendered) as { statusCode?: unknown }
    if (typeof v === 'object' && v !== null && v.statusCode !== undefined) return String(v.statusCode)
  } catch {
    // Not JSON: fall back to the first "statusCode": NNN in the text.
  }
  const m = STATUS_CODE.exec(rendered)
  return m === null ? '200' : m[1]!
}

export function runMock(ctx: RequestContext, integ: CompiledIntegration): void {
  const template = selectTemplate(integ.requestTemplates, ctx.header('content-type'))
  let selector = '200'
  let overrides: TemplateOverrides | null = null
  if (template !== null) {
    const out = renderTemplate(template, buildTemplateVariables(ctx, null))
    if (!out.ok) {
      console.error(`[${ctx.requestId}] request template failed: ${out.message}`)
      sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR')
      return
    }
    selector = mockStatusCode(decoder.decode(out.output))
    // $context.requestOverride / responseOverride set here reach the integration response
    // (recorded: LocalStack test_integration_mock_with_response_override_in_request_template)
    overrides = out.overrides
  }
  completeIntegration(ctx, integ, { selector, headers: [], body: null, overrides })
}
