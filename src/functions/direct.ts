// Direct invocations: a hot-path worker talks to runner instances itself, in batches: the
// calls of one event-loop turn go in one message per instance, and an instance answers all it
// finished in one turn in one message (measured on one core: a message per call and direction
// woke a thread per message, and the woken thread preempted the sender).
//
//   worker: claim an idle slot (CAS IDLE → CLAIMING → BUSY_DIRECT|client|count), or add calls to
//           a slot it holds (CAS count → count + k, at most MAX_DIRECT_QUEUE)
//       ── batch on the channel `{host}:slot:{slot}:{client}` ──▶ runner: one call at a time,
//                                                                 writes Call and the deadline
//       ◀─ results of the turn on the same channel ──  runner: count − k, IDLE at 0
//
// An instance still runs one invocation at a time (Lambda's model); calls wait behind it only
// while it answers within its event-loop turn: when a call is still running at the end of the
// turn, the runner hands the calls it has not started back (the worker sends them to the host,
// which queues them for the next free instance), so a slow handler never holds calls back.
// When an instance dies (timeout, crash, reload) the host tells the worker which call was
// running (slot-down): that one gets the outcome, later ones were never started and go to the
// host, earlier ones whose answer died with the thread are a crash: each call is answered once.
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
  /** SlotState in the low 4 bits; while BUSY_DIRECT also the holder's client number and its calls in the slot (stateWord). */
  State = 0,
  /** Client number of the worker that holds the slot (BUSY_DIRECT), kept after it is idle. */
  Client = 1,
  /** Id (the client's) of the direct call the runner runs or ran last; 0 when it has started none of this holder's. */
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
  /** Moves at every instance the host starts in the slot: a slot-down names the instance it is about. */
  Epoch = 8,
  /** Id of the last direct call whose answer the runner has posted. */
  Answered = 9,
}
export const SLOT_INTS = 10

/** Bits of a State word: state, holder, count (BUSY_DIRECT only). */
export const STATE_MASK = 15
const CLIENT_SHIFT = 4
export const COUNT_SHIFT = 9
/** One call more in a BUSY_DIRECT word. */
export const COUNT_ONE = 1 << COUNT_SHIFT

/** Direct calls a worker may have sent to one instance and not yet had answered. */
export const MAX_DIRECT_QUEUE = 16

/** The State word of a slot held by `client` with `count` calls in it. */
export function busyDirectWord(client: number, count: number): number {
  return SlotState.BusyDirect | (client << CLIENT_SHIFT) | (count << COUNT_SHIFT)
}
/** The holder's client number of a BUSY_DIRECT word. */
export function wordClient(word: number): number {
  return (word >>> CLIENT_SHIFT) & 31
}
/** The calls in a BUSY_DIRECT word. */
export function wordCount(word: number): number {
  return word >>> COUNT_SHIFT
}

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

/** Lambda's text for a timeout, e.g. `Task timed out after 3.00 seconds`. */
export function taskTimedOut(ms: number): string {
  return `Task timed out after ${(ms / 1000).toFixed(2)} seconds`
}
