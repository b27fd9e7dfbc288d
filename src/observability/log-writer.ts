// Log lines leave the hot path in batches: a request only pushes its line onto an array;
// a timer FLUSH_MS later joins the batch and hands it to fs.write (libuv's thread pool),
// one write in flight per destination. (Measured: a flush per event-loop turn meant about
// one fs.write per request under load, 5 % of the worker's CPU in the write call alone; a
// batch per FLUSH_MS holds hundreds of lines.) A batch past FLUSH_BYTES goes at once. A destination slower than the traffic fills the
// buffer to MAX_PENDING_BYTES; past it lines are dropped and counted, never queued without
// bound, and no request ever waits for a disk or a pipe (STYLE §D.7, pino's approach).
import { close, open, write } from 'node:fs'

/** Bytes buffered per destination before lines are dropped: bounds memory under a stalled reader. */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024
/** Pipes and terminals take whole writes atomically up to PIPE_BUF: batches are cut at line ends below it, so lines from several workers never interleave. */
const PIPE_CHUNK_BYTES = 4096
/** After EAGAIN (a full non-blocking pipe) the batch waits this long before the next try. */
const RETRY_MS = 10
/** How long a line may wait for its batch. */
export const FLUSH_MS = 20
/** A batch this big is written without waiting for the timer. */
const FLUSH_BYTES = 64 * 1024

/** Called with the number of lines dropped (the metrics count them). */
export type DropCounter = (lines: number) => void

/** One destination: 'stdout', 'stderr' or a file path (opened for append). */
export class LogWriter {
  readonly destination: string
  #fd = -1
  #opening = false
  #pending: string[] = []
  #pendingBytes = 0
  #scheduled = false
  #writing = false
  #reopen = false
  #closed = false
  readonly #onDrop: DropCounter
  readonly #isStream: boolean
  readonly #flush = () => this.#flushNow()

  constructor(destination: string, onDrop: DropCounter) {
    this.destination = destination
    this.#onDrop = onDrop
    this.#isStream = destination === 'stdout' || destination === 'stderr'
    if (destination === 'stdout') this.#fd = 1
    else if (destination === 'stderr') this.#fd = 2
  }

  /** Queues one line (without its newline); drops it when the destination is behind. */
  writeLine(line: string): void {
    if (this.#closed) return
    if (this.#pendingBytes + line.length >= MAX_PENDING_BYTES) {
      this.#onDrop(1)
      return
    }
    this.#pending.push(line)
    this.#pendingBytes += line.length + 1
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true
      if (this.#pendingBytes >= FLUSH_BYTES) setImmediate(this.#flush)
      else setTimeout(this.#flush, FLUSH_MS)
    }
  }

  /** logrotate: the file is closed and opened again (by name) before the next batch. */
  reopen(): void {
    if (!this.#isStream) this.#reopen = true
  }

  /** Lines waiting, for tests and the drain on stop. */
  get pendingLines(): number {
    return this.#pending.length
  }

  /** Writes what is queued, then stops taking lines; resolves once written (bounded by `ms`). */
  async close(ms = 1000): Promise<void> {
    const until = Date.now() + ms
    while ((this.#pending.length > 0 || this.#writing || this.#opening) && Date.now() < until) {
      if (!this.#scheduled && !this.#writing && !this.#opening) this.#flushNow()
      await new Promise((r) => setTimeout(r, 5))
    }
    this.#closed = true
    if (!this.#isStream && this.#fd >= 0) close(this.#fd, () => {})
    this.#fd = -1
  }

  #flushNow(): void {
    this.#scheduled = false
    if (this.#writing || this.#pending.length === 0) return
    if (this.#reopen && this.#fd >= 0) {
      const old = this.#fd
      this.#fd = -1
      this.#reopen = false
      close(old, () => {})
    }
    if (this.#fd < 0) {
      this.#openFile()
      return
    }
    const lines = this.#pending
    this.#pending = []
    this.#pendingBytes = 0
    let text = lines.join('\n') + '\n'
    let rest: string | null = null
    if (this.#isStream && text.length > PIPE_CHUNK_BYTES) {
      // Cut at the last line end within the chunk (a single longer line goes whole).
      let cut = text.lastIndexOf('\n', PIPE_CHUNK_BYTES - 1)
      if (cut <= 0) cut = text.indexOf('\n')
      rest = text.slice(cut + 1)
      text = text.slice(0, cut + 1)
    }
    this.#writing = true
    this.#writeText(text, rest, lines.length)
  }

  #writeText(text: string, rest: string | null, lineCount: number): void {
    const buf = Buffer.from(text, 'utf8')
    write(this.#fd, buf, 0, buf.length, null, (err, written) => {
      if (err !== null) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EAGAIN') {
          setTimeout(() => this.#writeText(text, rest, lineCount), RETRY_MS)
          return
        }
        // A closed pipe or a failing disk: the batch is lost, and counted.
        this.#writing = false
        this.#onDrop(lineCount)
        if (rest !== null) this.#onDrop(countLines(rest))
        return
      }
      if (written < buf.length) {
        this.#writeText(buf.subarray(written).toString('utf8'), rest, lineCount)
        return
      }
      if (rest !== null && rest.length > 0) {
        let next: string | null = null
        let chunk = rest
        if (rest.length > PIPE_CHUNK_BYTES) {
          let cut = rest.lastIndexOf('\n', PIPE_CHUNK_BYTES - 1)
          if (cut <= 0) cut = rest.indexOf('\n')
          chunk = rest.slice(0, cut + 1)
          next = rest.slice(cut + 1)
        }
        this.#writeText(chunk, next, 0)
        return
      }
      this.#writing = false
      if (this.#pending.length > 0 && !this.#scheduled) {
        this.#scheduled = true
        if (this.#pendingBytes >= FLUSH_BYTES) setImmediate(this.#flush)
        else setTimeout(this.#flush, FLUSH_MS)
      }
    })
  }

  #openFile(): void {
    if (this.#opening) return
    this.#opening = true
    open(this.destination, 'a', 0o640, (err, fd) => {
      this.#opening = false
      if (err !== null) {
        // The directory is gone or not writable: this batch is dropped; the next one tries again.
        const n = this.#pending.length
        this.#pending = []
        this.#pendingBytes = 0
        this.#onDrop(n)
        return
      }
      if (this.#closed) {
        close(fd, () => {})
        return
      }
      this.#fd = fd
      this.#flushNow()
    })
  }
}

function countLines(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  return n
}

/** One writer per destination in this thread, shared by every stage that logs there. */
const writers = new Map<string, LogWriter>()
let dropCounter: DropCounter = () => {}

/** Installs the function that counts dropped lines (the worker's metrics). */
export function setDropCounter(fn: DropCounter): void {
  dropCounter = fn
}

export function writerFor(destination: string): LogWriter {
  let w = writers.get(destination)
  if (w === undefined) {
    w = new LogWriter(destination, (n) => dropCounter(n))
    writers.set(destination, w)
  }
  return w
}

/** SIGUSR1: every file destination of this thread is reopened before its next batch. */
export function reopenLogFiles(): void {
  for (const w of writers.values()) w.reopen()
}

/** Flushes and closes every writer of this thread. */
export async function closeLogWriters(ms = 1000): Promise<void> {
  await Promise.all([...writers.values()].map((w) => w.close(ms)))
  writers.clear()
}
