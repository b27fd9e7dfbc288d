// gRPC status codes → HTTP statuses, as grpc-gateway's runtime.HTTPStatusFromCode maps
// them (the table Envoy's grpc-json transcoder and Kong's grpc-gateway plugin use too);
// and the reverse table of the gRPC spec (doc/http-grpc-status-mapping.md) for a backend
// that answers with an HTTP status and no grpc-status.

/** The 17 codes of grpc/status.proto, by number. */
export const GRPC_CODE_NAMES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
]

/** grpc-gateway's HTTPStatusFromCode, indexed by code. */
const HTTP_BY_CODE: readonly number[] = [
  200, // OK
  499, // CANCELLED: the client closed the request (nginx's non-standard code)
  500, // UNKNOWN
  400, // INVALID_ARGUMENT
  504, // DEADLINE_EXCEEDED
  404, // NOT_FOUND
  409, // ALREADY_EXISTS
  403, // PERMISSION_DENIED
  429, // RESOURCE_EXHAUSTED
  400, // FAILED_PRECONDITION: grpc-gateway deliberately answers 400, not 412
  409, // ABORTED
  400, // OUT_OF_RANGE
  501, // UNIMPLEMENTED
  500, // INTERNAL
  503, // UNAVAILABLE
  500, // DATA_LOSS
  401, // UNAUTHENTICATED
]

export const GRPC_OK = 0
export const GRPC_UNKNOWN = 2
export const GRPC_INTERNAL = 13
export const GRPC_UNAVAILABLE = 14

/** The HTTP status for a grpc-status; codes outside the table are UNKNOWN's 500 (grpc-gateway's default). */
export function httpStatusFromGrpc(code: number): number {
  return HTTP_BY_CODE[code] ?? 500
}

/** A backend's HTTP status without grpc-status → the gRPC code the spec says a client reports. */
export function grpcCodeFromHttp(status: number): number {
  switch (status) {
    case 400:
      return GRPC_INTERNAL
    case 401:
      return 16 // UNAUTHENTICATED
    case 403:
      return 7 // PERMISSION_DENIED
    case 404:
      return 12 // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_UNAVAILABLE
    default:
      return GRPC_UNKNOWN
  }
}

/** grpc-message is percent-encoded (the spec: bytes outside 0x20-0x7E except '%' as %XX of UTF-8). */
export function decodeGrpcMessage(raw: string): string {
  if (raw.indexOf('%') === -1) return raw
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}
