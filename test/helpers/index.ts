// The helpers every HTTP-level test uses:
//   startGateway   the real CLI on a free port        (gateway.ts)
//   startEchoBackend  the loopback upstream           (echo-backend.ts)
//   writeApi       an API file in t.testdir()         (api.ts; mockIntegration, apiDoc build one)
//   request        one bounded undici request         (request.ts)
//   until          a bounded wait for a condition     (wait.ts)
//   waitForReady   the admin listener's /ready        (admin.ts; adminUrl)

export * from './gateway.js'
export * from './echo-backend.js'
export * from './api.js'
export * from './request.js'
export * from './wait.js'
export * from './admin.js'
