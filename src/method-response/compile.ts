// Method response, compile step: the gateway response table of an API.
import type { ApiSource } from '../config/model.js'
import { GATEWAY_RESPONSE_TYPES, type GatewayResponseTypeName } from './gateway-response-types.js'

export interface CompiledGatewayResponse {
  readonly type: GatewayResponseTypeName
  readonly status: number
  readonly errorType: string
  readonly defaultMessage: string
  /** Header name → source expression (static 'value' or method.request.*). */
  readonly responseParameters: readonly { readonly header: string; readonly source: string }[]
  readonly responseTemplates: Readonly<Record<string, string>>
}

/** The gateway response table of an API ({} gives API Gateway's defaults). */
export function compileGatewayResponses(custom: ApiSource['gatewayResponses']): Record<GatewayResponseTypeName, CompiledGatewayResponse> {
  const out = {} as Record<GatewayResponseTypeName, CompiledGatewayResponse>
  const d4 = custom.DEFAULT_4XX
  const d5 = custom.DEFAULT_5XX
  for (const name of Object.keys(GATEWAY_RESPONSE_TYPES) as GatewayResponseTypeName[]) {
    const def = GATEWAY_RESPONSE_TYPES[name]
    const own = custom[name]
    // DEFAULT_4XX / DEFAULT_5XX apply to every type of their class not customized one by one.
    const fallback = def.status === null ? null : def.status < 500 ? d4 : d5
    const chosen = own ?? fallback
    const status = own?.statusCode ?? (own === undefined ? fallback?.statusCode : null) ?? def.status ?? (name === 'DEFAULT_4XX' ? 400 : 500)
    out[name] = Object.freeze({
      type: name,
      status,
      errorType: def.errorType,
      defaultMessage: def.message,
      responseParameters: Object.freeze(Object.entries(chosen?.responseParameters ?? {}).map(([k, v]) => Object.freeze({ header: k.slice('gatewayresponse.header.'.length), source: v }))),
      responseTemplates: Object.freeze({ ...(chosen?.responseTemplates ?? {}) }),
    })
  }
  return Object.freeze(out)
}
