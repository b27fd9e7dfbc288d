// Scenario server: a minimal gRPC backend over HTTP/2 cleartext (node:http2), for the
// transcoded gRPC route. Each unary call is answered with the request's own message frame
// and grpc-status 0: the request and response messages are the same type (bench.v1.Item),
// so the backend does no protobuf work and the gateway's transcoding is what is measured.
//   node dist/bench/e2e/servers/grpc-echo.js      → "grpc-echo listening on http://127.0.0.1:PORT"

import { createServer, type ServerHttp2Stream } from 'node:http2'
import type { AddressInfo } from 'node:net'

const HOST = process.env.HOST ?? '127.0.0.1'
const PORT = Number(process.env.PORT ?? 0)
const OK_TRAILERS = { 'grpc-status': '0' }
const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc' }

function answer (stream: ServerHttp2Stream, chunks: Buffer[]): void {
  if (stream.destroyed) return
  stream.respond(RESPONSE_HEADERS, { waitForTrailers: true })
  stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS))
  stream.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))
}

// The gateway keeps one session per worker and multiplexes every call on it.
const server = createServer({ settings: { maxConcurrentStreams: 1000 } })
server.on('stream', (stream) => {
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  stream.on('end', () => answer(stream, chunks))
  stream.on('error', () => {})
})
server.listen(PORT, HOST, () => {
  console.log(`grpc-echo listening on http://${HOST}:${(server.address() as AddressInfo).port}`)
})

function shutdown (): void {
  server.close()
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
