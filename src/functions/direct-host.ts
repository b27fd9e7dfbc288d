// The host's side of direct invocations (direct.ts): the slot table, the clients that may
// use it, and the watchdog that enforces timeouts of direct calls.
import { COUNT_ONE, COUNT_SHIFT, MAX_DIRECT_CLIENTS, MAX_SLOTS, SLOT_HEADER_INTS, SLOT_INTS, SLOT_TABLE_BYTES, STATE_MASK, HeaderField, SlotField, SlotState, SlotTable, type DirectFunction } from './direct.js'
import { BATCH_CALL_FIELDS, type InvokeReply, type RunnerSlot } from './protocol.js'

/**
 * The watchdog looks again at the earliest deadline of the direct calls it saw, and at least
 * every WATCHDOG_MAX_MS (a call that began since: its timeout fires at most that late).
 * Measured: a fixed 20 ms tick cost the host thread ≈ 20 µs of CPU per request at 1,000
 * req/s on the loaded 2-core machine, most of what the direct path saved there.
 */
export const WATCHDOG_MAX_MS = 100
const WATCHDOG_MIN_MS = 5

/** What the watchdog and new clients need from each local function. */
export interface SlotOwner {
  /** Deadlines and retirements of its slots (the watchdog's tick); returns the earliest deadline still ahead (Infinity: none). */
  watch(now: number): number
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
    if (this.#timer === null) this.#schedule(WATCHDOG_MAX_MS)
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
  runnerSlot(slot: number, functionTimeoutMs: number): RunnerSlot {
    return {
      table: this.table.buffer,
      intCount: SLOT_HEADER_INTS + MAX_SLOTS * SLOT_INTS,
      host: this.host,
      slot,
      clients: this.clients(),
      stateIndex: SlotTable.at(slot, SlotField.State),
      readyIndex: SlotTable.at(slot, SlotField.Ready),
      hostWaitingIndex: SlotTable.at(slot, SlotField.HostWaiting),
      callIndex: SlotTable.at(slot, SlotField.Call),
      byFunctionIndex: SlotTable.at(slot, SlotField.ByFunction),
      timeoutIndex: SlotTable.at(slot, SlotField.TimeoutMs),
      answeredIndex: SlotTable.at(slot, SlotField.Answered),
      deadlinesOffset: this.table.deadlines.byteOffset,
      slotCount: MAX_SLOTS,
      functionTimeoutMs,
      busyDirect: SlotState.BusyDirect,
      idle: SlotState.Idle,
      gone: SlotState.Gone,
      stateMask: STATE_MASK,
      countOne: COUNT_ONE,
      countShift: COUNT_SHIFT,
      batchCallFields: BATCH_CALL_FIELDS,
    }
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(this.#tick, ms)
    this.#timer.unref()
  }

  readonly #tick = (): void => {
    const now = Date.now()
    let next = Infinity
    for (const o of this.#owners.values()) next = Math.min(next, o.watch(now))
    this.#schedule(Math.max(WATCHDOG_MIN_MS, Math.min(WATCHDOG_MAX_MS, next - now + 1)))
  }

  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#clients.clear()
  }
}
