// The status tables (src/integrations/protobuf/grpc-status.ts). Sources: grpc-gateway
// runtime/errors.go HTTPStatusFromCode; the gRPC spec doc/http-grpc-status-mapping.md;
// doc/PROTOCOL-HTTP2.md (grpc-timeout: at most 8 digits; grpc-message percent-encoded).
import t from 'tap'
import { GRPC_CODE_NAMES, decodeGrpcMessage, grpcCodeFromHttp, httpStatusFromGrpc } from '../../../../src/integrations/protobuf/grpc-status.js'
import { grpcTimeout } from '../../../../src/integrations/protobuf/run.js'

t.test('grpc-gateway\'s HTTPStatusFromCode, code by code', async (t) => {
  const expected: Record<string, number> = {
    OK: 200, CANCELLED: 499, UNKNOWN: 500, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, NOT_FOUND: 404,
    ALREADY_EXISTS: 409, PERMISSION_DENIED: 403, RESOURCE_EXHAUSTED: 429, FAILED_PRECONDITION: 400, ABORTED: 409,
    OUT_OF_RANGE: 400, UNIMPLEMENTED: 501, INTERNAL: 500, UNAVAILABLE: 503, DATA_LOSS: 500, UNAUTHENTICATED: 401,
  }
  t.equal(GRPC_CODE_NAMES.length, 17)
  GRPC_CODE_NAMES.forEach((name, code) => t.equal(httpStatusFromGrpc(code), expected[name], `${code} ${name}`))
  t.equal(httpStatusFromGrpc(17), 500, 'a code outside the table is UNKNOWN\'s 500')
})

t.test('an HTTP answer without grpc-status: the spec\'s HTTP → gRPC table', async (t) => {
  t.strictSame([400, 401, 403, 404, 429, 502, 503, 504, 500, 418].map(grpcCodeFromHttp), [13, 16, 7, 12, 14, 14, 14, 14, 2, 2])
})

t.test('grpc-timeout: milliseconds in at most 8 digits, else seconds', async (t) => {
  t.equal(grpcTimeout(29_000), '29000m')
  t.equal(grpcTimeout(99_999_999), '99999999m')
  t.equal(grpcTimeout(100_000_000), '100000S')
})

t.test('grpc-message is percent-decoded (UTF-8); a malformed escape is kept as it is', async (t) => {
  t.equal(decodeGrpcMessage('pet%207%20is%20gone%20%E2%80%93%20sorry'), 'pet 7 is gone – sorry')
  t.equal(decodeGrpcMessage('100%'), '100%')
  t.equal(decodeGrpcMessage('plain'), 'plain')
})
