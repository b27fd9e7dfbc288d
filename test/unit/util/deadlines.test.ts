// The worker's one deadline timer (src/util/deadlines.ts): items expire once, in deadline
// order across lists of different timeouts; a disarmed item never expires; an item armed
// again after expiring is a new deadline; nothing else holds the thread open.
import t from 'tap'
import { armDeadline, disarmDeadline, type DeadlineList, type Expiring } from '../../../src/util/deadlines.js'

class Item implements Expiring {
  expireAt = 0
  expirePrev: Expiring | null = null
  expireNext: Expiring | null = null
  expireList: DeadlineList | null = null
  readonly name: string
  readonly log: string[]
  constructor(name: string, log: string[]) {
    this.name = name
    this.log = log
  }
  expire(): void {
    this.log.push(this.name)
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

t.test('items expire once, earliest deadline first, across timeout values', async (t) => {
  const log: string[] = []
  const slow = new Item('slow-120', log)
  const fast = new Item('fast-40', log)
  const mid = new Item('mid-80', log)
  armDeadline(slow, 120)
  armDeadline(fast, 40)
  armDeadline(mid, 80)
  await sleep(20)
  t.same(log, [], 'nothing before its deadline')
  await sleep(200)
  t.same(log, ['fast-40', 'mid-80', 'slow-120'])
  t.equal(fast.expireList, null, 'unlinked before expire() was called')
})

t.test('a disarmed item never expires; its neighbours in the list still do', async (t) => {
  const log: string[] = []
  const items = ['a', 'b', 'c', 'd'].map((n) => new Item(n, log))
  for (const item of items) armDeadline(item, 50)
  disarmDeadline(items[0]!) // the head
  disarmDeadline(items[2]!) // the middle
  disarmDeadline(items[2]!) // twice is harmless
  await sleep(150)
  t.same(log, ['b', 'd'])
})

t.test('disarming every item leaves nothing to fire; re-arming after expiry counts again', async (t) => {
  const log: string[] = []
  const item = new Item('x', log)
  armDeadline(item, 30)
  disarmDeadline(item)
  await sleep(80)
  t.same(log, [], 'disarmed')
  armDeadline(item, 30)
  await sleep(80)
  t.same(log, ['x'], 'armed again, expired')
  armDeadline(item, 30)
  await sleep(80)
  t.same(log, ['x', 'x'], 'and again')
})

t.test('an item armed inside expire() is scheduled on the same timer', async (t) => {
  const log: string[] = []
  const second = new Item('second', log)
  class Chaining extends Item {
    override expire(): void {
      super.expire()
      armDeadline(second, 30)
    }
  }
  armDeadline(new Chaining('first', log), 30)
  await sleep(150)
  t.same(log, ['first', 'second'])
})
