// The only place where undici / socket error codes become gateway responses (STYLE §C.2).
import type { GatewayResponseTypeName } from '../method-response/gateway-response-types.js'

export interface UpstreamFailure {
  readonly type: GatewayResponseTypeName
  /** Status override, or null for the type's own. */
  readonly status: number | null
  /** $context.error.message, or null for the type's own. */
  readonly message: string | null
}

/** Past timeoutInMillis: 504 {"message": "Endpoint request timed out"}. */
export const TIMED_OUT: UpstreamFailure = Object.freeze({ type: 'INTEGRATION_TIMEOUT', status: null, message: null })
/** No connection could be made (refused, unknown host): API Gateway's 500 for an unreachable endpoint. */
const UNREACHABLE: UpstreamFailure = Object.freeze({ type: 'API_CONFIGURATION_ERROR', status: null, message: 'Internal server error' })
/** The connection broke mid-exchange: 502 with API Gateway's text. */
const BROKEN: UpstreamFailure = Object.freeze({ type: 'DEFAULT_5XX', status: 502, message: 'Internal server error' })

/** A backend status outside 100–599: API Gateway's 502 for a malformed endpoint response. */
export const INVALID_STATUS: UpstreamFailure = BROKEN

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string } | null)?.code ?? ''
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return TIMED_OUT
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    // The backend's certificate is refused: API Gateway's "Execution failed due to
    // configuration error: General SSLEngine problem", 500 (tlsConfig can relax it).
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return UNREACHABLE
    default:
      // UND_ERR_SOCKET, ECONNRESET, EPIPE, UND_ERR_RESPONSE_STATUS_CODE, parser errors …
      return BROKEN
  }
}
