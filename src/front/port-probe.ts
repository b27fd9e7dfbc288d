// uWebSockets.js listens with SO_REUSEPORT, so on a port another process holds it starts
// without a word and the kernel shares the connections between the two (DESIGN.md, known
// limits). A plain bind by node:net, without SO_REUSEPORT, fails on such a port: the front
// binds once, closes, and only then lets uWebSockets.js listen.
import { createServer, type AddressInfo } from 'node:net'
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

/**
 * A port free on `host` now, for fronts that must share one: uWebSockets.js sets
 * SO_REUSEPORT only when it is given a port, so fronts cannot all listen on port 0.
 */
export function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen({ host, port: 0, exclusive: true }, () => {
      const port = (server.address() as AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}
