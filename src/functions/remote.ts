// A function behind the Lambda Invoke API (the Lambda runtime interface emulator, LocalStack,
// another Backplane…):
//
//   POST {url}/2015-03-31/functions/{name}/invocations[?Qualifier=q]
//   X-Amz-Invocation-Type: RequestResponse          body: the event
//   ◀ 200, body: the result, or the error document with X-Amz-Function-Error: Unhandled|Handled
//   ◀ 404 ResourceNotFoundException, 4xx/5xx other Lambda errors
//
// One undici Pool per function keeps the connections warm.

import { Pool } from 'undici'
import type { CompiledRemoteFunction } from './config.js'
import type { InvokeOutcome } from './protocol.js'
import type { CancelToken } from './cancel.js'

/**
 * API Gateway's cap on an integration response (as integrations/upstream.ts
 * MAX_INTEGRATION_RESPONSE_BYTES, which functions/ does not import): 10 MB.
 */
export const MAX_REMOTE_RESPONSE_BYTES = 10 * 1024 * 1024

/** Connections per remote function: Lambda invocations are long next to a proxied GET. */
const REMOTE_CONNECTIONS = 16

function taskTimedOut(ms: number): string {
  return `Task timed out after ${(ms / 1000).toFixed(2)} seconds`
}

export class RemoteFunction {
  readonly #fn: CompiledRemoteFunction
  readonly #pool: Pool
  readonly #basePath: string

  constructor(fn: CompiledRemoteFunction) {
    this.#fn = fn
    const url = new URL(fn.url)
    this.#basePath = url.pathname.replace(/\/+$/, '')
    this.#pool = new Pool(url.origin, { connections: REMOTE_CONNECTIONS })
  }

  get name(): string {
    return this.#fn.name
  }

  /** Invokes the function once; never rejects. */
  async invoke(payload: Uint8Array, integrationTimeoutMs: number, qualifier: string | null, cancel: CancelToken | null = null): Promise<InvokeOutcome> {
    const byFunction = this.#fn.timeoutMs <= integrationTimeoutMs
    const limit = byFunction ? this.#fn.timeoutMs : integrationTimeoutMs
    const path =
      `${this.#basePath}/2015-03-31/functions/${encodeURIComponent(this.#fn.name)}/invocations` +
      (qualifier === null ? '' : '?Qualifier=' + encodeURIComponent(qualifier))
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, limit)
    if (cancel !== null) cancel.onCancel = () => controller.abort()
    try {
      const res = await this.#pool.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
        body: payload,
        signal: controller.signal,
      })
      // Counted as it arrives: past the cap the rest is not read and the connection goes.
      const declared = Number(res.headers['content-length'])
      if (declared > MAX_REMOTE_RESPONSE_BYTES) {
        res.body.destroy()
        return { kind: 'too-large', length: declared }
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > MAX_REMOTE_RESPONSE_BYTES) {
          res.body.destroy()
          return { kind: 'too-large', length: size }
        }
        chunks.push(chunk)
      }
      const bytes = chunks.length === 1 ? new Uint8Array(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength) : new Uint8Array(Buffer.concat(chunks, size))
      if (res.statusCode === 404) return { kind: 'not-found' }
      if (res.statusCode !== 200) {
        const type = res.headers['x-amzn-errortype']
        return {
          kind: 'crash',
          reason: `the Invoke API answered ${res.statusCode}${typeof type === 'string' ? ' ' + type : ''}: ${Buffer.from(bytes).toString('utf8').slice(0, 200)}`,
        }
      }
      const fnError = res.headers['x-amz-function-error']
      if (fnError === undefined) return { kind: 'ok', payload: bytes }
      let errorMessage = ''
      let errorType = typeof fnError === 'string' ? fnError : 'Unhandled'
      try {
        const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>
        if (typeof doc['errorMessage'] === 'string') errorMessage = doc['errorMessage']
        if (typeof doc['errorType'] === 'string') errorType = doc['errorType']
      } catch {
        errorMessage = Buffer.from(bytes).toString('utf8')
      }
      return { kind: 'function-error', errorMessage, errorType, payload: bytes }
    } catch (err) {
      if (cancel !== null && cancel.cancelled) return { kind: 'crash', reason: 'the request went away' }
      if (timedOut) return { kind: 'timeout', source: byFunction ? 'function' : 'integration', afterMs: limit, errorMessage: taskTimedOut(limit) }
      const e = err as Error & { code?: string }
      return { kind: 'crash', reason: `the Invoke API endpoint failed: ${e.code ?? e.name}: ${e.message}` }
    } finally {
      clearTimeout(timer)
      if (cancel !== null) cancel.onCancel = null
    }
  }

  /** Stops the connections: at once, or (graceful) after the invocations in flight. */
  async close(graceful = false): Promise<void> {
    if (graceful) await this.#pool.close()
    else await this.#pool.destroy()
  }
}
