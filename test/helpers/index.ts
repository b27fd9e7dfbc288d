// The helpers every HTTP-level test uses:
//   startGateway   the real CLI on a free port        (gateway.ts)
//   startEchoBackend  the loopback upstream           (echo-backend.ts)
//   writeApi       an API file in t.testdir()         (api.ts)
//   request        one bounded undici request         (request.ts)

export * from './gateway.js'
export * from './echo-backend.js'
export * from './api.js'
export * from './request.js'
