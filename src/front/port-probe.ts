// uWebSockets.js listens with SO_REUSEPORT, so on a port another process holds it starts
// without a word and the kernel shares the connections between the two (DESIGN.md, known
// limits). A plain bind by node:net, without SO_REUSEPORT, fails on such a port: the front
// binds once, closes, and only then lets uWebSockets.js listen.
import { createServer } from 'node:net'
import { PortInUseError } from '../errors.js'

/** Resolves when `host:port` can be bound; rejects with PortInUseError when it is taken. Port 0 is always free. */
export function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(host, port) : err)
    })
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve())
    })
  })
}
