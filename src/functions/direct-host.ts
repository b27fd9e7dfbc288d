// The host's side of direct invocations (direct.ts): the slot table, the clients that may
// use it, and the watchdog that enforces timeouts of direct calls.
import { MAX_DIRECT_CLIENTS, MAX_SLOTS, SLOT_HEADER_INTS, SLOT_INTS, SLOT_TABLE_BYTES, HeaderField, SlotField, SlotState, SlotTable, type DirectFunction } from './direct.js'
import type { InvokeReply, RunnerSlot } from './protocol.js'

/** How often the watchdog looks at direct calls: their timeouts fire at most this late. */
export const WATCHDOG_MS = 20

/** What the watchdog and new clients need from each local function. */
export interface SlotOwner {
  /** Deadlines and retirements of its slots (the watchdog's tick). */
  watch(now: number): void
  /** A new client: its running instances must open the client's channel. */
  clientAdded(client: number): void
  /** Its directory entry, or null when it has no slots. */
  directory(): DirectFunction | null
}

export class DirectSlots {
  readonly table = new SlotTable(new SharedArrayBuffer(SLOT_TABLE_BYTES))
  /** Each client's way back (its reply channel or port). */
  readonly #clients = new Map<number, (reply: InvokeReply) => void>()
  readonly #owners = new Map<string, SlotOwner>()
  #nextSlot = 0
  #timer: NodeJS.Timeout | null = null

  constructor(readonly host: string) {}

  /** Slots for a function's instances (fewer or none when the table is full). */
  allocate(count: number): { readonly base: number; readonly count: number } | null {
    const n = Math.min(count, MAX_SLOTS - this.#nextSlot)
    if (n <= 0) return null
    const base = this.#nextSlot
    this.#nextSlot += n
    return { base, count: n }
  }

  /** The functions a client may invoke directly changed: clients ask for the directory again. */
  setOwners(owners: ReadonlyMap<string, SlotOwner>): void {
    this.#owners.clear()
    for (const [name, o] of owners) this.#owners.set(name, o)
    Atomics.add(this.table.ints, HeaderField.DirectoryVersion, 1)
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), WATCHDOG_MS)
      this.#timer.unref()
    }
  }

  /** A client asks to invoke directly: its number (null when all are given), after every runner listens for it. */
  addClient(reply: (r: InvokeReply) => void, known: number | null): number | null {
    // Asking again after a directory change: the same number, its runners listen already.
    if (known !== null && this.#clients.has(known)) {
      this.#clients.set(known, reply)
      return known
    }
    for (let c = 0; c < MAX_DIRECT_CLIENTS; c++) {
      if (this.#clients.has(c)) continue
      this.#clients.set(c, reply)
      for (const o of this.#owners.values()) o.clientAdded(c)
      return c
    }
    return null
  }

  removeClient(client: number): void {
    this.#clients.delete(client)
  }

  clients(): number[] {
    return [...this.#clients.keys()]
  }

  get version(): number {
    return Atomics.load(this.table.ints, HeaderField.DirectoryVersion)
  }

  directory(): Record<string, DirectFunction> {
    const out: Record<string, DirectFunction> = {}
    for (const [name, o] of this.#owners) {
      const d = o.directory()
      if (d !== null) out[name] = d
    }
    return out
  }

  /** Answers a direct call on its client's reply channel (timeouts and crashes the runner could not report). */
  answer(client: number, reply: InvokeReply): void {
    this.#clients.get(client)?.(reply)
  }

  /** What a runner in `slot` receives as RunnerInit.direct. */
  runnerSlot(slot: number): RunnerSlot {
    return {
      table: this.table.buffer,
      intCount: SLOT_HEADER_INTS + MAX_SLOTS * SLOT_INTS,
      host: this.host,
      slot,
      clients: this.clients(),
      stateIndex: SlotTable.at(slot, SlotField.State),
      readyIndex: SlotTable.at(slot, SlotField.Ready),
      hostWaitingIndex: SlotTable.at(slot, SlotField.HostWaiting),
      busyDirect: SlotState.BusyDirect,
      idle: SlotState.Idle,
      gone: SlotState.Gone,
    }
  }

  #tick(): void {
    const now = Date.now()
    for (const o of this.#owners.values()) o.watch(now)
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    this.#clients.clear()
  }
}
