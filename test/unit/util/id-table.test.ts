// IdTable (src/util/id-table.ts): entries by ever-increasing id in a fixed table, ids that
// share a slot while both live kept aside; it must behave as a Map of the live entries.
import t from 'tap'
import { IdTable } from '../../../src/util/id-table.js'

t.test('behaves as a Map over ids that collide, wrap and come back', async (t) => {
  const table = new IdTable<string>(8)
  const model = new Map<number, string>()
  const check = (what: string) => {
    t.equal(table.size, model.size, `${what}: size`)
    t.same(new Map(table.entries()), model, `${what}: entries`)
    for (const id of [...model.keys(), 1, 9, 17, 2 ** 40 + 1]) {
      t.equal(table.get(id), model.get(id), `${what}: get ${id}`)
      t.equal(table.has(id), model.has(id), `${what}: has ${id}`)
    }
  }
  const ops: Array<[string, number, string?]> = [
    ['set', 1, 'a'], ['set', 9, 'b'], ['set', 17, 'c'], ['set', 2 ** 40 + 1, 'd'], // all slot 1
    ['set', 9, 'b2'], ['delete', 1], ['set', 25, 'e'], ['set', 9, 'b3'], ['delete', 9],
    ['delete', 9], ['set', 3, 'f'], ['delete', 2 ** 40 + 1], ['set', 1, 'g'],
  ]
  for (const [op, id, v] of ops) {
    if (op === 'set') {
      table.set(id, v!)
      model.set(id, v!)
    } else t.equal(table.delete(id), model.delete(id), `delete ${id} says whether it was there`)
    check(`${op} ${id}`)
  }
  table.clear()
  model.clear()
  check('clear')
})

t.test('a long run of ids in flight a few at a time stays in the table', async (t) => {
  const table = new IdTable<number>(16)
  let missed = 0
  for (let id = 1; id < 10_000; id++) {
    table.set(id, id)
    if (id > 5 && !table.delete(id - 5)) missed++
  }
  t.equal(missed, 0, 'every id found when it ends')
  t.equal(table.size, 5)
  t.same(table.entries().map(([id]) => id).sort((a, b) => a - b), [9995, 9996, 9997, 9998, 9999])
})
