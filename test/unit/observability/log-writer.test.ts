// Log lines leave in batches without blocking; a destination that falls behind costs
// dropped (counted) lines, never unbounded memory; reopen() follows logrotate.
import t from 'tap'
import { readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { LogWriter, MAX_PENDING_BYTES } from '../../../src/observability/log-writer.js'

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (fn()) return
    await wait(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('lines of one turn go out as one batch, in order', async (t) => {
  const file = join(t.testdir(), 'a.log')
  let dropped = 0
  const w = new LogWriter(file, (n) => (dropped += n))
  for (let i = 0; i < 1000; i++) w.writeLine(`line ${i}`)
  t.equal(w.pendingLines, 1000, 'nothing written synchronously: the request path never waits')
  await w.close()
  const text = readFileSync(file, 'utf8')
  t.equal(text, Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join(''))
  t.equal(dropped, 0)
})

t.test('past MAX_PENDING_BYTES lines are dropped and counted', async (t) => {
  const file = join(t.testdir(), 'b.log')
  let dropped = 0
  const w = new LogWriter(file, (n) => (dropped += n))
  const line = 'x'.repeat(1023)
  const n = Math.ceil(MAX_PENDING_BYTES / 1024) + 100
  for (let i = 0; i < n; i++) w.writeLine(line)
  t.ok(dropped >= 100, `dropped ${dropped}`)
  t.ok(w.pendingLines * 1024 <= MAX_PENDING_BYTES, 'the buffer stays bounded')
  await w.close(5000)
  t.equal(readFileSync(file, 'utf8').split('\n').length - 1 + dropped, n, 'every line is written or counted')
})

t.test('reopen(): after a rename, the next batch goes to a new file by the old name', async (t) => {
  const dir = t.testdir()
  const file = join(dir, 'c.log')
  const w = new LogWriter(file, () => {})
  w.writeLine('before')
  await until(() => w.pendingLines === 0, 'the first batch')
  await wait(20)
  renameSync(file, file + '.1')
  w.reopen()
  w.writeLine('after')
  await w.close()
  t.equal(readFileSync(file + '.1', 'utf8'), 'before\n')
  t.equal(readFileSync(file, 'utf8'), 'after\n')
})

t.test('an unwritable destination drops and counts its lines', async (t) => {
  let dropped = 0
  const w = new LogWriter(join(t.testdir(), 'missing-dir', 'd.log'), (n) => (dropped += n))
  w.writeLine('one')
  w.writeLine('two')
  await until(() => dropped === 2, 'the drop count')
  await w.close()
  t.equal(dropped, 2)
})

t.test('UTF-8 lines, bytes lines and a line longer than a chunk are written whole and in order', async (t) => {
  const file = join(t.testdir(), 'e.log')
  const w = new LogWriter(file, () => {})
  const long = 'y'.repeat(100 * 1024)
  w.writeLine('café ☕')
  const bytes = Buffer.from('from bytes ü and the rest is not written')
  w.writeBytes(bytes, Buffer.byteLength('from bytes ü'))
  w.writeLine(long)
  for (let i = 0; i < 2000; i++) w.writeLine(`n ${i}`)
  await w.close()
  t.equal(readFileSync(file, 'utf8'), ['café ☕', 'from bytes ü', long, ...Array.from({ length: 2000 }, (_, i) => `n ${i}`)].join('\n') + '\n')
})

t.test('writeBytes: lines up to and past the copy loop\'s 512 bytes, and only length bytes of src', async (t) => {
  const file = join(t.testdir(), 'f.log')
  const w = new LogWriter(file, () => {})
  const lines = [0, 1, 511, 512, 513, 4096].map((n) => Buffer.from(Array.from({ length: n }, (_, i) => 97 + (i * 7 + n) % 26)))
  for (const line of lines) {
    const src = Buffer.alloc(line.length + 10, '#') // longer than the line: the rest is never written
    line.copy(src)
    w.writeBytes(src, line.length)
  }
  await w.close()
  t.equal(readFileSync(file, 'utf8'), lines.map((l) => l.toString() + '\n').join(''))
})

// The access log renders its lines in place (observe.ts writeAccessLog): lineTarget gives the
// chunk and its room, commitLine queues what was rendered there; past MAX_PENDING_BYTES it
// gives null, counting the line once, so a line that would be dropped is never rendered.
t.test('lineTarget and commitLine: in-place lines are written whole, and dropped ones counted once', async (t) => {
  const file = join(t.testdir(), 'g.log')
  let dropped = 0
  const w = new LogWriter(file, (n) => (dropped += n))
  const line = Buffer.from('y'.repeat(1023))
  const n = Math.ceil(MAX_PENDING_BYTES / 1024) + 100
  let refused = 0
  let roomShort = 0
  for (let i = 0; i < n; i++) {
    const chunk = w.lineTarget(1023)
    if (chunk === null) {
      refused++
      continue
    }
    if (w.lineEnd - w.lineStart < 1023) roomShort++
    line.copy(chunk, w.lineStart)
    w.commitLine(line.length)
  }
  t.equal(roomShort, 0, 'every chunk given had the room asked for')
  t.ok(refused >= 100, `refused ${refused}`)
  t.equal(dropped, refused, 'each refused line counted once')
  t.ok(w.pendingLines * 1024 <= MAX_PENDING_BYTES, 'the buffer stays bounded')
  await w.close(5000)
  const text = readFileSync(file, 'utf8')
  t.equal(text, `${line.toString()}\n`.repeat(n - refused), 'every line taken is written whole, in order')
})
