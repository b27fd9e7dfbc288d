// startGatewayWithAccess(): the gateway with an account section (region, accountId,
// credentials, userPools, …) given as the model's AccessSource, until the gateway config's
// loader for it lands (branch access-keys; then these tests can write it into backplane.yaml).
//
//   const gw = await startGatewayWithAccess(t, { args: [writeApi(t, doc)], access })
//   t.teardown(gw.stop)
import { join } from 'node:path'
import { startGateway, REPO_ROOT, type Gateway } from './gateway.js'
import { writeApi, type TestdirOwner } from './api.js'
import type { AccessSource } from '../../src/config/model.js'
import { DEFAULT_ACCESS } from '../../src/config/model.js'

export const ACCESS_SERVE_SCRIPT = join(REPO_ROOT, 'test', 'fixtures', 'access', 'serve.mjs')

export interface AccessGatewayOptions {
  /** API files and flags, as for startGateway. */
  args: string[]
  /** Laid over DEFAULT_ACCESS. */
  access: Partial<AccessSource>
}

export async function startGatewayWithAccess (t: TestdirOwner, opts: AccessGatewayOptions): Promise<Gateway> {
  const file = writeApi(t, { ...DEFAULT_ACCESS, ...opts.access }, 'access.json')
  return await startGateway({ cli: ACCESS_SERVE_SCRIPT, args: opts.args, env: { BACKPLANE_TEST_ACCESS: file } })
}
