// Raw HTTP/1.1 over node:net, for what undici will not send (malformed requests, pipelining,
// clients that never read), and the gateway process's memory.
//
//   const r = await rawExchange(gw.port, 'GET /test/x HTTP/1.1\r\nHost: a\r\n\r\n')
//   t.equal(r.responses[0]?.status, 414); t.ok(r.closed)
//
// Every call is bounded: it resolves on close or after `ms`, whichever comes first.

import net from 'node:net'
import { readFileSync } from 'node:fs'

export interface RawResponse {
  status: number
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>
  body: Buffer
}

export interface RawExchange {
  /** Every complete response read (Content-Length framing), in order. */
  responses: RawResponse[]
  /** The server closed the connection (FIN or reset) within the bound. */
  closed: boolean
  /** The socket error, e.g. 'ECONNRESET', if one came. */
  error: string | null
  /** Bytes read that did not make a complete response. */
  rest: Buffer
}

/** Parses as many Content-Length-framed responses as `buf` holds. */
export function parseResponses (buf: Buffer): { responses: RawResponse[], rest: Buffer } {
  const responses: RawResponse[] = []
  let at = 0
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at)
    if (end === -1) break
    const head = buf.subarray(at, end).toString('latin1').split('\r\n')
    const status = Number(head[0]!.split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':')
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    const length = Number(headers['content-length'] ?? 0)
    if (buf.length < end + 4 + length) break
    responses.push({ status, headers, body: buf.subarray(end + 4, end + 4 + length) })
    at = end + 4 + length
  }
  return { responses, rest: buf.subarray(at) }
}

/**
 * Connects to 127.0.0.1:port, writes `data`, reads until the server closes or `ms` pass,
 * then destroys the socket. `expect` ends it early once that many responses have come.
 */
export function rawExchange (port: number, data: string | Buffer, opts: { ms?: number, expect?: number } = {}): Promise<RawExchange> {
  const ms = opts.ms ?? 10_000
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let error: string | null = null
    let done = false
    const socket = net.connect(port, '127.0.0.1')
    const finish = (closed: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const { responses, rest } = parseResponses(Buffer.concat(chunks))
      resolve({ responses, closed, error, rest })
    }
    const timer = setTimeout(() => finish(false), ms)
    socket.on('data', (d: Buffer) => {
      chunks.push(d)
      if (opts.expect !== undefined && parseResponses(Buffer.concat(chunks)).responses.length >= opts.expect) finish(false)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => { error = err.code ?? err.message })
    socket.on('close', () => finish(true))
    socket.write(data)
  })
}

/** Resident memory of a process, in bytes (Linux: /proc/PID/status VmRSS). */
export function rssBytes (pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no VmRSS for ${pid}`)
  return Number(m[1]) * 1024
}

/** Samples rssBytes(pid) every `everyMs` until stop(); peak() is the highest seen. */
export function watchRss (pid: number, everyMs = 50): { peak(): number, stop(): void } {
  let peak = rssBytes(pid)
  const timer = setInterval(() => {
    try { peak = Math.max(peak, rssBytes(pid)) } catch { /* the process has exited */ }
  }, everyMs)
  return { peak: () => peak, stop: () => clearInterval(timer) }
}

export const MB = 1024 * 1024
