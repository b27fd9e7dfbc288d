// probePort refuses a port another socket holds; pickFreePort gives one the per-worker
// fronts can all listen on (uWebSockets.js sets SO_REUSEPORT only for a given port, so
// they cannot each listen on port 0).
import t from 'tap'
import { createServer, type AddressInfo } from 'node:net'
import { pickFreePort, probePort } from '../../../src/front/port-probe.js'
import { PortInUseError } from '../../../src/errors.js'

t.test('pickFreePort: a port that a plain bind then takes; probePort refuses it while held', async (t) => {
  const port = await pickFreePort('127.0.0.1')
  t.ok(port > 0 && port < 65536, `a port (${port})`)
  await probePort('127.0.0.1', port)
  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve()))
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())))
  t.equal((holder.address() as AddressInfo).port, port, 'the picked port was free')
  await t.rejects(probePort('127.0.0.1', port), PortInUseError, 'a held port is refused')
})
