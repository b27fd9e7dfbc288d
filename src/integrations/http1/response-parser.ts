// An incremental HTTP/1.1 response parser for the gateway's own backend client (pool.ts).
// Strict where framing is concerned, as undici's llhttp is: anything it cannot frame
// exactly (a bad status line, a header line without a colon, an obs-fold, conflicting
// lengths, a bad chunk size) is an error, which the exchange turns into a 502. One parser
// per connection, reused for every response on it; no allocation per response beyond the
// header strings and the body slices handed on.

/** What the parser hands its connection. */
export interface ResponseSink {
  /** The final (non-1xx) head: status and flat [name, value, …] as the backend sent them. */
  onResponseHead(status: number, headers: string[]): void
  onResponseBody(chunk: Buffer): void
  onResponseEnd(): void
}

/** The largest response head accepted (undici's default maxHeaderSize). */
export const MAX_HEAD_BYTES = 16 * 1024

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkExt,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  TrailerLineStart,
  TrailerLine,
  TrailerLf,
  TrailerEndLf,
  UntilEof,
  Done,
}

export class ParseError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE'
}

/** A visible token character of a field name (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** A character that may not stand in a field value (what undici's llhttp refuses). */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/

export class ResponseParser {
  state = State.Done
  /** The request was HEAD: no body, whatever the head says. */
  head = false
  /** Body bytes still expected (Length, ChunkData). */
  left = 0
  /** The connection may carry another request once this response ends. */
  keepAlive = true
  /** The backend's Keep-Alive timeout hint in ms, or -1. */
  keepAliveHintMs = -1
  /** Whether any byte of the current response has arrived. */
  received = false
  /** Part of a head split over reads. */
  #pending: Buffer | null = null
  /** Digits of the chunk size read so far on this line. */
  #sizeDigits = 0
  readonly sink: ResponseSink

  constructor(sink: ResponseSink) {
    this.sink = sink
  }

  /** Expects the response to a request just written. */
  begin(head: boolean): void {
    this.state = State.Head
    this.head = head
    this.left = 0
    this.keepAlive = true
    this.keepAliveHintMs = -1
    this.received = false
    this.#pending = null
  }

  get done(): boolean {
    return this.state === State.Done
  }

  /**
   * Parses one read. Returns the offset just past the response's end when it ended inside
   * `chunk` (bytes after it are not this response's), or -1 when all of it was consumed.
   * Throws ParseError on bad framing.
   */
  execute(chunk: Buffer): number {
    this.received = true
    let at = 0
    const end = chunk.length
    while (at < end) {
      switch (this.state) {
        case State.Head: {
          at = this.#head(chunk, at)
          if (at === -1) return -1
          break
        }
        case State.Length: {
          const n = Math.min(this.left, end - at)
          this.left -= n
          this.sink.onResponseBody(at === 0 && n === end ? chunk : chunk.subarray(at, at + n))
          at += n
          if (this.left === 0) this.#finish()
          break
        }
        case State.ChunkSize: {
          const c = chunk[at]!
          const d = hexDigit(c)
          if (d !== -1) {
            if (++this.#sizeDigits > 12) throw new ParseError('chunk size too long')
            this.left = this.left * 16 + d
            at++
          } else if (this.#sizeDigits === 0) {
            throw new ParseError('bad chunk size')
          } else if (c === 0x3b /* ; */ || c === 0x20 || c === 0x09) {
            this.state = State.ChunkExt
            at++
          } else if (c === 0x0d) {
            this.state = State.ChunkSizeLf
            at++
          } else throw new ParseError('bad chunk size')
          break
        }
        case State.ChunkExt: {
          // Chunk extensions are ignored (RFC 9112 §7.1.1), up to the line's CRLF.
          const cr = chunk.indexOf(0x0d, at)
          if (cr === -1) return -1
          this.state = State.ChunkSizeLf
          at = cr + 1
          break
        }
        case State.ChunkSizeLf: {
          if (chunk[at] !== 0x0a) throw new ParseError('bad chunk size line')
          at++
          this.#sizeDigits = 0
          this.state = this.left === 0 ? State.TrailerLineStart : State.ChunkData
          break
        }
        case State.ChunkData: {
          const n = Math.min(this.left, end - at)
          this.left -= n
          this.sink.onResponseBody(at === 0 && n === end ? chunk : chunk.subarray(at, at + n))
          at += n
          if (this.left === 0) this.state = State.ChunkDataCr
          break
        }
        case State.ChunkDataCr: {
          if (chunk[at] !== 0x0d) throw new ParseError('no CRLF after chunk data')
          at++
          this.state = State.ChunkDataLf
          break
        }
        case State.ChunkDataLf: {
          if (chunk[at] !== 0x0a) throw new ParseError('no CRLF after chunk data')
          at++
          this.left = 0
          this.state = State.ChunkSize
          break
        }
        // Trailers are read and dropped (API Gateway returns none of them).
        case State.TrailerLineStart: {
          if (chunk[at] === 0x0d) this.state = State.TrailerEndLf
          else this.state = State.TrailerLine
          at++
          break
        }
        case State.TrailerLine: {
          const cr = chunk.indexOf(0x0d, at)
          if (cr === -1) return -1
          this.state = State.TrailerLf
          at = cr + 1
          break
        }
        case State.TrailerLf: {
          if (chunk[at] !== 0x0a) throw new ParseError('bad trailer line')
          at++
          this.state = State.TrailerLineStart
          break
        }
        case State.TrailerEndLf: {
          if (chunk[at] !== 0x0a) throw new ParseError('bad end of trailers')
          at++
          this.#finish()
          break
        }
        case State.UntilEof: {
          this.sink.onResponseBody(at === 0 ? chunk : chunk.subarray(at))
          return -1
        }
        case State.Done:
          return at
      }
      if ((this.state as State) === State.Done) return at === end ? -1 : at
    }
    return -1
  }

  /** The backend closed its side. Returns whether that ended the response well (close-delimited). */
  eof(): boolean {
    if (this.state === State.UntilEof) {
      this.#finish()
      return true
    }
    return false
  }

  #finish(): void {
    this.state = State.Done
    this.sink.onResponseEnd()
  }

  /** Looks for the end of the head from `at`; returns where the body starts, or -1 (need more). */
  #head(chunk: Buffer, at: number): number {
    let buf = chunk
    let from = at
    const pending = this.#pending
    if (pending !== null) {
      buf = Buffer.concat([pending, at === 0 ? chunk : chunk.subarray(at)])
      from = 0
      this.#pending = null
    }
    // Search from a little before the new bytes, for a CRLFCRLF split over reads.
    const searchFrom = pending === null ? from : Math.max(0, pending.length - 3)
    const stop = buf.indexOf('\r\n\r\n', searchFrom, 'latin1')
    if (stop === -1) {
      if (buf.length - from > MAX_HEAD_BYTES) throw new ParseError('response head too large')
      this.#pending = from === 0 ? (buf === chunk ? Buffer.from(chunk) : buf) : Buffer.from(buf.subarray(from))
      return -1
    }
    if (stop - from > MAX_HEAD_BYTES) throw new ParseError('response head too large')
    this.#parseHead(buf, from, stop)
    const bodyAt = stop + 4
    // Offsets are into `buf`; map them back into `chunk` when the head was joined.
    return buf === chunk ? bodyAt : at + (bodyAt - pending!.length)
  }

  #parseHead(buf: Buffer, from: number, stop: number): void {
    // Status line: HTTP/1.x SP 3DIGIT [SP reason]
    if (stop - from < 12 || buf[from] !== 0x48 || buf[from + 1] !== 0x54 || buf[from + 2] !== 0x54 || buf[from + 3] !== 0x50 || buf[from + 4] !== 0x2f || buf[from + 5] !== 0x31 || buf[from + 6] !== 0x2e || buf[from + 8] !== 0x20) throw new ParseError('bad status line')
    const minor = buf[from + 7]!
    if (minor !== 0x31 && minor !== 0x30) throw new ParseError('bad HTTP version')
    const d1 = buf[from + 9]! - 48, d2 = buf[from + 10]! - 48, d3 = buf[from + 11]! - 48
    if (d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) throw new ParseError('bad status code')
    const status = d1 * 100 + d2 * 10 + d3
    let line = buf.indexOf(0x0d, from + 12)
    if (line === -1 || line > stop) line = stop
    if (line !== from + 12 && buf[from + 12] !== 0x20) throw new ParseError('bad status line')
    if (buf[line + 1] !== 0x0a && line !== stop) throw new ParseError('bad status line')
    let keepAlive = minor === 0x31
    let length = -1
    let chunked = false
    let encoded = false
    const headers: string[] = []
    let p = line + 2
    while (p < stop + 2 && line < stop) {
      let eol = buf.indexOf(0x0d, p)
      if (eol === -1 || eol > stop) eol = stop
      if (buf[eol + 1] !== 0x0a) throw new ParseError('bad header line')
      const first = buf[p]
      if (first === 0x20 || first === 0x09) throw new ParseError('obsolete line folding')
      const colon = buf.indexOf(0x3a, p)
      if (colon === -1 || colon > eol || colon === p) throw new ParseError('bad header line')
      const name = buf.toString('latin1', p, colon)
      if (!TOKEN.test(name)) throw new ParseError('bad header name')
      let vs = colon + 1
      let ve = eol
      while (vs < ve && (buf[vs] === 0x20 || buf[vs] === 0x09)) vs++
      while (ve > vs && (buf[ve - 1] === 0x20 || buf[ve - 1] === 0x09)) ve--
      const value = buf.toString('latin1', vs, ve)
      if (BAD_VALUE.test(value)) throw new ParseError('bad header value')
      headers.push(name, value)
      const n = name.length
      if (n === 14 || n === 17 || n === 10) {
        const lower = name.toLowerCase()
        if (lower === 'content-length') {
          if (length !== -1 || !/^\d{1,15}$/.test(value)) throw new ParseError('bad or repeated content-length')
          length = Number(value)
        } else if (lower === 'transfer-encoding') {
          encoded = true
          // Chunked must be the last coding; anything else is delimited by the close.
          chunked = /(?:^|,)[ \t]*chunked[ \t]*$/i.test(value)
        } else if (lower === 'connection') {
          const v = value.toLowerCase()
          if (v.includes('close')) keepAlive = false
          else if (v.includes('keep-alive')) keepAlive = true
        } else if (lower === 'keep-alive') {
          const m = /timeout=(\d+)/i.exec(value)
          if (m !== null) this.keepAliveHintMs = Number(m[1]) * 1000
        }
      }
      p = eol + 2
      line = eol
    }
    if (status < 200) {
      // 1xx informational heads are skipped; a 101 was never asked for.
      if (status === 101 || status < 100) throw new ParseError('unexpected informational status')
      this.state = State.Head
      this.keepAliveHintMs = -1
      return
    }
    if (encoded && length !== -1) throw new ParseError('both transfer-encoding and content-length')
    this.keepAlive = keepAlive
    this.sink.onResponseHead(status, headers)
    if (this.head || status === 204 || status === 304) {
      this.#finish()
    } else if (encoded) {
      if (chunked) {
        this.state = State.ChunkSize
        this.left = 0
        this.#sizeDigits = 0
      } else {
        this.keepAlive = false
        this.state = State.UntilEof
      }
    } else if (length !== -1) {
      this.left = length
      if (length === 0) this.#finish()
      else this.state = State.Length
    } else {
      this.keepAlive = false
      this.state = State.UntilEof
    }
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}
