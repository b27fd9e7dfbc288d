// The message shapes between the front (main thread) and the workers. Nothing else
// crosses the thread boundary, so this file is the whole contract.
import type { MessagePort } from 'node:worker_threads'

/** One client request, copied out of uWebSockets.js inside its handler. */
export interface RequestRecord {
  /** Front-assigned id, unique per process; the reply carries it back. */
  readonly id: number
  /** Upper-case HTTP method. */
  readonly method: string
  /** Raw path, without the query string, still percent-encoded. */
  readonly url: string
  /** Raw query string without the leading '?', '' when absent. */
  readonly query: string
  /** Header pairs as received: [name0, value0, name1, value1, …], names lower-cased. */
  readonly headers: string[]
  /** Remote address as text (IPv4 dotted or IPv6). */
  readonly remoteAddress: string
  /** Request body, or null when empty. Transferred, never copied. */
  readonly body: ArrayBuffer | null
  /** The body passed the 10 MB payload limit and was dropped: the answer is REQUEST_TOO_LARGE. */
  readonly bodyTooLarge: boolean
  /** Epoch milliseconds at which the front received the request. */
  readonly receivedAt: number
}

/** One task: every request the front collected in one event-loop turn. */
export interface BatchTask {
  readonly requests: RequestRecord[]
}

/** The answer to one request, posted back as soon as it is ready. */
export interface ReplyRecord {
  /** RequestRecord.id this answers. */
  id: number
  status: number
  /** Header pairs to write: [name0, value0, …]. */
  headers: string[]
  /** Body bytes, or null for an empty body. */
  body: Uint8Array | null
}

/** State that limits traffic, made once by the main thread and shared by every worker of either front. */
export interface SharedTrafficMemory {
  /** Usage plan quota counters (traffic/quota-table.ts). */
  readonly quota?: SharedArrayBuffer
  /** Throttling's token buckets (traffic/throttle.ts createThrottleMemory). */
  readonly throttleMemory: SharedArrayBuffer
}

/** What each worker receives as piscina workerData. */
export interface WorkerInit extends SharedTrafficMemory {
  /** The normalized gateway description the worker compiles for itself. */
  readonly gateway: unknown
  /** Name of the BroadcastChannel replies are posted on (unique per gateway). */
  readonly replyChannel: string
  /** Name of the function host's channel, or null when the gateway runs no functions. */
  readonly functionsHost: string | null
  /** Name of the BroadcastChannel reloaded configurations arrive on. */
  readonly configChannel: string
  /** Name of the observability BroadcastChannel (metrics registration, scrapes, log reopening). */
  readonly observabilityChannel: string
  /** Name of the BroadcastChannel on which the front names requests whose client has gone (CancelMessage). */
  readonly cancelChannel: string
  /** Int32 slots, ABORT_SLOTS of them: slot `id & ABORT_SLOT_MASK` holds `id | 0` once that request's client has gone. */
  readonly abortFlags: SharedArrayBuffer
}

/**
 * Slots of WorkerInit.abortFlags. A worker checks a request's slot before it starts the
 * request, so one aborted while its batch was on the way never reaches a backend (the
 * message that cancels exchanges in flight may overtake the batch: they travel on
 * different ports). A slot is reused ABORT_SLOTS requests later: 256 KB.
 */
export const ABORT_SLOTS = 65_536
export const ABORT_SLOT_MASK = ABORT_SLOTS - 1

/** On the cancel channel, main → workers: ids of requests whose client went away while they ran. */
export type CancelMessage = number[]

/** On the config channel: main → workers, a new configuration; worker → main, a new worker asking for the latest. */
export type ConfigMessage =
  | { readonly type: 'config'; readonly version: number; readonly gateway: unknown }
  | { readonly type: 'hello' }

// ---- The per-worker front (front/supervisor.ts ⇄ front/worker-front.ts) ----

/** One worker's long-lived piscina task: run this thread's own uWebSockets.js app on the shared port. */
export interface FrontTask {
  /** 0..workers-1: which front this is (a replaced worker gets its slot's task again). */
  readonly slot: number
  readonly host: string
  /** The port every front listens on (SO_REUSEPORT); 0 for the first front when the gateway picks one. */
  readonly port: number
  /** The supervisor's end stays on the main thread: FrontCommand in, FrontEvent out. */
  readonly control: MessagePort
  /** Int32 per slot: requests this front holds unanswered, updated every few hundred ms (the in-flight gauge). */
  readonly inFlight: SharedArrayBuffer
}

/** Main → a worker's front. */
export type FrontCommand =
  | { readonly type: 'stop-listening' }
  /** Every reply from now on closes its connection; answer 'drained' once none is in flight, or after `ms`. */
  | { readonly type: 'drain'; readonly ms: number }
  /** Close every connection and the app; answer 'closed', then the task returns. */
  | { readonly type: 'close' }

/** A worker's front → main. */
export type FrontEvent =
  | { readonly type: 'listening'; readonly port: number; readonly threadId: number }
  | { readonly type: 'listen-failed'; readonly message: string }
  | { readonly type: 'drained' }
  | { readonly type: 'closed' }
