// The worker's end of the observability channel: registers this thread's counters with the
// main thread, says which configuration it has compiled (/ready), answers scrapes with its
// histograms, reopens log files on SIGUSR1 and points the span exporter at the collector.
import { BroadcastChannel, threadId } from 'node:worker_threads'
import type { GatewaySource } from '../config/model.js'
import { Field, metrics } from './metrics.js'
import { closeLogWriters, reopenLogFiles, setDropCounter } from './log-writer.js'
import { configureOtlp, flushSpans } from './tracing.js'
import type { ObservabilityMessage } from './protocol.js'
import { observeQueued, otlpOf } from './observe.js'

let channel: BroadcastChannel | null = null
let registerScheduled = false

function post(msg: ObservabilityMessage): void {
  channel?.postMessage(msg)
}

function register(): void {
  registerScheduled = false
  post({ type: 'register', registration: metrics.registration(threadId) })
}

/** Opens the channel (once per worker). */
export function linkObservability(name: string): void {
  if (channel !== null) return
  channel = new BroadcastChannel(name)
  channel.unref()
  setDropCounter((n) => metrics.add(0, Field.DroppedLogLines, n))
  // Series are made while a configuration compiles: one registration after it, not one per series.
  metrics.onNewSeries = () => {
    if (registerScheduled) return
    registerScheduled = true
    setImmediate(register)
  }
  channel.onmessage = (ev) => {
    const msg = (ev as { data: ObservabilityMessage }).data
    switch (msg.type) {
      case 'scrape':
        // Replies of this turn count in the scrape (observe.ts queues them until the turn ends).
        observeQueued()
        post({ type: 'histograms', id: msg.id, threadId, histograms: metrics.snapshotHistograms() })
        break
      case 'reopen':
        reopenLogFiles()
        break
      case 'flush':
        observeQueued()
        void Promise.all([flushSpans(), closeLogWriters(1000)]).then(() => post({ type: 'flushed', threadId }))
        break
      default:
        break
    }
  }
  register()
}

/** After a configuration compiled (and became the one batches run on). */
export function configurationCompiled(gateway: GatewaySource, version: number): void {
  if (registerScheduled) register()
  // Ready once the span exporter (when one is configured) has loaded too.
  configureOtlp(otlpOf(gateway)).then(() => post({ type: 'compiled', threadId, version }), () => post({ type: 'compiled', threadId, version }))
}
