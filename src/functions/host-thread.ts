// The function host in a thread of its own. The hot-path workers reach it by its channel
// name, and its handler threads answer it, without the front's main thread relaying any
// invocation (measured: through the main thread, aws_proxy ran at 20% of the mock
// route's req/s, the front and the relay competing for one thread).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { once } from 'node:events'
import { createFunctionHost, type FunctionHostOptions } from './host.js'
import type { FunctionsConfig } from './config.js'

interface HostThreadData {
  readonly config: FunctionsConfig
  readonly options: FunctionHostOptions & { readonly name: string }
}

type HostThreadMessage = { readonly type: 'reload'; readonly config: FunctionsConfig | null } | { readonly type: 'close' }
type HostThreadEvent = { readonly type: 'ready' } | { readonly type: 'error'; readonly message: string } | { readonly type: 'closed' }

export interface FunctionHostThread {
  /** The channel name clients pass to connectFunctionHost(). */
  readonly name: string
  /** Reloads every local handler (changed files are picked up), with a new config when given. */
  reload(config?: FunctionsConfig): void
  close(): Promise<void>
}

/** Starts the host thread; resolves once its functions are set up. */
export async function startFunctionHostThread(config: FunctionsConfig, options: FunctionHostOptions & { readonly name: string }): Promise<FunctionHostThread> {
  const data: HostThreadData = { config, options }
  const worker = new Worker(new URL(import.meta.url), { workerData: data })
  const [first] = (await once(worker, 'message')) as [HostThreadEvent]
  if (first.type === 'error') {
    await worker.terminate()
    throw new Error(`function host: ${first.message}`)
  }
  let closing: Promise<void> | null = null
  return {
    name: options.name,
    reload(next?: FunctionsConfig) {
      worker.postMessage({ type: 'reload', config: next ?? null } satisfies HostThreadMessage)
    },
    close() {
      if (closing !== null) return closing
      closing = (async () => {
        worker.postMessage({ type: 'close' } satisfies HostThreadMessage)
        const timer = setTimeout(() => void worker.terminate(), 5_000)
        await once(worker, 'exit')
        clearTimeout(timer)
      })()
      return closing
    },
  }
}

if (!isMainThread && parentPort !== null && (workerData as Partial<HostThreadData> | null)?.options?.name !== undefined) {
  const port = parentPort
  const data = workerData as HostThreadData
  try {
    const host = createFunctionHost(data.config, data.options)
    port.on('message', (msg: HostThreadMessage) => {
      if (msg.type === 'reload') {
        try {
          host.reload(msg.config ?? undefined)
        } catch (err) {
          // The main thread checked the config; a failure here keeps the old one running.
          console.error(`function host: reload failed: ${(err as Error).message}`)
        }
      }
      else if (msg.type === 'close') void host.close().then(() => {
        port.postMessage({ type: 'closed' } satisfies HostThreadEvent)
        port.close()
      })
    })
    port.postMessage({ type: 'ready' } satisfies HostThreadEvent)
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message } satisfies HostThreadEvent)
  }
}
