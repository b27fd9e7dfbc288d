// One stage's response cache in a SharedArrayBuffer, shared by every worker of the process
// (DESIGN.md: one cache, never N copies) with no message hop: a lookup takes a spin lock
// (Atomics), walks a hash chain and copies the entry out. Bounded by its byte size with LRU
// eviction: entries live in fixed blocks, and an insert that finds too few free blocks
// evicts from the least recently used end until it fits.
//
//   header | buckets (Int32, entry+1, 0 = empty) | entries (ENTRY_INTS Int32 each) |
//   expiry (Float64 per entry) | blockNext (Int32 per block) | data (BLOCK_SIZE per block)
//
// A zero-filled buffer is an empty cache once the header's geometry is written: blocks and
// entries are taken from a bump pointer first, then from free lists, so a 0.5 GB cache
// touches (commits) only the memory its entries use. Critical sections copy at most one
// entry (1 MB); nothing waits with Atomics.wait (workers serve I/O, the main thread may not).

/** Bytes per data block: small enough that a 100-byte response wastes little, large enough that the metadata stays under 5 %. */
export const BLOCK_SIZE = 1024

const HEADER_INTS = 16
const H_LOCK = 0
const H_COUNT = 1
const H_FREE_BLOCK = 2
const H_FREE_BLOCKS = 3
const H_LRU_HEAD = 4
const H_LRU_TAIL = 5
const H_FREE_ENTRY = 6
const H_BUCKETS = 7
const H_ENTRIES = 8
const H_BLOCKS = 9
const H_BLOCK_BUMP = 10
const H_ENTRY_BUMP = 11
const H_MAGIC = 12
/** Incremented by every flush, so a test (or a log line) can tell one happened. */
const H_FLUSHES = 13
/** The last entry number given out: every stored value gets a new one (E_SEQ). */
const H_SEQ = 14
const MAGIC = 0x42504331 // 'BPC1'

const ENTRY_INTS = 8
const E_HASH = 0
const E_KEY_LEN = 1
const E_TOTAL_LEN = 2
const E_FIRST_BLOCK = 3
const E_PREV = 4
const E_NEXT = 5
const E_CHAIN = 6
/** The value's number (H_SEQ when it was stored): a worker that decoded that value keeps its decoding. */
const E_SEQ = 7
const NONE = -1

/** Bytes of metadata per block: its entry slot, expiry, next-block link and at most two bucket slots. */
const PER_BLOCK_OVERHEAD = ENTRY_INTS * 4 + 8 + 4 + 8

interface Geometry {
  readonly buckets: number
  readonly entries: number
  readonly blocks: number
  readonly bucketsAt: number
  readonly entriesAt: number
  readonly expiryAt: number
  readonly blockNextAt: number
  readonly dataAt: number
}

function geometry(bytes: number): Geometry {
  const usable = bytes - HEADER_INTS * 4 - 16
  const blocks = Math.max(1, Math.floor(usable / (BLOCK_SIZE + PER_BLOCK_OVERHEAD)))
  const entries = blocks
  let buckets = 1
  while (buckets < entries) buckets <<= 1
  const bucketsAt = HEADER_INTS * 4
  const entriesAt = bucketsAt + buckets * 4
  const expiryAt = (entriesAt + entries * ENTRY_INTS * 4 + 7) & ~7
  const blockNextAt = expiryAt + entries * 8
  const dataAt = blockNextAt + blocks * 4
  return { buckets, entries, blocks, bucketsAt, entriesAt, expiryAt, blockNextAt, dataAt }
}

/** A new, empty store of `bytes` bytes (made on the main thread; workers open it with `new SharedStore(sab)`). */
export function createSharedStoreMemory(bytes: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes)
  const g = geometry(bytes)
  const h = new Int32Array(sab, 0, HEADER_INTS)
  h[H_BUCKETS] = g.buckets
  h[H_ENTRIES] = g.entries
  h[H_BLOCKS] = g.blocks
  resetHeader(h)
  h[H_MAGIC] = MAGIC
  return sab
}

function resetHeader(h: Int32Array): void {
  h[H_COUNT] = 0
  h[H_FREE_BLOCK] = NONE
  h[H_FREE_BLOCKS] = 0
  h[H_LRU_HEAD] = NONE
  h[H_LRU_TAIL] = NONE
  h[H_FREE_ENTRY] = NONE
  h[H_BLOCK_BUMP] = 0
  h[H_ENTRY_BUMP] = 0
}

/** FNV-1a over the key's bytes. */
export function hashKey(key: Uint8Array): number {
  let h = 2166136261
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key[i]!, 16777619)
  return h | 0
}

export class SharedStore {
  readonly memory: SharedArrayBuffer
  readonly #h: Int32Array
  readonly #buckets: Int32Array
  readonly #e: Int32Array
  readonly #expiry: Float64Array
  readonly #blockNext: Int32Array
  readonly #data: Uint8Array
  readonly #bucketMask: number
  /** The most bytes one entry (key and value) may take: every block of the store. */
  readonly capacity: number

  constructor(memory: SharedArrayBuffer) {
    this.memory = memory
    const g = geometry(memory.byteLength)
    this.#h = new Int32Array(memory, 0, HEADER_INTS)
    if (this.#h[H_MAGIC] !== MAGIC || this.#h[H_BLOCKS] !== g.blocks) throw new Error('SharedStore: memory was not made by createSharedStoreMemory')
    this.#buckets = new Int32Array(memory, g.bucketsAt, g.buckets)
    this.#e = new Int32Array(memory, g.entriesAt, g.entries * ENTRY_INTS)
    this.#expiry = new Float64Array(memory, g.expiryAt, g.entries)
    this.#blockNext = new Int32Array(memory, g.blockNextAt, g.blocks)
    this.#data = new Uint8Array(memory, g.dataAt, g.blocks * BLOCK_SIZE)
    this.#bucketMask = g.buckets - 1
    this.capacity = g.blocks * BLOCK_SIZE
  }

  /** Entries held now. */
  get size(): number {
    return Atomics.load(this.#h, H_COUNT)
  }

  /** Flushes so far (FlushStageCache). */
  get flushes(): number {
    return Atomics.load(this.#h, H_FLUSHES)
  }

  #lock(): void {
    // Holders copy one entry at most: spinning is shorter than any wake-up would be.
    while (Atomics.compareExchange(this.#h, H_LOCK, 0, 1) !== 0) { /* spin */ }
  }

  #unlock(): void {
    Atomics.store(this.#h, H_LOCK, 0)
  }

  /** The value stored under `key` (a copy), or null when absent or expired at `now` (epoch ms). */
  get(key: Uint8Array, now: number): Uint8Array | null {
    const hash = hashKey(key)
    this.#lock()
    try {
      const i = this.#find(key, hash)
      if (i === NONE) return null
      if (this.#expiry[i]! <= now) {
        this.#remove(i)
        return null
      }
      this.#touch(i)
      const e = this.#e
      const keyLen = e[i * ENTRY_INTS + E_KEY_LEN]!
      const out = new Uint8Array(e[i * ENTRY_INTS + E_TOTAL_LEN]! - keyLen)
      this.#read(e[i * ENTRY_INTS + E_FIRST_BLOCK]!, keyLen, out)
      return out
    } finally {
      this.#unlock()
    }
  }

  /**
   * The number of the value stored under `key` (key bytes hashing to `hash`), or -1 when
   * absent or expired at `now`. When that number is not `known`, the value is copied into
   * `lastValue`; when it is, nothing is copied: the caller holds what it decoded from it.
   */
  lookup(key: Uint8Array, hash: number, now: number, known: number): number {
    this.#lock()
    try {
      const i = this.#find(key, hash)
      if (i === NONE) return -1
      if (this.#expiry[i]! <= now) {
        this.#remove(i)
        return -1
      }
      this.#touch(i)
      const e = this.#e
      const seq = e[i * ENTRY_INTS + E_SEQ]!
      if (seq === known) return seq
      const keyLen = e[i * ENTRY_INTS + E_KEY_LEN]!
      const out = new Uint8Array(e[i * ENTRY_INTS + E_TOTAL_LEN]! - keyLen)
      this.#read(e[i * ENTRY_INTS + E_FIRST_BLOCK]!, keyLen, out)
      this.lastValue = out
      return seq
    } finally {
      this.#unlock()
    }
  }

  /** The value the last lookup copied out (worker-local). */
  lastValue: Uint8Array | null = null

  /** Stores `value` under `key` until `expiresAt` (epoch ms), evicting least recently used entries to make room; false when it can never fit. */
  set(key: Uint8Array, value: Uint8Array, expiresAt: number): boolean {
    const total = key.length + value.length
    if (total > this.capacity) return false
    const needed = Math.max(1, Math.ceil(total / BLOCK_SIZE))
    const hash = hashKey(key)
    this.#lock()
    try {
      const old = this.#find(key, hash)
      if (old !== NONE) this.#remove(old)
      const h = this.#h
      while (this.#freeBlocks() < needed || (h[H_FREE_ENTRY] === NONE && h[H_ENTRY_BUMP]! >= h[H_ENTRIES]!)) {
        const tail = h[H_LRU_TAIL]!
        if (tail === NONE) return false
        this.#remove(tail)
      }
      const i = this.#allocEntry()
      const base = i * ENTRY_INTS
      const e = this.#e
      // Blocks are chained first to last; the entry's bytes are key then value.
      let first = NONE
      let prev = NONE
      for (let n = 0; n < needed; n++) {
        const b = this.#allocBlock()
        this.#blockNext[b] = NONE
        if (prev === NONE) first = b
        else this.#blockNext[prev] = b
        prev = b
      }
      e[base + E_HASH] = hash
      e[base + E_KEY_LEN] = key.length
      e[base + E_TOTAL_LEN] = total
      e[base + E_FIRST_BLOCK] = first
      // Numbers stay positive: -1 means none to callers of lookup().
      h[H_SEQ] = (h[H_SEQ]! + 1) & 0x7fffffff
      e[base + E_SEQ] = h[H_SEQ]!
      this.#expiry[i] = expiresAt
      this.#write(first, 0, key)
      this.#write(first, key.length, value)
      const slot = hash & this.#bucketMask
      e[base + E_CHAIN] = this.#buckets[slot]! - 1
      this.#buckets[slot] = i + 1
      e[base + E_PREV] = NONE
      e[base + E_NEXT] = h[H_LRU_HEAD]!
      if (h[H_LRU_HEAD] !== NONE) e[h[H_LRU_HEAD]! * ENTRY_INTS + E_PREV] = i
      h[H_LRU_HEAD] = i
      if (h[H_LRU_TAIL] === NONE) h[H_LRU_TAIL] = i
      h[H_COUNT]!++
      return true
    } finally {
      this.#unlock()
    }
  }

  /** Removes the entry under `key`; true when there was one. */
  delete(key: Uint8Array): boolean {
    const hash = hashKey(key)
    this.#lock()
    try {
      const i = this.#find(key, hash)
      if (i === NONE) return false
      this.#remove(i)
      return true
    } finally {
      this.#unlock()
    }
  }

  /** Drops every entry (FlushStageCache). */
  clear(): void {
    this.#lock()
    try {
      resetHeader(this.#h)
      this.#buckets.fill(0)
      this.#h[H_FLUSHES]!++
    } finally {
      this.#unlock()
    }
  }

  #freeBlocks(): number {
    const h = this.#h
    return h[H_FREE_BLOCKS]! + (h[H_BLOCKS]! - h[H_BLOCK_BUMP]!)
  }

  #allocBlock(): number {
    const h = this.#h
    if (h[H_BLOCK_BUMP]! < h[H_BLOCKS]!) return h[H_BLOCK_BUMP]!++
    const b = h[H_FREE_BLOCK]!
    h[H_FREE_BLOCK] = this.#blockNext[b]!
    h[H_FREE_BLOCKS]!--
    return b
  }

  #allocEntry(): number {
    const h = this.#h
    if (h[H_ENTRY_BUMP]! < h[H_ENTRIES]!) return h[H_ENTRY_BUMP]!++
    const i = h[H_FREE_ENTRY]!
    h[H_FREE_ENTRY] = this.#e[i * ENTRY_INTS + E_CHAIN]!
    return i
  }

  #find(key: Uint8Array, hash: number): number {
    const e = this.#e
    let i = this.#buckets[hash & this.#bucketMask]! - 1
    while (i !== NONE) {
      const base = i * ENTRY_INTS
      if (e[base + E_HASH] === hash && e[base + E_KEY_LEN] === key.length && this.#keyEquals(e[base + E_FIRST_BLOCK]!, key)) return i
      i = e[base + E_CHAIN]!
    }
    return NONE
  }

  #keyEquals(block: number, key: Uint8Array): boolean {
    const data = this.#data
    let b = block
    let at = 0
    for (let k = 0; k < key.length; k++, at++) {
      if (at === BLOCK_SIZE) {
        b = this.#blockNext[b]!
        at = 0
      }
      if (data[b * BLOCK_SIZE + at] !== key[k]) return false
    }
    return true
  }

  /** Copies `src` into the chain from byte `offset` of the entry on. */
  #write(block: number, offset: number, src: Uint8Array): void {
    let b = block
    while (offset >= BLOCK_SIZE) {
      b = this.#blockNext[b]!
      offset -= BLOCK_SIZE
    }
    let done = 0
    while (done < src.length) {
      const n = Math.min(BLOCK_SIZE - offset, src.length - done)
      this.#data.set(src.subarray(done, done + n), b * BLOCK_SIZE + offset)
      done += n
      offset = 0
      if (done < src.length) b = this.#blockNext[b]!
    }
  }

  /** Fills `out` from byte `offset` of the entry on. */
  #read(block: number, offset: number, out: Uint8Array): void {
    let b = block
    while (offset >= BLOCK_SIZE) {
      b = this.#blockNext[b]!
      offset -= BLOCK_SIZE
    }
    let done = 0
    while (done < out.length) {
      const n = Math.min(BLOCK_SIZE - offset, out.length - done)
      const start = b * BLOCK_SIZE + offset
      out.set(this.#data.subarray(start, start + n), done)
      done += n
      offset = 0
      if (done < out.length) b = this.#blockNext[b]!
    }
  }

  /** Moves entry `i` to the most recently used end. */
  #touch(i: number): void {
    const h = this.#h
    if (h[H_LRU_HEAD] === i) return
    this.#unlink(i)
    const e = this.#e
    e[i * ENTRY_INTS + E_PREV] = NONE
    e[i * ENTRY_INTS + E_NEXT] = h[H_LRU_HEAD]!
    if (h[H_LRU_HEAD] !== NONE) e[h[H_LRU_HEAD]! * ENTRY_INTS + E_PREV] = i
    h[H_LRU_HEAD] = i
    if (h[H_LRU_TAIL] === NONE) h[H_LRU_TAIL] = i
  }

  #unlink(i: number): void {
    const h = this.#h
    const e = this.#e
    const prev = e[i * ENTRY_INTS + E_PREV]!
    const next = e[i * ENTRY_INTS + E_NEXT]!
    if (prev !== NONE) e[prev * ENTRY_INTS + E_NEXT] = next
    else h[H_LRU_HEAD] = next
    if (next !== NONE) e[next * ENTRY_INTS + E_PREV] = prev
    else h[H_LRU_TAIL] = prev
  }

  /** Unlinks entry `i` from its bucket and the LRU list and frees its blocks. */
  #remove(i: number): void {
    const e = this.#e
    const h = this.#h
    const base = i * ENTRY_INTS
    const slot = e[base + E_HASH]! & this.#bucketMask
    let j = this.#buckets[slot]! - 1
    if (j === i) this.#buckets[slot] = e[base + E_CHAIN]! + 1
    else {
      while (j !== NONE) {
        const next = e[j * ENTRY_INTS + E_CHAIN]!
        if (next === i) {
          e[j * ENTRY_INTS + E_CHAIN] = e[base + E_CHAIN]!
          break
        }
        j = next
      }
    }
    this.#unlink(i)
    let b = e[base + E_FIRST_BLOCK]!
    while (b !== NONE) {
      const next = this.#blockNext[b]!
      this.#blockNext[b] = h[H_FREE_BLOCK]!
      h[H_FREE_BLOCK] = b
      h[H_FREE_BLOCKS]!++
      b = next
    }
    e[base + E_CHAIN] = h[H_FREE_ENTRY]!
    h[H_FREE_ENTRY] = i
    h[H_COUNT]!--
  }
}
