// The piscina worker: compiles the gateway once, then runs batches. Replies that are
// ready before the task returns travel back in the task's result; the others are posted
// on the reply channel as soon as they are ready, so one slow backend delays nobody.
// Replies finished in the same event-loop turn (one poll of backend sockets) share one
// message: under load that is many replies per wake-up of the main thread.
import { BroadcastChannel, threadId, workerData } from 'node:worker_threads'
import { compileGateway } from '../pipeline/compile.js'
import type { GatewaySource } from '../config/model.js'
import { handleRequest } from '../pipeline/handle-request.js'
import type { ReplySink } from '../pipeline/context.js'
import { ABORT_SLOT_MASK, type BatchTask, type CancelMessage, type ConfigMessage, type ReplyRecord, type WorkerInit } from './protocol.js'
import { installMappingEngine } from '../mapping/install-engine.js'
import { setFunctionHost } from '../integrations/lambda.js'
import { configurationCompiled, linkObservability } from '../observability/worker-link.js'
import { cancelExchange, setAbortFlags } from '../integrations/upstream.js'
import { installQuotaMemory } from '../method-request/quota-step.js'
import { attachThrottleMemory } from '../traffic/throttle.js'
import { runWorkerFront } from '../front/worker-front.js'
import type { FrontTask } from './protocol.js'
import { receiveInit } from './boot.js'

// A prestarted worker (pool/prestart.ts) has loaded its modules by now and waits here for
// the configuration the main thread is still checking.
const init = await receiveInit(workerData as WorkerInit, threadId)
installQuotaMemory(init.quota)
attachThrottleMemory(init.throttleMemory)
/** The configuration batches run on. A reload swaps it whole: a request keeps the version it started with. */
let gateway = compileGateway(init.gateway as GatewaySource, [])
let version = 0
const channel = new BroadcastChannel(init.replyChannel)
channel.unref()
installMappingEngine(gateway)
setFunctionHost(init.functionsHost)
linkObservability(init.observabilityChannel)
configurationCompiled(init.gateway as GatewaySource, version)

const configChannel = new BroadcastChannel(init.configChannel)
configChannel.unref()
configChannel.onmessage = (ev) => {
  const msg = (ev as { data: ConfigMessage }).data
  if (msg.type !== 'config' || msg.version <= version) return
  // The main thread checked this configuration before publishing it.
  const next = compileGateway(msg.gateway as GatewaySource, [])
  installMappingEngine(next)
  gateway = next
  version = msg.version
  configurationCompiled(msg.gateway as GatewaySource, version)
}
configChannel.postMessage({ type: 'hello' } satisfies ConfigMessage)

// Requests whose client has gone: the slot says so before a request starts, the channel
// cancels a backend exchange already under way.
const abortFlags = new Int32Array(init.abortFlags)
setAbortFlags(abortFlags)
const cancelChannel = new BroadcastChannel(init.cancelChannel)
cancelChannel.unref()
cancelChannel.onmessage = (ev) => {
  const ids = (ev as { data: CancelMessage }).data
  for (let i = 0; i < ids.length; i++) cancelExchange(ids[i]!)
}

let outbox: ReplyRecord[] = []
let outboxScheduled = false

function flushOutbox(): void {
  outboxScheduled = false
  const replies = outbox
  outbox = []
  channel.postMessage(replies)
}

/** Collects the replies of the batch being run; after it returns, queues them for the channel. */
class BatchSink implements ReplySink {
  collecting: ReplyRecord[] | null = null
  reply(record: ReplyRecord): void {
    if (this.collecting !== null) {
      this.collecting.push(record)
      return
    }
    outbox.push(record)
    if (!outboxScheduled) {
      outboxScheduled = true
      setImmediate(flushOutbox)
    }
  }
}

export default function runBatch(task: BatchTask): ReplyRecord[] {
  const sink = new BatchSink()
  const done: ReplyRecord[] = []
  sink.collecting = done
  const requests = task.requests
  for (let i = 0; i < requests.length; i++) {
    const id = requests[i]!.id
    // Aborted while the batch was on its way: nobody will read the answer.
    if (Atomics.load(abortFlags, id & ABORT_SLOT_MASK) === (id | 0)) continue
    try {
      handleRequest(gateway, requests[i]!, sink)
    } catch (err) {
      // A bug must cost one request a 500, never the worker.
      console.error('request failed:', err)
      done.push({ id: requests[i]!.id, status: 500, headers: ['Content-Type', 'application/json', 'x-amzn-ErrorType', 'InternalServerErrorException'], body: new TextEncoder().encode('{"message": "Internal server error"}') })
    }
  }
  sink.collecting = null
  return done
}

/**
 * The per-worker front (issue 11, front/worker-front.ts): piscina runs this once per worker
 * as a long-lived task; the thread then serves requests from its own uWebSockets.js app,
 * each on the configuration in force when it starts (a reload swaps `gateway` between requests).
 */
export function serveFront(task: FrontTask): Promise<void> {
  return runWorkerFront(task, { run: (record, sink) => void handleRequest(gateway, record, sink), cancelExchange, setAbortFlags })
}
