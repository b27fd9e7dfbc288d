// Message shapes of the function pool. Two boundaries, both structured-clone messages:
//
//   hot-path worker ──InvokeRequest──▶ FunctionHost (main thread) ──RunnerInvoke──▶ runner Worker
//                   ◀──InvokeReply────                           ◀──RunnerResult──
//
// Direct invocations (worker ⇄ runner, direct.ts) carry DirectBatch and DirectResults.
// Nothing else crosses them, so this file is the whole contract (as pool/protocol.ts is
// for the front and the hot-path workers).

import type { DirectBye, DirectGrant, DirectHello } from './direct.js'

/** How an invocation ended, as the pipeline sees it. */
export type InvokeOutcome =
  /**
   * The function returned; payload is its JSON result (`null` when it returned nothing).
   * cacheEntry is set when the answer came from the authorizer result cache (its entry id).
   */
  | { readonly kind: 'ok'; readonly payload: Uint8Array; readonly cacheEntry?: number }
  /**
   * The function failed (threw, rejected, called back with an error, or could not be loaded):
   * Lambda's X-Amz-Function-Error. payload is the error document {errorType, errorMessage, trace}.
   */
  | {
      readonly kind: 'function-error'
      readonly errorMessage: string
      readonly errorType: string
      readonly payload: Uint8Array
    }
  /**
   * No answer in time. `source` says whose limit: the function's own timeout (Lambda reports
   * "Task timed out after N seconds" as a function error) or the integration's timeout.
   */
  | {
      readonly kind: 'timeout'
      readonly source: 'function' | 'integration'
      readonly afterMs: number
      /** Lambda's text for a function timeout, e.g. `Task timed out after 3.00 seconds`. */
      readonly errorMessage: string
    }
  /** The runtime died (process.exit, out of memory, uncaught error) or the remote endpoint failed. */
  | { readonly kind: 'crash'; readonly reason: string }
  /** No function of that name in the functions config (or the remote answered 404). */
  | { readonly kind: 'not-found' }
  /**
   * A remote Invoke endpoint answered more than API Gateway's 10 MB integration response cap
   * (MAX_INTEGRATION_RESPONSE_BYTES): length is its declared length, or the bytes read when
   * it stopped. The rest is not read.
   */
  | { readonly kind: 'too-large'; readonly length: number }

/** Hot-path worker → host. */
export interface InvokeRequest {
  readonly type?: undefined
  /** Client-assigned id, unique per client; the reply carries it back. */
  readonly id: number
  /** Where to reply: the client's reply channel name. */
  readonly replyTo: string
  /** Function name, optionally `name:qualifier`. */
  readonly name: string
  /** JSON event bytes. */
  readonly payload: Uint8Array
  /** The integration timeout in ms. */
  readonly timeoutMs: number
  /** API Gateway request id, for log lines. */
  readonly requestId: string
}

/** Hot-path worker → host: look a Lambda authorizer result up in the host's cache (functions/authorizer-cache.ts). */
export interface AuthorizerCacheGet {
  readonly type: 'authorizer-cache-get'
  /** Client-assigned id, as InvokeRequest's; the reply is an InvokeReply: ok with cacheEntry, or not-found. */
  readonly id: number
  readonly replyTo: string
  /** API, stage, authorizer and identity source values. */
  readonly key: string
}

/** Hot-path worker → host: keep an authorizer result the worker accepted. No reply. */
export interface AuthorizerCacheStore {
  readonly type: 'authorizer-cache-store'
  readonly key: string
  /** The function's result, as it returned it. */
  readonly payload: Uint8Array
  /** authorizerResultTtlInSeconds in ms (> 0). */
  readonly ttlMs: number
}

/** Hot-path worker → host: the request of an invocation went away (its client left). No reply. */
export interface InvokeCancel {
  readonly type: 'invoke-cancel'
  /** The InvokeRequest's id and replyTo. */
  readonly id: number
  readonly replyTo: string
}

/** Everything a host receives from its clients. */
export type HostRequest = InvokeRequest | AuthorizerCacheGet | AuthorizerCacheStore | DirectHello | DirectBye | InvokeCancel

/** Host → hot-path worker. */
export interface InvokeReply {
  readonly id: number
  readonly outcome: InvokeOutcome
  /** On an authorizer cache lookup's reply: what the client's mirror needs (authorizer-cache.ts). */
  readonly cache?: AuthorizerCacheStamp
  /** On a DirectHello's reply: the slot table and the functions the client may invoke directly (direct.ts). */
  readonly direct?: DirectGrant
  /** The instance in a slot the client held is gone (direct.ts): `id` is the call it was running (0: none) and `outcome` that call's. */
  readonly slotDown?: SlotDown
}

/** Which instance went, and how far it got with the client's calls. */
export interface SlotDown {
  readonly slot: number
  /** The slot's Epoch field of that instance. */
  readonly epoch: number
  /** The slot's Answered field: calls up to it were answered on the slot channel. */
  readonly answered: number
}

/** The authorizer cache's state as of a lookup. */
export interface AuthorizerCacheStamp {
  /** The host's generation counter (Int32 slot 0), shared with every client. */
  readonly generations: SharedArrayBuffer
  /** Its value when the lookup was answered: a mirror entry is good while it stays so. */
  readonly generation: number
  /** Epoch ms at which the entry found expires (0 on a miss). */
  readonly expiresAt: number
}

/** Host → runner: run the handler once. */
export interface RunnerInvoke {
  readonly type: 'invoke'
  readonly id: number
  readonly payload: Uint8Array
  /** Lambda request id (context.awsRequestId). */
  readonly awsRequestId: string
  /** Epoch ms at which the function times out (context.getRemainingTimeInMillis()). */
  readonly deadline: number
  /** context.invokedFunctionArn. */
  readonly invokedFunctionArn: string
  /** A packed proxy event (packed-event.ts) instead of the JSON payload (direct calls only). */
  readonly packedEvent?: string | null
}

/** One direct call, as the runner holds it (unpacked from a DirectBatch). */
export interface DirectCall {
  readonly id: number
  /** The JSON payload (empty when packedEvent is set). */
  readonly payload: Uint8Array
  /** context.invokedFunctionArn. */
  readonly arn: string
  /** Epoch ms of the integration timeout, and its length (for the timeout answer). */
  readonly integrationDeadline: number
  readonly integrationTimeoutMs: number
  /** A packed proxy event (packed-event.ts) instead of JSON, else null. */
  readonly packedEvent: string | null
}

/**
 * Client → runner on the slot channel: calls of one function to run one after another, in
 * order, packed in one buffer. Measured: a call per object cost the runner more to deserialize
 * (property names interned, an ArrayBuffer per payload) than running the handler.
 *
 *   Float64 × (1 + 5k): k, then per call: id, integration deadline (epoch ms), integration
 *   timeout (ms), payload length, payload form (0 JSON, 1 a packed proxy event); then the
 *   JSON payloads, back to back. The packed events go back to back in `text` (their lengths
 *   in UTF-16 units): a string crosses as it is, where bytes cost an encode and a decode.
 */
export interface DirectBatch {
  readonly type: 'batch'
  readonly arn: string
  readonly packed: ArrayBuffer
  readonly text: string
}

/** Float64 slots of a DirectBatch's head per call. */
export const BATCH_CALL_FIELDS = 5

/** How a direct call ended, as the runner tells it. */
export type DirectResult =
  | { readonly id: number; readonly kind: 'result'; readonly payload: Uint8Array }
  | { readonly id: number; readonly kind: 'error'; readonly errorType: string; readonly errorMessage: string; readonly payload: Uint8Array }
  /** Its integration deadline passed before it could start: it never ran. */
  | { readonly id: number; readonly kind: 'expired'; readonly afterMs: number }
  /** Handed back unstarted (the call before it outlasted its turn): the client sends it to the host. */
  | { readonly id: number; readonly kind: 'returned' }

/**
 * Runner → client on the slot channel: what ended in one turn. Results are packed as
 * DirectBatch's calls are (Float64 × (1 + 2k): k, then per result: id, payload bytes; then the
 * payloads); errors, expiries and hand-backs, rare, go as objects.
 */
export interface DirectResults {
  readonly type: 'results'
  readonly packed: ArrayBuffer | null
  readonly others: readonly DirectResult[] | null
}

/** Runner → host. */
export type RunnerMessage =
  /** A direct call ended while the host queues invocations of this function: this instance is free. */
  | { readonly type: 'idle' }
  | { readonly type: 'result'; readonly id: number; readonly payload: Uint8Array }
  | {
      readonly type: 'error'
      readonly id: number
      readonly errorType: string
      readonly errorMessage: string
      readonly payload: Uint8Array
      /** True when the runtime must stop after this (uncaught exception, unhandled rejection). */
      readonly fatal: boolean
    }

/** What a runner Worker receives as workerData. */
export interface RunnerInit {
  /** file: URL of the handler module. */
  readonly moduleUrl: string
  /** Export name of the handler function. */
  readonly exportName: string
  /** The handler string as configured, for error messages. */
  readonly handler: string
  readonly functionName: string
  readonly functionVersion: string
  readonly memoryLimitInMB: number
  readonly logGroupName: string
  readonly logStreamName: string
  /** Lambda's cap on a synchronous invocation's response (MAX_FUNCTION_RESPONSE_BYTES). */
  readonly maxResponseBytes: number
  /** The instance's slot in the host's slot table (direct.ts), or null: host path only. */
  readonly direct: RunnerSlot | null
}

/** A runner's slot, with the table's layout spelled out (the runner imports nothing). */
export interface RunnerSlot {
  readonly table: SharedArrayBuffer
  /** Int32 elements of the table's integer part. */
  readonly intCount: number
  readonly host: string
  readonly slot: number
  /** Clients known when it starts: it opens their channels at once. */
  readonly clients: readonly number[]
  /** Int32 indexes of the slot's state, READY mask and HostWaiting flag. */
  readonly stateIndex: number
  readonly readyIndex: number
  readonly hostWaitingIndex: number
  /** Int32 indexes of the running call's fields (Call, ByFunction, TimeoutMs, Answered). */
  readonly callIndex: number
  readonly byFunctionIndex: number
  readonly timeoutIndex: number
  readonly answeredIndex: number
  /** Byte offset of the Float64 deadlines (one per slot) in the table. */
  readonly deadlinesOffset: number
  readonly slotCount: number
  /** The function's own timeout (ms). */
  readonly functionTimeoutMs: number
  /** The SlotState values it reads and sets, the state word's mask and one call's count. */
  readonly busyDirect: number
  readonly idle: number
  readonly gone: number
  readonly stateMask: number
  readonly countOne: number
  readonly countShift: number
  /** BATCH_CALL_FIELDS, to unpack a DirectBatch. */
  readonly batchCallFields: number
}
