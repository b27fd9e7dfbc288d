// Writes replies to uWebSockets.js responses. Every write happens in a later tick than
// the request, so it is corked (one syscall per response, DESIGN.md invariants).
import type { HttpResponse } from 'uWebSockets.js'
import { STATUS_CODES } from 'node:http'
import type { ReplyRecord } from '../pool/protocol.js'

/** "200 OK" etc., built once. */
const STATUS_LINES: string[] = []
for (let s = 100; s < 600; s++) STATUS_LINES[s] = `${s} ${STATUS_CODES[s] ?? 'Unknown'}`

/** A response still waiting for its reply. */
export class PendingResponse {
  aborted = false
  /** Close the connection after the reply (a request body left unread). */
  closeAfter = false
  constructor(
    readonly res: HttpResponse,
    /** HEAD answers carry the length but no body. */
    readonly isHead: boolean,
  ) {}
}

// cork() runs its callback synchronously: these carry the arguments without a closure.
let curRes: HttpResponse | null = null
let curReply: ReplyRecord | null = null
let curHead = false
let curClose = false

function writeCorked(): void {
  const res = curRes!
  const reply = curReply!
  res.writeStatus(STATUS_LINES[reply.status] ?? `${reply.status} Unknown`)
  const h = reply.headers
  for (let i = 0; i < h.length; i += 2) res.writeHeader(h[i]!, h[i + 1]!)
  if (curHead) res.endWithoutBody(reply.body === null ? 0 : reply.body.byteLength, curClose)
  else res.end(reply.body === null ? '' : reply.body, curClose)
}

export function writeReply(p: PendingResponse, reply: ReplyRecord, closeConnection = false): void {
  if (p.aborted) return
  curRes = p.res
  curReply = reply
  curHead = p.isHead
  curClose = closeConnection
  p.res.cork(writeCorked)
  curRes = null
  curReply = null
}
