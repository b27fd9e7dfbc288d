// Log lines leave the hot path in batches: a request copies its line's bytes into the
// destination's current chunk (a reused Buffer; no string per line is kept); a timer
// FLUSH_MS later hands the batch's chunks to the kernel in one fs.writev (libuv's thread
// pool), one write in flight per destination. (Measured: a flush per event-loop turn meant
// about one fs.write per request under load; joining the batch's lines into one string and
// encoding it cost more than making the lines — see README "Monitoring", cost.) A batch past
// FLUSH_BYTES goes at once. A destination slower than the traffic fills the chunks to
// MAX_PENDING_BYTES; past it lines are dropped and counted, never queued without bound, and
// no request ever waits for a disk or a pipe (STYLE §D.7, pino's approach).
import { close, open, write, writev } from 'node:fs'

/** Bytes buffered per destination before lines are dropped: bounds memory under a stalled reader. */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024
/** Pipes and terminals take whole writes atomically up to PIPE_BUF: their chunks are this big and end at a line end, so lines from several workers never interleave. */
const PIPE_CHUNK_BYTES = 4096
/** A file's chunks: a batch is a few of them, written with one writev. */
const FILE_CHUNK_BYTES = 64 * 1024
/** Written chunks kept for reuse (per destination). */
const SPARE_CHUNKS = 4
/** After EAGAIN (a full non-blocking pipe) the batch waits this long before the next try. */
const RETRY_MS = 10
/** How long a line may wait for its batch. */
export const FLUSH_MS = 20
/** A batch this big is written without waiting for the timer. */
const FLUSH_BYTES = 256 * 1024

/** Lines up to this many bytes are copied into the chunk by a loop, longer ones by set(). */
const COPY_LOOP_BYTES = 512

/** Called with the number of lines dropped (the metrics count them). */
export type DropCounter = (lines: number) => void

const NEWLINE = 10

/** One destination: 'stdout', 'stderr' or a file path (opened for append). */
export class LogWriter {
  readonly destination: string
  #fd = -1
  #opening = false
  /** Filled chunks of the batch being gathered, and their used lengths. */
  #full: Buffer[] = []
  #fullUsed: number[] = []
  /** The chunk lines are being copied into, and how much of it is used. */
  #chunk: Buffer | null = null
  #used = 0
  #pendingBytes = 0
  #pendingLines = 0
  #spare: Buffer[] = []
  /** The batch timer, or null; #immediate: a full batch is to be written at the end of this turn. */
  #timer: NodeJS.Timeout | null = null
  #immediate = false
  #writing = false
  #reopen = false
  #closed = false
  readonly #onDrop: DropCounter
  readonly #isStream: boolean
  readonly #chunkBytes: number
  readonly #flush = () => this.#flushNow()

  constructor(destination: string, onDrop: DropCounter) {
    this.destination = destination
    this.#onDrop = onDrop
    this.#isStream = destination === 'stdout' || destination === 'stderr'
    this.#chunkBytes = this.#isStream ? PIPE_CHUNK_BYTES : FILE_CHUNK_BYTES
    if (destination === 'stdout') this.#fd = 1
    else if (destination === 'stderr') this.#fd = 2
  }

  /** Queues one line (without its newline); drops it when the destination is behind. */
  writeLine(line: string): void {
    // At most 3 bytes per UTF-16 unit; the room is made first, then the text encoded in place.
    const max = line.length * 3 + 1
    if (!this.#room(max)) return
    this.#commit(this.#chunk!.write(line, this.#used))
  }

  /** Queues one line given as bytes src[0, length) (without its newline): the access log's rendered line. */
  writeBytes(src: Uint8Array, length: number): void {
    if (!this.#room(length + 1)) return
    const chunk = this.#chunk!
    if (length <= COPY_LOOP_BYTES) {
      // A loop over a line of a few hundred bytes beats subarray() + set(): no view object per line.
      const at = this.#used
      for (let i = 0; i < length; i++) chunk[at + i] = src[i]!
    } else chunk.set(src.subarray(0, length), this.#used)
    this.#commit(length)
  }

  /**
   * For a line rendered in place (the access log): the chunk to render into, at `lineStart`
   * and up to `lineEnd`, with at least `room` bytes free; null when the line is dropped (the
   * destination is behind). commitLine(n) then queues it; a line that needed more room is
   * given to writeBytes instead, and nothing is queued from the chunk.
   */
  lineTarget(room: number): Buffer | null {
    return this.#room(room + 1) ? this.#chunk : null
  }

  /** Where lineTarget's line starts in the chunk. */
  get lineStart(): number {
    return this.#used
  }

  /** The end of the room for lineTarget's line: the chunk's end, less the newline's byte. */
  get lineEnd(): number {
    return this.#chunk!.length - 1
  }

  /** Queues the n bytes rendered at lineStart of lineTarget's chunk. */
  commitLine(n: number): void {
    this.#commit(n)
  }

  /** Whether close() has run: the writer takes no more lines (writerFor makes a new one). */
  get closed(): boolean {
    return this.#closed
  }

  /** Makes room for a line of at most `max` bytes (newline included) in the current chunk; false (and counted) when dropped. */
  #room(max: number): boolean {
    if (this.#closed) return false
    if (this.#pendingBytes + max > MAX_PENDING_BYTES) {
      this.#onDrop(1)
      return false
    }
    if (this.#chunk === null || this.#used + max > this.#chunk.length) {
      if (this.#chunk !== null && this.#used > 0) {
        this.#full.push(this.#chunk)
        this.#fullUsed.push(this.#used)
      }
      // A line longer than a chunk gets a chunk of its own.
      this.#chunk = max > this.#chunkBytes ? Buffer.allocUnsafeSlow(max) : this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#chunkBytes)
      this.#used = 0
    }
    return true
  }

  #commit(n: number): void {
    this.#chunk![this.#used + n] = NEWLINE
    this.#used += n + 1
    this.#pendingBytes += n + 1
    this.#pendingLines++
    // While a batch is being written, the next one is scheduled when that write ends.
    if (!this.#writing) this.#schedule()
  }

  /** One timer per batch (none while idle); a batch past FLUSH_BYTES goes at the end of this turn. */
  #schedule(): void {
    if (this.#pendingBytes >= FLUSH_BYTES) {
      if (!this.#immediate) {
        this.#immediate = true
        setImmediate(this.#flush)
      }
    } else if (this.#timer === null && !this.#immediate) {
      this.#timer = setTimeout(this.#flush, FLUSH_MS)
    }
  }

  /** logrotate: the file is closed and opened again (by name) before the next batch. */
  reopen(): void {
    if (!this.#isStream) this.#reopen = true
  }

  /** Lines waiting, for tests and the drain on stop. */
  get pendingLines(): number {
    return this.#pendingLines
  }

  /** Writes what is queued, then stops taking lines; resolves once written (bounded by `ms`). */
  async close(ms = 1000): Promise<void> {
    const until = Date.now() + ms
    while ((this.#pendingLines > 0 || this.#writing || this.#opening) && Date.now() < until) {
      if (this.#timer === null && !this.#immediate && !this.#writing && !this.#opening) this.#flushNow()
      await new Promise((r) => setTimeout(r, 5))
    }
    this.#closed = true
    if (!this.#isStream && this.#fd >= 0) close(this.#fd, () => {})
    this.#fd = -1
  }

  /** Takes the batch gathered so far: its chunks (views of the used parts) and its line count. */
  #takeBatch(): { chunks: Buffer[]; owners: Buffer[]; lines: number } {
    const owners = this.#full
    const used = this.#fullUsed
    if (this.#chunk !== null && this.#used > 0) {
      owners.push(this.#chunk)
      used.push(this.#used)
      this.#chunk = null
      this.#used = 0
    }
    const chunks = owners.map((c, i) => c.subarray(0, used[i]))
    const lines = this.#pendingLines
    this.#full = []
    this.#fullUsed = []
    this.#pendingBytes = 0
    this.#pendingLines = 0
    return { chunks, owners, lines }
  }

  #flushNow(): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    this.#immediate = false
    if (this.#writing || this.#pendingLines === 0) return
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
    const batch = this.#takeBatch()
    this.#writing = true
    if (this.#isStream) this.#writeChunk(batch.chunks, 0, batch.owners, batch.lines)
    else this.#writeAll(batch.chunks, batch.owners, batch.lines)
  }

  /** A file: the whole batch in one writev (the rest again after a short write). */
  #writeAll(chunks: Buffer[], owners: Buffer[], lines: number): void {
    writev(this.#fd, chunks, null, (err, written) => {
      if (err !== null) return this.#failed(owners, lines)
      let total = 0
      for (const c of chunks) total += c.length
      if (written < total) {
        const rest: Buffer[] = []
        let skip = written
        for (const c of chunks) {
          if (skip >= c.length) skip -= c.length
          else {
            rest.push(skip > 0 ? c.subarray(skip) : c)
            skip = 0
          }
        }
        this.#writeAll(rest, owners, lines)
        return
      }
      this.#written(owners)
    })
  }

  /** A pipe or terminal: chunk by chunk, each one atomic (≤ PIPE_BUF, ending at a line end). */
  #writeChunk(chunks: Buffer[], i: number, owners: Buffer[], lines: number): void {
    const c = chunks[i]!
    write(this.#fd, c, 0, c.length, null, (err, written) => {
      if (err !== null) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(() => this.#writeChunk(chunks, i, owners, lines), RETRY_MS)
          return
        }
        return this.#failed(owners, lines)
      }
      if (written < c.length) chunks[i] = c.subarray(written)
      else i++
      if (i < chunks.length) this.#writeChunk(chunks, i, owners, lines)
      else this.#written(owners)
    })
  }

  // A closed pipe or a failing disk: the batch is lost, and counted.
  #failed(owners: Buffer[], lines: number): void {
    this.#onDrop(lines)
    this.#written(owners)
  }

  #written(owners: Buffer[]): void {
    for (const c of owners) if (c.length === this.#chunkBytes && this.#spare.length < SPARE_CHUNKS) this.#spare.push(c)
    this.#writing = false
    if (this.#pendingLines > 0) this.#schedule()
  }

  #openFile(): void {
    if (this.#opening) return
    this.#opening = true
    open(this.destination, 'a', 0o640, (err, fd) => {
      this.#opening = false
      if (err !== null) {
        // The directory is gone or not writable: this batch is dropped; the next one tries again.
        const { owners, lines } = this.#takeBatch()
        this.#onDrop(lines)
        for (const c of owners) if (c.length === this.#chunkBytes && this.#spare.length < SPARE_CHUNKS) this.#spare.push(c)
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
