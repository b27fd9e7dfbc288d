// The request ids (src/util/ids.ts), written into scratch buffers on the hot path: each
// call must still give a fresh, well-formed id of API Gateway's shape.
import t from 'tap'
import { newApigwId, newRequestId, newTraceId } from '../../../src/util/ids.js'

/** $context.requestId: a version 4 UUID (RFC 9562: version nibble 4, variant bits 10), lower-case. */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

t.test('requestId is a version 4 UUID, a new one every call', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 5000; i++) {
    const id = newRequestId()
    if (!UUID_V4.test(id)) t.fail(`not a v4 UUID: ${id}`)
    seen.add(id)
  }
  t.equal(seen.size, 5000)
  // The scratch buffer is reused: an id handed out earlier must not change afterwards.
  const a = newRequestId()
  const copy = a.slice()
  newRequestId()
  t.equal(a, copy)
})

t.test('extendedRequestId (x-amz-apigw-id) is 16 base64 characters ending in "=", unique per call', async (t) => {
  const first = newApigwId()
  t.match(first, /^[A-Za-z0-9+/]{7}F[A-Za-z0-9+/]{7}=$/)
  const seen = new Set<string>([first])
  for (let i = 0; i < 5000; i++) seen.add(newApigwId())
  t.equal(seen.size, 5001)
  t.equal(newApigwId().slice(0, 7), first.slice(0, 7), 'one random prefix per thread')
})

t.test('the X-Ray trace id names the epoch second and 96 random bits', async (t) => {
  const now = Date.UTC(2026, 11, 2, 5, 0, 0, 400)
  const id = newTraceId(now)
  t.match(id, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/)
  t.equal(id.slice(7, 15), Math.floor(now / 1000).toString(16).padStart(8, '0'))
  t.not(newTraceId(now), id, 'random part differs')
  t.equal(newTraceId(now + 1000).slice(7, 15), Math.floor((now + 1000) / 1000).toString(16).padStart(8, '0'), 'the next second is named')
})
