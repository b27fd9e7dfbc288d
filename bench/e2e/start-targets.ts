// Starting a run's targets and checking one answer: shared by the scenario runner (runner.ts,
// one scenario's servers at a time) and the guard (guard.ts, every target once), so both start,
// pin and check servers the same way.

import { request } from 'undici'
import type { Dispatcher } from 'undici'
import { spawnServer } from './child-process.js'
import type { ServerProcess } from './child-process.js'
import type { LoadOptions } from './load.js'
import { TARGETS, pinnedCpu } from './scenarios.js'
import type { Scenario, TargetContext } from './scenarios.js'

/** Targets in start order, each once, dependencies first. */
export function startOrder (names: readonly string[]): string[] {
  const seen: string[] = []
  const visit = (name: string): void => {
    const target = TARGETS[name]
    if (target === undefined) throw new Error(`unknown target ${JSON.stringify(name)}`)
    for (const need of target.needs) visit(need)
    if (!seen.includes(name)) seen.push(name)
  }
  for (const name of names) visit(name)
  return seen
}

/** The targets of `order` that cannot run here, each with its reason (none: all can). */
export function unavailableTargets (order: readonly string[], ctx: TargetContext): Array<{ name: string, why: string }> {
  const out: Array<{ name: string, why: string }> = []
  for (const name of order) {
    const why = TARGETS[name]!.unavailable(ctx)
    if (why !== null) out.push({ name, why })
  }
  return out
}

export interface StartTargetsOptions {
  /** PIN=1: each server under `taskset` on the CPU pinnedCpu() gives it. */
  pin: boolean
  /** The targets being measured (a backend measured directly runs on the servers' CPU). */
  measured: readonly string[]
  /** Wait at least this long for each ready line (a target's own timeoutMs when larger). */
  minTimeoutMs?: number
  /** Start the targets without needs together, then the rest together; otherwise one at a time, in order. */
  concurrent?: boolean
}

/**
 * Starts the targets of `order` (dependencies first, see startOrder), each in its own process,
 * and records each in `started` (and its URL in ctx.urls) as soon as it is up, so that the
 * caller can stop those that did start when a later one fails.
 */
export async function startTargets (order: readonly string[], ctx: TargetContext, opts: StartTargetsOptions, started: Map<string, ServerProcess>): Promise<void> {
  const start = async (name: string): Promise<void> => {
    const spec = await TARGETS[name]!.spawn(ctx)
    const server = await spawnServer({
      name,
      ...spec,
      ...(opts.minTimeoutMs !== undefined ? { timeoutMs: Math.max(spec.timeoutMs ?? 0, opts.minTimeoutMs) } : {}),
      ...(opts.pin ? { wrapper: ['taskset', '-c', pinnedCpu(name, opts.measured)] } : {})
    })
    started.set(name, server)
    ctx.urls[name] = server.url
  }
  const batches = opts.concurrent === true
    ? [order.filter((n) => TARGETS[n]!.needs.length === 0), order.filter((n) => TARGETS[n]!.needs.length > 0)]
    : order.map((n) => [n])
  for (const batch of batches) await Promise.all(batch.map(start))
}

/** The one correctness request before timing: throws unless `scenario.expect` holds. */
export async function checkAnswer (url: string, scenario: Scenario, timeoutMs: number): Promise<void> {
  const res = await request(url, {
    method: (scenario.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: scenario.headers,
    body: scenario.body ?? null,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs
  })
  const text = await res.body.text()
  if (res.statusCode !== scenario.expect.status || !scenario.expect.body(text)) {
    throw new Error(`check failed: ${scenario.method ?? 'GET'} ${url} answered ${res.statusCode} ${JSON.stringify(text.slice(0, 300))}`)
  }
}

/** The load of `scenario` at `url`: its method, headers and body, with the given pacing. */
export function scenarioLoad (scenario: Scenario, url: string, pacing: Pick<LoadOptions, 'connections' | 'pipelining' | 'rate' | 'duration'>): LoadOptions {
  return {
    url,
    ...pacing,
    ...(scenario.method !== undefined ? { method: scenario.method } : {}),
    ...(scenario.headers !== undefined ? { headers: scenario.headers } : {}),
    ...(scenario.body !== undefined ? { body: scenario.body } : {})
  }
}
