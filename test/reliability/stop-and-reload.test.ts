// Stop and reload under keep-alive load, and a port already in use.
//
// The stop (SIGTERM) drains: requests on connections already open are still served, each
// answered with `Connection: close`; the workers stop after the last reply; the process
// exits 0 once nothing is in flight. Reload (SIGHUP) under load loses and repeats nothing.
import t from 'tap'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { startGateway, writeApi, request, CLI_PATH, REPO_ROOT } from '../helpers/index.js'
import { startFaultBackend, proxyApi, startFaultProxy } from '../helpers/fault-backend.js'
import { parseResponses } from '../helpers/raw-http.js'
import type { RawResponse } from '../helpers/raw-http.js'

interface LoopResult {
  responses: RawResponse[]
  /** Requests written that got no answer. */
  unanswered: number
  /** The socket error, if any. */
  error: string | null
}

/**
 * One keep-alive connection sending `GET path` tagged `${name}-${n}` one after another
 * until `stop()` says so or an answer says `Connection: close`; bounded by `ms`.
 */
function keepAliveLoop (port: number, name: string, path: string, ms: number): { done: Promise<LoopResult>, stop(): void } {
  let stopped = false
  const done = new Promise<LoopResult>((resolve) => {
    const responses: RawResponse[] = []
    let buf: Buffer = Buffer.alloc(0)
    let sent = 0
    let error: string | null = null
    const s = net.connect(port, '127.0.0.1')
    const send = () => {
      s.write(`GET /test${path} HTTP/1.1\r\nHost: gw\r\nx-request-tag: ${name}-${sent}\r\n\r\n`)
      sent++
    }
    const finish = () => {
      clearTimeout(timer)
      s.destroy()
      resolve({ responses, unanswered: sent - responses.length, error })
    }
    const timer = setTimeout(finish, ms)
    s.on('connect', send)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const parsed = parseResponses(buf)
      buf = parsed.rest
      for (const r of parsed.responses) responses.push(r)
      if (parsed.responses.length === 0) return
      const last = responses[responses.length - 1]!
      if (last.headers.connection === 'close' || stopped) finish()
      else send()
    })
    s.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message })
    s.on('close', finish)
  })
  return { done, stop: () => { stopped = true } }
}

t.test('stop under keep-alive load: served to the end, Connection: close, exit 0', async (t) => {
  const { backend, gw } = await startFaultProxy(t)
  t.equal((await request(`${gw.url}/test/ok`)).status, 200)
  const loops = Array.from({ length: 16 }, (_, i) => keepAliveLoop(gw.port, `stop${i}`, '/delay?ms=50', 20_000))
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const signalled = Date.now()
  gw.signal('SIGTERM')
  const results = await Promise.all(loops.map((l) => l.done))
  const exit = await gw.exited
  t.same(exit, { code: 0, signal: null }, 'the gateway exits 0')
  t.ok(Date.now() - signalled < 10_000, 'and soon: the drain ends when the requests in flight end')
  let answered = 0
  for (const [i, r] of results.entries()) {
    answered += r.responses.length
    t.equal(r.unanswered, 0, `connection ${i}: every request sent was answered`)
    t.ok(r.responses.every((x) => x.status === 200), `connection ${i}: all 200 (${r.responses.map((x) => x.status).filter((s) => s !== 200).join(',')})`)
    t.equal(r.responses[r.responses.length - 1]?.headers.connection, 'close', `connection ${i}: the last answer closes the connection`)
  }
  const tags = backend.requests.filter((x) => x.tag.startsWith('stop')).map((x) => x.tag)
  t.equal(tags.length, answered, 'as many forwarded as answered')
  t.equal(new Set(tags).size, tags.length, 'nothing forwarded twice')
})

t.test('reload under keep-alive load: nothing lost, nothing forwarded twice', async (t) => {
  const { backend, gw } = await startFaultProxy(t, { workers: 2 })
  const loops = Array.from({ length: 8 }, (_, i) => keepAliveLoop(gw.port, `reload${i}`, '/ok', 30_000))
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    gw.signal('SIGHUP')
  }
  // The load goes on until the last reload is in place (each reads and compiles the files).
  const until = Date.now() + 15_000
  while (!/reloaded: configuration version 10\n/.test(gw.output()) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50))
  for (const l of loops) l.stop()
  const results = await Promise.all(loops.map((l) => l.done))
  let answered = 0
  for (const [i, r] of results.entries()) {
    answered += r.responses.length
    t.equal(r.error, null, `connection ${i}: no socket error`)
    t.equal(r.unanswered, 0, `connection ${i}: every request answered`)
    t.ok(r.responses.length > 0 && r.responses.every((x) => x.status === 200), `connection ${i}: ${r.responses.length} answers, all 200`)
  }
  const tags = backend.requests.filter((x) => x.tag.startsWith('reload')).map((x) => x.tag)
  t.equal(tags.length, answered, 'as many forwarded as answered')
  t.equal(new Set(tags).size, tags.length, 'nothing forwarded twice')
  t.match(gw.output(), /reloaded: configuration version 10/)
})

t.test('a port already in use: refused with exit code 3, not shared', async (t) => {
  const backend = await startFaultBackend()
  t.teardown(() => backend.close())
  const api = writeApi(t, proxyApi())
  const gw = await startGateway({ args: [api, '--stage-var', `backend=${backend.url}`, '--workers', '1'] })
  t.teardown(() => gw.stop())
  const second = spawn(process.execPath, [CLI_PATH, 'serve', api, '--port', String(gw.port), '--host', '127.0.0.1', '--workers', '1'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { second.kill('SIGKILL') })
  let out = ''
  second.stdout.on('data', (d: Buffer) => { out += d.toString() })
  second.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 15_000)
    second.on('exit', (c) => { clearTimeout(timer); resolve(c) })
  })
  t.equal(code, 3, 'exit code 3')
  t.equal(out, `backplane: 127.0.0.1:${gw.port} is already in use by another process; stop it or choose another --port\n`)
  t.equal((await request(`${gw.url}/test/ok`)).status, 200, 'the first gateway serves on')
})
