// A real redis-server (Debian's package) on a free loopback port, for the tests of state
// shared by several gateways. No persistence; stopped by the test's teardown.
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, connect } from 'node:net'
import type { Test } from 'tap'

export interface RedisServer {
  readonly port: number
  /** redis://127.0.0.1:{port}/0 */
  readonly url: string
  readonly process: ChildProcess
  /** Stops the server (SIGKILL: tests of an unreachable Redis stop it on purpose). */
  stop(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolvePort(port))
    })
  })
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs
  for (;;) {
    const ok = await new Promise<boolean>((done) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); done(true) })
      s.once('error', () => done(false))
    })
    if (ok) return
    if (Date.now() > until) throw new Error(`redis-server did not listen on 127.0.0.1:${port} within ${deadlineMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function spawnRedis(port: number): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' })
}

/** Starts redis-server for test `t`; torn down with it. Throws when redis-server is not installed. */
export async function startRedis(t: Test): Promise<RedisServer> {
  const port = await freePort()
  let child = spawnRedis(port)
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`redis-server: ${e.message} (install Debian's redis-server)`))))
  await Promise.race([waitForPort(port, 10_000), spawnError])
  const stopChild = (c: ChildProcess): Promise<void> => new Promise((done) => {
    if (c.exitCode !== null || c.signalCode !== null) return done()
    c.once('exit', () => done())
    c.kill('SIGKILL')
  })
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    get process() { return child },
    stop: () => stopChild(child),
    async restart() {
      await stopChild(child)
      child = spawnRedis(port)
      await waitForPort(port, 10_000)
    },
  }
  t.teardown(() => stopChild(child))
  return server
}
