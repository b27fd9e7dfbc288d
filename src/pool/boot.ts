// The boot channel of a prestarted pool (pool/prestart.ts), the worker's side: a worker
// started before the configuration was checked asks for its WorkerInit here. Kept apart
// from prestart.ts so a worker does not load piscina's pool for it.
import { BroadcastChannel } from 'node:worker_threads'
import type { WorkerInit } from './protocol.js'

/** What the boot channel carries: a worker's request for its WorkerInit, and the answer on the worker's own channel. */
export type BootMessage = { readonly type: 'want'; readonly reply: string } | { readonly type: 'init'; readonly init: WorkerInit }

/** workerData of a prestarted worker: where to ask for its WorkerInit. */
export interface BootData {
  readonly boot: string
}

/** The worker's side: its WorkerInit, from workerData or, in a prestarted pool, asked on the boot channel. */
export function receiveInit(data: WorkerInit | BootData, threadId: number): Promise<WorkerInit> {
  if (!('boot' in data)) return Promise.resolve(data)
  return new Promise((resolve) => {
    const reply = `${data.boot}:${threadId}`
    const mine = new BroadcastChannel(reply)
    mine.onmessage = (ev) => {
      const msg = (ev as { data: BootMessage }).data
      if (msg.type !== 'init') return
      mine.close()
      resolve(msg.init)
    }
    const boot = new BroadcastChannel(data.boot)
    boot.postMessage({ type: 'want', reply } satisfies BootMessage)
    boot.close()
  })
}
