// A host-path invocation's cancellation: the client's request went away (its HTTP client
// left). What can stop does: a queued local invocation never starts, a remote Invoke call
// is aborted. A local handler already running runs to its end (Lambda cannot stop an
// invocation either); its answer is dropped.
export class CancelToken {
  cancelled = false
  /** Set by whoever can stop the invocation at this point; null when nothing can. */
  onCancel: (() => void) | null = null

  cancel(): void {
    if (this.cancelled) return
    this.cancelled = true
    const f = this.onCancel
    this.onCancel = null
    if (f !== null) f()
  }
}
