// startGatewayWithAccess(): the gateway with an account section (region, accountId,
// credentials, userPools, …) given as the model's AccessSource, until the gateway config's
// loader for it lands (branch access-keys; then these tests can write it into backplane.yaml).
//
//   const gw = await startGatewayWithAccess(t, { args: [writeApi(t, doc)], access })
//   t.teardown(gw.stop)
import { join } from 'node:path'
import { startGateway, REPO_ROOT, type Gateway } from './gateway.js'
import { writeApi, type TestdirOwner } from './api.js'
import type { AccessSource, CredentialSource } from '../../src/config/model.js'
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

/** A principal's keys as the AWS SDK and @smithy/signature-v4 take them (a long-term key has no session token). */
export function sdkCredentials (c: CredentialSource): { accessKeyId: string, secretAccessKey: string, sessionToken?: string } {
  return c.sessionToken === null
    ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
    : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken }
}
