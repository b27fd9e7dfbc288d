// Scenario server: a minimal gRPC backend over HTTP/2 cleartext (raw node:http2 with gRPC's
// framing, not @grpc/grpc-js: the bench measures the gateway, and this backend shares CPU 0
// with the load generator), for the transcoded gRPC route. Each unary call is answered with the request's own message frame and grpc-status
// 0: the request and response messages are the same type (bench.v1.Item), so the backend
// does no protobuf work and the gateway's transcoding is what is measured. The handlers are
// module functions (the stream is `this`): nothing but node:http2's own objects per call.
//   node dist/bench/e2e/servers/grpc-echo.js      → "grpc-echo listening on http://127.0.0.1:PORT"

import { createServer, type ServerHttp2Stream } from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'

const HOST = process.env.HOST ?? '127.0.0.1'
const PORT = Number(process.env.PORT ?? 0)
const OK_TRAILERS = Object.freeze({ 'grpc-status': '0' })
const RESPONSE_HEADERS = Object.freeze({ ':status': 200, 'content-type': 'application/grpc' })
const RESPOND_OPTIONS = Object.freeze({ waitForTrailers: true })

const kChunks = Symbol('chunks')
interface EchoStream extends ServerHttp2Stream {
  /** The request's first chunk, or every chunk once a second came. */
  [kChunks]: Buffer | Buffer[] | null
}

function onData (this: EchoStream, c: Buffer): void {
  const got = this[kChunks]
  if (got === null) this[kChunks] = c
  else if (Array.isArray(got)) got.push(c)
  else this[kChunks] = [got, c]
}

function onEnd (this: EchoStream): void {
  if (this.destroyed) return
  const got = this[kChunks]
  this.respond(RESPONSE_HEADERS, RESPOND_OPTIONS)
  this.end(got === null ? undefined : Array.isArray(got) ? Buffer.concat(got) : got)
}

function onWantTrailers (this: EchoStream): void {
  this.sendTrailers(OK_TRAILERS)
}

function onError (): void {}

// The gateway keeps one session per worker and multiplexes every call on it.
const server = createServer({ settings: { maxConcurrentStreams: 1000 } })
server.on('stream', (stream: EchoStream) => {
  stream[kChunks] = null
  stream.on('data', onData)
  stream.on('end', onEnd)
  stream.on('wantTrailers', onWantTrailers)
  stream.on('error', onError)
})
// TCP_NODELAY, as gRPC servers set it: with Nagle's algorithm on, an answer's second write
// (trailers after the message) waits for the gateway's delayed ACK.
server.on('connection', (socket: Socket) => socket.setNoDelay(true))
server.listen(PORT, HOST, () => {
  console.log(`grpc-echo listening on http://${HOST}:${(server.address() as AddressInfo).port}`)
})

function shutdown (): void {
  server.close()
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
