// startEchoBackend(): the loopback upstream for HTTP-level tests. The implementation is
// shared with `npm run bench` and documented in bench/e2e/echo-backend.ts:
// JSON `{ method, path, query, headers, body, bodyBase64 }`; x-echo-status,
// x-echo-delay-ms and x-echo-header-<name> steer the answer; /hang never answers and
// /reset destroys the socket.
//
//   const echo = await startEchoBackend()
//   t.teardown(echo.close)

export { startEchoBackend } from '../../bench/e2e/echo-backend.js'
export type { EchoBackend, EchoBackendOptions, EchoedRequest } from '../../bench/e2e/echo-backend.js'
