// Loopback backends for the protobuf tests (not a test file itself):
//   startPetsGrpc()  the pets.v1.Pets service on @grpc/grpc-js (a real gRPC server)
//   startRawH2()     a bare node:http2 server answering what a test scripts (trailers-only, non-gRPC answers, …)
//   startPetsHttp()  pets over HTTP/1.1 with application/x-protobuf bodies
//   startSplitHttp() a raw HTTP/1.1 server writing each Content-Length body in several writes, with pauses
// Messages are encoded with protobufjs from test/fixtures/protos, independently of the gateway.
import { fileURLToPath } from 'node:url'
import { isAbsolute, join } from 'node:path'
import { createServer as createH2Server, type Http2Server, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2'
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import protobuf from 'protobufjs'

export const PETS_PROTO = fileURLToPath(new URL('../fixtures/protos/pets/v1/pets.proto', import.meta.url))

const PROTOS_DIR = fileURLToPath(new URL('../fixtures/protos/', import.meta.url))
const root = new protobuf.Root()
// Imports are relative to the protos/ folder (protoc -I protos), the well-known types bundled.
root.resolvePath = (_origin, target) => (isAbsolute(target) || target.startsWith('google/protobuf/') ? target : join(PROTOS_DIR, target))
root.loadSync(PETS_PROTO, { keepCase: true })
root.resolveAll()
export const Pet = root.lookupType('pets.v1.Pet')
export const GetPetRequest = root.lookupType('pets.v1.GetPetRequest')
const CreatePetRequest = root.lookupType('pets.v1.CreatePetRequest')
const FailRequest = root.lookupType('pets.v1.FailRequest')
const SlowRequest = root.lookupType('pets.v1.SlowRequest')

const TO_OBJECT = { longs: String, enums: String, defaults: false } as const
type Obj = Record<string, any>

export function encode(type: protobuf.Type, obj: Obj): Buffer {
  return Buffer.from(type.encode(type.fromObject(obj)).finish())
}
export function decode(type: protobuf.Type, bytes: Uint8Array): Obj {
  return type.toObject(type.decode(bytes), TO_OBJECT)
}

function method(name: string, req: protobuf.Type, serialize: (o: Obj) => Buffer = (o) => encode(Pet, o)): grpc.MethodDefinition<Obj, Obj> {
  return {
    path: `/pets.v1.Pets/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (o: Obj) => encode(req, o),
    requestDeserialize: (b: Buffer) => decode(req, b),
    responseSerialize: serialize,
    responseDeserialize: (b: Buffer) => decode(Pet, b),
  }
}

const SERVICE: grpc.ServiceDefinition = {
  Get: method('Get', GetPetRequest),
  Create: method('Create', CreatePetRequest),
  Fail: method('Fail', FailRequest),
  Slow: method('Slow', SlowRequest),
  // Bytes that are not a Pet: field 1 (varint) cut short.
  Garbage: method('Garbage', GetPetRequest, () => Buffer.from([0x08, 0xff, 0xff])),
}

/** What the server saw of the last call's metadata ("key=value", x-* keys only) and deadline. */
function seen(call: grpc.ServerUnaryCall<Obj, Obj>): Obj {
  const md = call.metadata.getMap()
  const meta = Object.keys(md).filter((k) => k.startsWith('x-')).sort().map((k) => `${k}=${String(md[k])}`)
  const deadline = call.getDeadline()
  const ms = deadline instanceof Date ? deadline.getTime() - Date.now() : Number.isFinite(deadline) ? Number(deadline) - Date.now() : 0
  return { seen_metadata: meta, seen_deadline_ms: String(Math.max(0, Math.round(ms))) }
}

const IMPL: grpc.UntypedServiceImplementation = {
  Get(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
    const r = call.request
    cb(null, {
      pet_id: r.pet_id ?? '0',
      display_name: r.view ?? '',
      species: r.species ?? 'SPECIES_UNSPECIFIED',
      tags: r.fields ?? [],
      labels: { verbose: String(r.verbose ?? false) },
      price: { currency_code: 'EUR', units: '9007199254740993', nanos: 500000000 },
      born_at: { seconds: '1577836800', nanos: 0 },
      nap: { seconds: '90', nanos: 500000000 },
      ...seen(call),
    })
  },
  Create(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
    const r = call.request
    cb(null, { ...(r.pet ?? {}), labels: { ...(r.pet?.labels ?? {}), shelter: r.shelter ?? '' } })
  },
  Fail(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
    const r = call.request
    if (r.headers_first === true) call.sendMetadata(new grpc.Metadata())
    cb({ code: r.code ?? 2, details: r.message ?? '' } as grpc.ServiceError, null)
  },
  Slow(call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
    const timer = setTimeout(() => cb(null, { pet_id: '1', ...seen(call) }), call.request.delay_ms ?? 0)
    call.on('cancelled', () => clearTimeout(timer))
  },
  Garbage(_call: grpc.ServerUnaryCall<Obj, Obj>, cb: grpc.sendUnaryData<Obj>) {
    cb(null, {})
  },
}

export interface Backend {
  url: string
  port: number
  close(): Promise<void>
}

/** pets.v1.Pets on @grpc/grpc-js, insecure (h2c) on 127.0.0.1 (`port` 0: a free one). */
export async function startPetsGrpc(port = 0): Promise<Backend> {
  const server = new grpc.Server()
  server.addService(SERVICE, IMPL)
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)))
  })
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    // tryShutdown sends GOAWAY and lets calls finish; forceShutdown bounds it.
    close: () => new Promise<void>((resolve) => {
      const t = setTimeout(() => { server.forceShutdown(); resolve() }, 2000)
      server.tryShutdown(() => { clearTimeout(t); resolve() })
    }),
  }
}

/** A bare HTTP/2 server: `answer` writes the whole response for each stream. */
export async function startRawH2(answer: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void): Promise<Backend> {
  const server: Http2Server = createH2Server()
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = []
    stream.on('data', (c: Buffer) => chunks.push(c))
    stream.on('end', () => answer(stream, headers, Buffer.concat(chunks)))
    stream.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      setTimeout(resolve, 1000).unref()
    }),
  }
}

/** A gRPC length-prefixed message frame. */
export function grpcFrame(message: Uint8Array, compressed = false): Buffer {
  const out = Buffer.alloc(5 + message.byteLength)
  out[0] = compressed ? 1 : 0
  out.writeUInt32BE(message.byteLength, 1)
  out.set(message, 5)
  return out
}

/** What the HTTP/1.1 protobuf backend saw last: method, path, content-type, accept. */
export interface HttpSeen {
  method: string
  url: string
  contentType: string
  accept: string
}

/**
 * pets over HTTP/1.1: POST /pets/get takes a GetPetRequest and answers a Pet
 * (application/x-protobuf); /pets/garbage answers bytes that are not a Pet; /pets/missing
 * answers 404 text/plain.
 */
export async function startPetsHttp(): Promise<Backend & { last(): HttpSeen | null }> {
  let last: HttpSeen | null = null
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      last = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? '', accept: req.headers.accept ?? '' }
      if (req.url === '/pets/get') {
        const r = decode(GetPetRequest, Buffer.concat(chunks))
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'x-backend': 'h1' })
        res.end(encode(Pet, { pet_id: r.pet_id ?? '0', display_name: r.view ?? '', species: r.species ?? 0, tags: r.fields ?? [] }))
      } else if (req.url === '/pets/garbage') {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' })
        res.end(Buffer.from([0x12, 0x09, 0x61]))
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' })
        res.end('no such pet')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    last: () => last,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** A scripted answer of startSplitHttp: the head's status line and headers, the body in parts. */
export interface SplitAnswer {
  status: string
  headers: string[]
  parts: Buffer[]
}

/**
 * A raw HTTP/1.1 server on 127.0.0.1 (keep-alive): for each request it writes the head with
 * the body's Content-Length and the first part at once, then each further part in its own
 * write `pauseMs` later, so that the gateway reads one declared-length body in several reads.
 */
export async function startSplitHttp(answer: (url: string) => SplitAnswer, pauseMs = 40): Promise<Backend> {
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const server = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let pending = Buffer.alloc(0)
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data])
      for (;;) {
        const end = pending.indexOf('\r\n\r\n')
        if (end === -1) return
        const head = pending.subarray(0, end).toString('latin1')
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
        if (pending.length < end + 4 + length) return
        pending = pending.subarray(end + 4 + length)
        const a = answer(head.split(' ')[1] ?? '')
        const size = a.parts.reduce((n, p) => n + p.length, 0)
        const lines = [`HTTP/1.1 ${a.status}`, ...a.headers, `Content-Length: ${size}`, '', '']
        socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), a.parts[0] ?? Buffer.alloc(0)]))
        a.parts.slice(1).forEach((part, i) => {
          const timer = setTimeout(() => {
            timers.delete(timer)
            socket.write(part)
          }, pauseMs * (i + 1))
          timers.add(timer)
        })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer)
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    }),
  }
}
