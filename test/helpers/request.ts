// request(): one HTTP request over undici, read whole, never hanging.
//
//   const res = await request(`${gw.url}/test/pets?limit=2`, { method: 'POST', body: '{}' })
//   t.equal(res.status, 200); t.match(res.json(), { id: 1 })
//
// The timeout bounds both the wait for the headers and the gaps in the body; a test that
// expects no answer asserts the rejection (`code: 'UND_ERR_HEADERS_TIMEOUT'`).

import { request as undiciRequest } from 'undici'
import type { Dispatcher } from 'undici'
import type { IncomingHttpHeaders } from 'node:http'

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

export interface RequestInit {
  /** Default GET. */
  method?: string
  headers?: Record<string, string | string[]>
  body?: string | Buffer | Uint8Array
  /** Bound on headers and on each body gap (default DEFAULT_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number
  /** Another dispatcher, e.g. a Client with its own connection; default undici's global one. */
  dispatcher?: Dispatcher
}

export interface Response {
  status: number
  headers: IncomingHttpHeaders
  /** The raw body bytes. */
  body: Buffer
  /** The body as utf8. */
  text: string
  /** JSON.parse(text); throws with the text in the message when it is not JSON. */
  json<T = any>(): T
}

export async function request (url: string, init: RequestInit = {}): Promise<Response> {
  const timeoutMs = init.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const res = await undiciRequest(url, {
    method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: init.headers,
    body: init.body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...(init.dispatcher !== undefined ? { dispatcher: init.dispatcher } : {})
  })
  const body = Buffer.from(await res.body.arrayBuffer())
  const text = body.toString('utf8')
  return {
    status: res.statusCode,
    headers: res.headers as IncomingHttpHeaders,
    body,
    text,
    json<T = any>(): T {
      try {
        return JSON.parse(text) as T
      } catch (err) {
        throw new Error(`response is not JSON (${(err as Error).message}): ${text.slice(0, 500)}`)
      }
    }
  }
}
