// THREAD_CPU=1 (bench/e2e/thread-cpu.ts): each thread's µs per request between two
// readings of /proc/<pid>/task/*/schedstat, the main thread first, with its context switches
// (/proc/<pid>/task/*/status) per 1000 requests.
import t from 'tap'
import { threadTimes, threadShares, sharesText, type ThreadTime } from '../../../bench/e2e/thread-cpu.js'

const times = (entries: [number, string, number, number?, number?][]): Map<number, ThreadTime> =>
  new Map(entries.map(([tid, comm, ns, voluntary = 0, involuntary = 0]) => [tid, { comm, ns, voluntary, involuntary }]))

t.test('shares: µs per request per thread, main first, small ones summed into rest', async (t) => {
  const before = times([[100, 'node', 1_000_000, 10, 1], [101, 'node', 0, 100, 0], [102, 'node', 5_000], [103, 'node', 0]])
  // 1000 requests: main used 0.2 ms (0.2 µs/req), 101 used 40 ms (40 µs/req), 102 0.1 ms, 103 0.3 ms.
  // Context switches: main 2 voluntary + 1 involuntary, 101 3000 + 500, 104 50 + 0, 102 and 103 1 + 0 each.
  const after = times([[100, 'node', 1_200_000, 12, 2], [101, 'node', 40_000_000, 3_100, 500], [102, 'node', 105_000, 1, 0], [103, 'node', 300_000, 1, 0], [104, 'libuv-worker', 2_000_000, 50, 0]])
  const shares = threadShares(100, before, after, 1000)
  t.strictSame(shares.map((s) => [s.tid, s.main, Number(s.usPerRequest.toFixed(2))]), [
    [100, true, 0.2],
    [101, false, 40],
    [104, false, 2], // started between the readings: all of its time counts
    [0, false, 0.4], // 102 (0.1) + 103 (0.3), each under 0.5 µs
  ])
  t.strictSame(shares.map((s) => [s.voluntaryPerK, s.involuntaryPerK]), [[2, 1], [3000, 500], [50, 0], [2, 0]])
  t.equal(sharesText(shares), 'main 0.2 (cs 2.0+1.0) · 101 node 40.0 (cs 3000.0+500.0) · 104 libuv-worker 2.0 (cs 50.0+0.0) · rest 0.4 (cs 2.0+0.0)')
})

t.test('this process: its own threads are read, the main thread among them', async (t) => {
  const mine = threadTimes(process.pid)
  t.ok(mine.has(process.pid), 'the main thread (tid = pid) is listed')
  t.ok(mine.get(process.pid)!.ns > 0, 'with the CPU it has used')
  t.ok(mine.get(process.pid)!.voluntary + mine.get(process.pid)!.involuntary > 0, 'and its context switches')
  t.equal(threadTimes(2 ** 30).size, 0, 'a process that does not exist has no threads')
})
