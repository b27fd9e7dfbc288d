// The part of autocannon 8 that bench/ uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    interface Options {
      url: string
      connections?: number
      pipelining?: number
      /** Seconds. */
      duration?: number
      method?: string
      headers?: Record<string, string>
      body?: string | Buffer
      /** Seconds before a request counts as timed out. */
      timeout?: number
      /** Stop after this many errors. */
      bailout?: number
    }

    interface Result {
      duration: number
      errors: number
      timeouts: number
      non2xx: number
      resets: number
      mismatches: number
      '1xx': number
      '2xx': number
      '3xx': number
      '4xx': number
      '5xx': number
      statusCodeStats: Record<string, { count: number }>
      requests: { average: number; total: number; sent: number }
      latency: Record<string, number>
      throughput: { average: number; total: number }
      start: Date
      finish: Date
    }

    interface Instance extends EventEmitter {
      stop(): void
      on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): this
      on(event: 'start' | 'done' | 'tick', listener: (...args: any[]) => void): this
      on(event: 'reqError', listener: (err: Error) => void): this
    }
  }

  function autocannon (opts: autocannon.Options, cb: (err: Error | null, result: autocannon.Result) => void): autocannon.Instance
  /** Without a callback: a promise of the result. */
  function autocannon (opts: autocannon.Options): Promise<autocannon.Result>

  export = autocannon
}
