// One load run with wrk (Debian's `wrk`, C, epoll): it outpaces the servers here, where
// autocannon (one Node thread) saturates below the gateway. Method, headers and body go in a
// generated Lua script whose done() prints one line of figures: req count, errors and the
// latency percentiles (µs) from wrk's own histogram. wrk has no fixed-rate mode: RATE runs
// and pipelining use autocannon (load.ts picks).

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PERCENTILES, percentileKey } from './load.js'
import type { LoadOptions, LoadResult } from './load.js'

/** Debian's path; WRK_BIN overrides it. */
export const WRK_BIN = process.env.WRK_BIN ?? '/usr/bin/wrk'
/** wrk's per-request timeout: a stuck request is counted as a timeout, never a stuck bench. */
const REQUEST_TIMEOUT_S = 10
/** Marks the figures line among wrk's own output. */
const MARK = 'BENCH-WRK'

export function wrkAvailable (): boolean {
  return existsSync(WRK_BIN)
}

/** A Lua string literal holding any bytes: every byte outside [A-Za-z0-9 ] as a \ddd escape. */
export function luaString (text: string): string {
  let out = '"'
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out += /[A-Za-z0-9 ]/.test(ch) ? ch : `\\${byte.toString().padStart(3, '0')}`
  }
  return out + '"'
}

/** The Lua script: the request's method, headers and body, and done() printing MARK's line. */
export function wrkScript (opts: Pick<LoadOptions, 'method' | 'headers' | 'body'>): string {
  const lines = [`wrk.method = ${luaString(opts.method ?? 'GET')}`]
  for (const [name, value] of Object.entries(opts.headers ?? {})) lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`)
  if (opts.body !== undefined) lines.push(`wrk.body = ${luaString(opts.body)}`)
  const percentiles = PERCENTILES.map((p) => String(p)).join(', ')
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format("${MARK} %d %d %d %d %d %d %d %d", summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))`,
    `  for _, p in ipairs({ ${percentiles} }) do io.write(string.format(" %d", latency:percentile(p))) end`,
    '  io.write(string.format(" %d %d\\n", latency.mean, latency.max))',
    'end'
  )
  return lines.join('\n') + '\n'
}

/** Parses MARK's line into a LoadResult (loadgenCpu and the runner's fields left to fill). */
export function parseWrkLine (output: string): Omit<LoadResult, 'loadgenCpu'> {
  const line = output.split('\n').find((l) => l.startsWith(MARK + ' '))
  if (line === undefined) throw new Error(`wrk: no figures line in its output:\n${output.slice(-2_000)}`)
  const n = line.slice(MARK.length + 1).trim().split(/\s+/).map(Number)
  if (n.length !== 8 + PERCENTILES.length + 2 || n.some((x) => !Number.isFinite(x))) throw new Error(`wrk: bad figures line ${JSON.stringify(line)}`)
  const [requests, durationUs, bytes, connect, read, write, status, timeouts] = n as [number, number, number, number, number, number, number, number]
  const seconds = durationUs / 1e6
  const ok = requests - status
  const latencyMs: Record<string, number> = {}
  PERCENTILES.forEach((p, i) => { latencyMs[percentileKey(p)] = n[8 + i]! / 1000 })
  return {
    generator: 'wrk',
    rps: seconds > 0 ? ok / seconds : 0,
    ok,
    non2xx: status,
    errors: connect + read + write + timeouts,
    timeouts,
    seconds,
    latencyMs,
    meanMs: n[8 + PERCENTILES.length]! / 1000,
    maxMs: n[9 + PERCENTILES.length]! / 1000,
    bytesPerSec: seconds > 0 ? bytes / seconds : 0,
    serverCpu: {},
    machineBusy: null
  }
}

/** CPU seconds of this process's reaped children (cutime + cstime): how wrk's CPU is read. */
function childrenCpuSeconds (): number {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[13]) + Number(fields[14])) / 100
}

export function runWrk (opts: LoadOptions, threads: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'backplane-bench-wrk-'))
  const script = join(dir, 'request.lua')
  writeFileSync(script, wrkScript(opts))
  const args = [
    '-t', String(Math.min(threads, opts.connections)), '-c', String(opts.connections), '-d', `${opts.duration}s`,
    '--timeout', `${REQUEST_TIMEOUT_S}s`, '-s', script, opts.url
  ]
  const cpuBefore = childrenCpuSeconds()
  return new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(WRK_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (text: string) => { output += text })
    child.stderr.on('data', (text: string) => { output += text })
    // wrk stops itself after -d; this bounds a wrk that does not.
    const timer = setTimeout(() => { child.kill('SIGKILL') }, (opts.duration + REQUEST_TIMEOUT_S + 5) * 1000)
    child.once('error', (err) => {
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
      reject(new Error(`wrk: could not start ${WRK_BIN}: ${err.message}`))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
      if (code !== 0) {
        reject(new Error(`wrk exited with ${code ?? signal}: ${output.slice(-2_000)}`))
        return
      }
      try {
        const result = parseWrkLine(output)
        const cpu = childrenCpuSeconds() - cpuBefore
        resolve({ ...result, loadgenCpu: result.seconds > 0 ? cpu / result.seconds * 100 : 0 })
      } catch (err) {
        reject(err as Error)
      }
    })
  })
}
