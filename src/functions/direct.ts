// Direct invocations: a hot-path worker talks to a runner instance itself, two messages per
// invocation instead of four (worker → host → runner → host → worker).
//
//   worker: claim an idle slot (CAS IDLE → CLAIMING), write call id and deadline, BUSY_DIRECT
//       ── invoke on the channel `{host}:slot:{slot}:{client}` ──▶ runner
//       ◀─ reply on the same channel ──  runner: BUSY_DIRECT → IDLE, then the result
//
// The host still owns the runners: it spawns them (into a free slot of the function), decides
// concurrency (only it spawns), retires them on reload, and enforces timeouts and crashes of
// direct calls with a watchdog over this table (it answers the worker on its reply channel).
// Nothing is in the table that the host did not put there, and a worker that finds no idle
// slot simply asks the host (which spawns or queues as before).
//
// Why named BroadcastChannels rather than MessagePorts: a hot-path worker has no port to the
// host thread to receive a transferred port on (the pool hands workers channel names only).
// A channel per (slot, client) has exactly two members, the runner and that worker, so it
// behaves as a port pair; the host tells runners about clients and a runner marks each
// channel it has opened in the slot's READY mask before a worker may use it.

/** Int32 fields of a slot. */
export const enum SlotField {
  State = 0,
  /** Client number of the worker whose call runs (BUSY_DIRECT). */
  Client = 1,
  /** That call's id (the client's). */
  Call = 2,
  /** 1 when the deadline is the function's own timeout, 0 when it is the integration's. */
  ByFunction = 3,
  /** 1 once the host wants the instance gone (reload): no new claim; the watchdog retires it when idle. */
  Retire = 4,
  /** Bit c set once the runner listens on client c's channel. */
  Ready = 5,
  /** 1 while the host queues invocations of this function: a runner going idle tells it. */
  HostWaiting = 6,
  /** The integration timeout of the direct call (ms), for its timeout answer. */
  TimeoutMs = 7,
}
export const SLOT_INTS = 8

/** Slot states. */
export const enum SlotState {
  /** No runner. */
  Empty = 0,
  /** A runner waits for work: claimable. */
  Idle = 1,
  /** The host runs an invocation on it (host path). */
  BusyHost = 2,
  /** A worker is writing its call into the slot. */
  Claiming = 3,
  /** A worker's call runs on it. */
  BusyDirect = 4,
  /** The runner is being terminated (timeout, crash, reload): never claimable again. */
  Gone = 5,
}

/** Slots of one host (every local function's instances share them); more instances run host-path only. */
export const MAX_SLOTS = 256
/** Clients (hot-path threads) that may use the direct path: one READY bit each. */
export const MAX_DIRECT_CLIENTS = 31

/** Int32 header fields. */
export const enum HeaderField {
  /** Moves whenever the directory (functions → slots, timeouts) changes: clients ask again. */
  DirectoryVersion = 0,
}
const HEADER_INTS = 2

/** Byte size of a slot table. */
export const SLOT_TABLE_BYTES = (HEADER_INTS + MAX_SLOTS * SLOT_INTS) * 4 + MAX_SLOTS * 8

/** Views over a slot table's SharedArrayBuffer. */
export class SlotTable {
  readonly ints: Int32Array
  /** Deadline (epoch ms) of each slot's direct call. */
  readonly deadlines: Float64Array
  constructor(readonly buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer, 0, HEADER_INTS + MAX_SLOTS * SLOT_INTS)
    this.deadlines = new Float64Array(buffer, (HEADER_INTS + MAX_SLOTS * SLOT_INTS) * 4, MAX_SLOTS)
  }
  /** Int32 index of a slot's field. */
  static at(slot: number, field: SlotField): number {
    return HEADER_INTS + slot * SLOT_INTS + field
  }
}

/** Int32 index of a slot's field (for code that cannot import, the runner: HEADER_INTS + slot * SLOT_INTS + field). */
export const slotIndex = SlotTable.at
export const SLOT_HEADER_INTS = HEADER_INTS

/** The channel a runner in `slot` and client `client` share. */
export function slotChannelName(host: string, slot: number, client: number): string {
  return `${host}:slot:${slot}:${client}`
}

/** What the host tells a client about a local function it may invoke directly. */
export interface DirectFunction {
  /** First slot and number of slots of its instances. */
  readonly base: number
  readonly count: number
  /** The function's own timeout (ms). */
  readonly timeoutMs: number
  /** context.invokedFunctionArn without a qualifier. */
  readonly arn: string
}

/** Client → host: may I invoke directly? (on the host channel or port) */
export interface DirectHello {
  readonly type: 'direct-hello'
  readonly id: number
  readonly replyTo: string
  /** The number the client was given before (asking again after a directory change), else null. */
  readonly client: number | null
}

/** Host → client, the reply to DirectHello (as an InvokeReply's `direct`). */
export interface DirectGrant {
  /** The client's number (null: no room, use the host path). */
  readonly client: number | null
  /** The host's name: slot channels are named after it. */
  readonly host: string
  readonly table: SharedArrayBuffer
  /** The table's DirectoryVersion this directory is of. */
  readonly version: number
  readonly functions: Readonly<Record<string, DirectFunction>>
}

/** Client → host: the client is going away; its number may be given again. */
export interface DirectBye {
  readonly type: 'direct-bye'
  readonly client: number
}

/** Host → runner: a new client; open its channel and set its READY bit. */
export interface RunnerClientNotice {
  readonly type: 'client'
  readonly client: number
}
