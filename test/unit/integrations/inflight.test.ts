// The exchanges in flight per worker (src/integrations/upstream.ts): a fixed table by request
// id, with a Map for an id whose slot another live request holds. The front's cancel for a
// request must reach its exchange, whichever way it is kept, and nothing else.
import t from 'tap'
import { cancelExchange, trackExchange, trackedExchange, untrackExchange } from '../../../src/integrations/upstream.js'

class Probe {
  cancelled = 0
  cancel(): void {
    this.cancelled++
  }
}

t.test('a tracked exchange is found by its id until untracked, and cancelled once', async (t) => {
  const a = new Probe()
  trackExchange(7, a)
  t.equal(trackedExchange(7), a)
  t.equal(trackedExchange(7 + 4096), null, 'another id on the same slot is not it')
  cancelExchange(7)
  t.equal(a.cancelled, 1)
  t.equal(trackedExchange(7), null, 'a cancel untracks it')
  cancelExchange(7)
  t.equal(a.cancelled, 1, 'a second cancel reaches nothing')
  const b = new Probe()
  trackExchange(8, b)
  untrackExchange(8)
  cancelExchange(8)
  t.equal(b.cancelled, 0, 'untracked: the cancel reaches nothing')
})

t.test('ids sharing a slot while both are in flight: each found, each cancelled alone', async (t) => {
  const ids = [100, 100 + 4096, 100 + 2 * 4096, 2 ** 40 + 100]
  const probes = ids.map(() => new Probe())
  ids.forEach((id, i) => trackExchange(id, probes[i]!))
  ids.forEach((id, i) => t.equal(trackedExchange(id), probes[i], `id ${id}`))
  cancelExchange(ids[1]!)
  t.same(probes.map((p) => p.cancelled), [0, 1, 0, 0])
  untrackExchange(ids[0]!)
  t.equal(trackedExchange(ids[0]!), null)
  t.equal(trackedExchange(ids[2]!), probes[2], 'the others stay')
  // The slot is free again: a later id there is kept in it, the overflowed one still found.
  const c = new Probe()
  trackExchange(100 + 3 * 4096, c)
  t.equal(trackedExchange(100 + 3 * 4096), c)
  cancelExchange(ids[2]!)
  cancelExchange(ids[3]!)
  cancelExchange(100 + 3 * 4096)
  t.same(probes.map((p) => p.cancelled), [0, 1, 1, 1])
  t.equal(c.cancelled, 1)
  for (const id of [...ids, 100 + 3 * 4096]) t.equal(trackedExchange(id), null)
})

t.test('an id tracked again after its slot freed is kept once: untracked, nothing is left of it', async (t) => {
  const holder = new Probe()
  const first = new Probe()
  const again = new Probe()
  trackExchange(300, holder)
  trackExchange(300 + 4096, first) // the slot is taken: kept aside
  untrackExchange(300)
  trackExchange(300 + 4096, again) // a second exchange for the same request, now in the slot
  t.equal(trackedExchange(300 + 4096), again)
  untrackExchange(300 + 4096)
  t.equal(trackedExchange(300 + 4096), null)
  cancelExchange(300 + 4096)
  t.same([holder.cancelled, first.cancelled, again.cancelled], [0, 0, 0])
})
