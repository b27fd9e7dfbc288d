// Messages on the observability channel (one BroadcastChannel per gateway). None is sent
// per request: workers register their counters when a series is made, say when they have
// compiled a configuration, and answer scrapes; the main thread asks for scrapes and log
// reopening (SIGUSR1).
import type { HistogramSnapshot, MetricsRegistration } from './metrics.js'

export type ObservabilityMessage =
  /** worker → main: its counters buffer and series labels (on start and when a series is made). */
  | { readonly type: 'register'; readonly registration: MetricsRegistration }
  /** worker → main: it has compiled configuration `version` (0: the one it started with). */
  | { readonly type: 'compiled'; readonly threadId: number; readonly version: number }
  /** main → workers: send your histograms. */
  | { readonly type: 'scrape'; readonly id: number }
  /** worker → main: the answer to scrape `id`. */
  | { readonly type: 'histograms'; readonly id: number; readonly threadId: number; readonly histograms: HistogramSnapshot }
  /** main → workers: reopen log files (logrotate moved them). */
  | { readonly type: 'reopen' }
  /** main → workers: write what is queued (the gateway stops). */
  | { readonly type: 'flush' }
  /** worker → main: flushed. */
  | { readonly type: 'flushed'; readonly threadId: number }
