// Integration timeouts without a timer per request: exchanges with the same timeout join one
// intrusive list in the order they start (so each list is sorted by deadline), and one
// unref'd timer per worker is armed for the earliest head. Starting, finishing or expiring
// an exchange is a few pointer moves; under steady load the timer is re-armed only when it
// fires (node's own setTimeout allocates a Timeout and links it per call).

export interface Expiring {
  expireAt: number
  expirePrev: Expiring | null
  expireNext: Expiring | null
  expireList: DeadlineList | null
  /** Called once its deadline has passed (it is already unlinked). */
  expire(): void
}

export class DeadlineList {
  head: Expiring | null = null
  tail: Expiring | null = null
}

const lists = new Map<number, DeadlineList>()
let timer: NodeJS.Timeout | null = null
let timerAt = Infinity

/** Expires `item` after `ms` unless disarmed first. */
export function armDeadline(item: Expiring, ms: number): void {
  let list = lists.get(ms)
  if (list === undefined) {
    list = new DeadlineList()
    lists.set(ms, list)
  }
  const at = Date.now() + ms
  item.expireAt = at
  item.expireList = list
  item.expireNext = null
  item.expirePrev = list.tail
  if (list.tail !== null) list.tail.expireNext = item
  else list.head = item
  list.tail = item
  if (at < timerAt) schedule(at)
}

export function disarmDeadline(item: Expiring): void {
  const list = item.expireList
  if (list === null) return
  const prev = item.expirePrev
  const next = item.expireNext
  if (prev !== null) prev.expireNext = next
  else list.head = next
  if (next !== null) next.expirePrev = prev
  else list.tail = prev
  item.expirePrev = null
  item.expireNext = null
  item.expireList = null
}

function schedule(at: number): void {
  if (timer !== null) clearTimeout(timer)
  timerAt = at
  timer = setTimeout(fire, Math.max(1, at - Date.now()))
  // Whatever waits on a deadline also holds a socket, which keeps the thread alive.
  timer.unref()
}

function fire(): void {
  timer = null
  timerAt = Infinity
  const now = Date.now()
  let next = Infinity
  for (const list of lists.values()) {
    let head = list.head
    while (head !== null && head.expireAt <= now) {
      disarmDeadline(head)
      head.expire()
      head = list.head
    }
    if (head !== null && head.expireAt < next) next = head.expireAt
  }
  if (next !== Infinity) schedule(next)
}
