// The gateway's admin listener (`admin: { host, port: 0 }` or `--admin-port 0`), found from
// the line the CLI prints after the listening line.
//
//   const admin = await waitForReady(gw)   // every worker has compiled the configuration
//   const res = await request(`${admin}/metrics`)

import type { Gateway } from './gateway.js'
import { request } from './request.js'
import { until, UNTIL_TIMEOUT_MS } from './wait.js'

/** The CLI's line naming the admin listener; group 1 is its base URL. */
export const ADMIN_LINE_PATTERN = /backplane admin on (http:\/\/\S+)/
/** Bound on /ready: a loaded machine starts workers (module graph, compile, WASM) slowly. */
export const READY_TIMEOUT_MS = 60_000

/** The admin listener's URL, once the gateway has printed it (bounded by `ms`). */
export async function adminUrl(gw: Pick<Gateway, 'output'>, ms = UNTIL_TIMEOUT_MS): Promise<string> {
  return (await until(() => ADMIN_LINE_PATTERN.exec(gw.output()), 'the admin line', ms))[1]!
}

/** Waits until the admin listener's /ready answers 200 (every worker has compiled the configuration); returns the admin URL. */
export async function waitForReady(gw: Pick<Gateway, 'output'>, what = 'every worker ready', ms = READY_TIMEOUT_MS): Promise<string> {
  const admin = await adminUrl(gw)
  await until(async () => (await request(`${admin}/ready`)).status === 200, what, ms)
  return admin
}
