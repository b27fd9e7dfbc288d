// Start a server in a child process and wait for its "listening on http://…" line.
//
// Used by `npm run bench` (every server under test runs in its own process, so the load
// generator never shares an event loop with it) and by test/helpers/gateway.ts.
//
// Every child started here is remembered until it exits: stopAllServers() ends them all,
// and a process 'exit' hook SIGKILLs whatever is still alive, so neither a failing bench
// nor a crashed test leaves servers behind.

import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import type { ChildProcess } from 'node:child_process'

export interface SpawnServerOptions {
  /** Name used in messages. */
  name: string
  /** Executable; default the running node (process.execPath). */
  command?: string
  args: string[]
  cwd?: string
  /** Added to (not replacing) process.env. */
  env?: Record<string, string>
  /** Matched against each stdout line; group 1 is the base URL. */
  readyPattern?: RegExp
  /** Bound on the wait for the ready line. */
  timeoutMs?: number
  /** Bound on the wait for exit after SIGTERM, before SIGKILL. */
  killAfterMs?: number
  /** Prefix for the command, e.g. ['taskset', '-c', '1'] to pin the server to a CPU. */
  wrapper?: string[]
  /** For servers that print no ready line (nginx, haproxy): their base URL, known in advance;
   *  ready once a TCP connection to its port succeeds (readyPattern is then not used). */
  probeUrl?: string
  /** Called once the process has exited, whatever the reason (e.g. remove its temp dir). */
  cleanup?: () => void
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ServerProcess {
  name: string
  /** Base URL from the ready line, e.g. `http://127.0.0.1:41234`. */
  url: string
  port: number
  pid: number
  /** stdout and stderr so far, interleaved (the last OUTPUT_LIMIT characters). */
  output(): string
  /** SIGTERM, then SIGKILL after killAfterMs; resolves when the process has exited. Idempotent. */
  stop(): Promise<ExitInfo>
  /** Resolves when the process exits, for whatever reason. */
  exited: Promise<ExitInfo>
  /** False once the process has exited. */
  alive(): boolean
}

/** Matches `backplane listening on http://HOST:PORT` and the bench servers' lines alike. */
export const DEFAULT_READY_PATTERN = /listening on (http:\/\/\S+)/
export const DEFAULT_READY_TIMEOUT_MS = 15_000
export const DEFAULT_KILL_AFTER_MS = 5_000
/** Output kept per child: enough for a log of a few thousand lines, bounded for long benches. */
const OUTPUT_LIMIT = 1 << 20
/** How often a probeUrl server's port is tried until it accepts. */
const PROBE_INTERVAL_MS = 50

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // 'exit' handlers must be synchronous: SIGKILL is the only thing left to do.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}

export function spawnServer (opts: SpawnServerOptions): Promise<ServerProcess> {
  installExitHook()
  const readyPattern = opts.readyPattern ?? DEFAULT_READY_PATTERN
  const timeoutMs = opts.timeoutMs ?? DEFAULT_READY_TIMEOUT_MS
  const killAfterMs = opts.killAfterMs ?? DEFAULT_KILL_AFTER_MS
  const argv = [...(opts.wrapper ?? []), opts.command ?? process.execPath, ...opts.args]

  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  live.add(child)

  // Chunks are kept as they come and trimmed only past twice the limit, so a gateway that
  // logs every request costs the bench process (the load generator) almost nothing.
  let chunks: string[] = []
  let kept = 0
  const append = (text: string): void => {
    chunks.push(text)
    kept += text.length
    if (kept > 2 * OUTPUT_LIMIT) {
      const joined = chunks.join('')
      chunks = [joined.slice(joined.length - OUTPUT_LIMIT)]
      kept = OUTPUT_LIMIT
    }
  }
  const output = (): string => {
    const joined = chunks.join('')
    const text = joined.length > OUTPUT_LIMIT ? joined.slice(joined.length - OUTPUT_LIMIT) : joined
    chunks = [text]
    kept = text.length
    return text
  }

  let exitInfo: ExitInfo | null = null
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal }
      live.delete(child)
      try { opts.cleanup?.() } catch {}
      resolve(exitInfo)
    })
  })

  let stopping: Promise<ExitInfo> | null = null
  const stop = (): Promise<ExitInfo> => {
    if (stopping !== null) return stopping
    if (exitInfo !== null) return (stopping = Promise.resolve(exitInfo))
    child.kill('SIGTERM')
    const timer = setTimeout(() => { child.kill('SIGKILL') }, killAfterMs)
    stopping = exited.then((info) => {
      clearTimeout(timer)
      return info
    })
    return stopping
  }

  return new Promise<ServerProcess>((resolve, reject) => {
    let settled = false
    let pending = ''
    const fail = (why: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void stop().then(() => {
        reject(new Error(`${opts.name}: ${why}\n--- command: ${argv.join(' ')}\n--- output:\n${tail(output())}`))
      })
    }
    const timer = setTimeout(() => { fail(`no ready line within ${timeoutMs} ms`) }, timeoutMs)
    const ready = (base: string): void => {
      settled = true
      clearTimeout(timer)
      const url = base.replace(/\/+$/, '')
      resolve({
        name: opts.name,
        url,
        port: Number(new URL(url).port),
        pid: child.pid!,
        output,
        stop,
        exited,
        alive: () => exitInfo === null
      })
    }

    child.stdout!.setEncoding('utf8')
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', append)
    if (opts.probeUrl !== undefined) {
      const probeUrl = opts.probeUrl
      const { hostname, port } = new URL(probeUrl)
      const probe = (): void => {
        if (settled) return
        const socket = connect({ host: hostname, port: Number(port) })
        socket.once('connect', () => {
          socket.destroy()
          if (!settled && exitInfo === null) ready(probeUrl)
        })
        socket.once('error', () => {
          socket.destroy()
          if (!settled) setTimeout(probe, PROBE_INTERVAL_MS)
        })
      }
      setTimeout(probe, PROBE_INTERVAL_MS)
    }
    child.stdout!.on('data', (text: string) => {
      append(text)
      if (settled || opts.probeUrl !== undefined) return
      pending += text
      let nl: number
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl).replace(/\r$/, '')
        pending = pending.slice(nl + 1)
        const m = readyPattern.exec(line)
        if (m !== null) {
          ready(m[1]!)
          return
        }
      }
    })
    child.once('error', (err) => { fail(`could not start: ${err.message}`) })
    void exited.then((info) => { fail(`exited before it was ready (code ${info.code}, signal ${info.signal})`) })
  })
}

/** Stops every child this module started that is still alive. */
export async function stopAllServers (killAfterMs = DEFAULT_KILL_AFTER_MS): Promise<void> {
  await Promise.all([...live].map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => { child.kill('SIGKILL') }, killAfterMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })))
}

function tail (text: string, max = 4_000): string {
  return text.length > max ? '…' + text.slice(text.length - max) : text
}

/** Clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every Linux build that matters). */
const USER_HZ = 100

/** CPU seconds (user + system, all threads) used so far by a process; null off Linux or once it is gone. */
export function cpuSeconds (pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name (which may contain spaces): utime is 14th, stime 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ
  } catch {
    return null
  }
}

/** Cumulative busy and total jiffies of the whole machine (all CPUs); null off Linux. */
export function machineTicks (): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number) // user nice system idle iowait irq softirq steal
    const total = ticks.reduce((a, b) => a + b, 0)
    return { busy: total - ticks[3]! - ticks[4]!, total }
  } catch {
    return null
  }
}

/**
 * CPU nanoseconds (all threads) used so far by a process, from each thread's schedstat (ns
 * resolution, where /proc/<pid>/stat counts 10 ms ticks: too coarse for a 1 s round of a
 * server spending 5 µs per request). Falls back to cpuSeconds; null once the process is gone.
 * A thread that exits between two readings takes its time with it (the servers' pools keep theirs).
 */
export function cpuNanoseconds (pid: number): number | null {
  try {
    let total = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0])
      } catch {} // the thread ended meanwhile
    }
    if (total > 0) return total
  } catch {
    return null
  }
  const seconds = cpuSeconds(pid)
  return seconds === null ? null : seconds * 1e9
}
