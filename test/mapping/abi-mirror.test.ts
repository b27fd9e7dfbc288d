// src/mapping/abi.ts mirrors assembly/abi.ts: every constant and Status value has the same value.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as ABI from '../../src/mapping/abi.js'

const source = readFileSync(fileURLToPath(new URL('../../assembly/abi.ts', import.meta.url)), 'utf8')

function evaluate (expr: string): number {
  if (!/^[\d\s*+x<a-fA-F()-]+$/.test(expr)) throw new Error(`unexpected expression ${expr}`)
  return Number(new Function(`return (${expr})`)())
}

t.test('every exported constant of assembly/abi.ts has the same value in src/mapping/abi.ts', async (t) => {
  const re = /^export const (\w+)(?::\s*\w+)?\s*=\s*([^;]+);/gm
  let m: RegExpExecArray | null
  let count = 0
  const mirror = ABI as unknown as Record<string, unknown>
  while ((m = re.exec(source)) !== null) {
    const name = m[1]!
    t.equal(mirror[name], evaluate(m[2]!), name)
    count++
  }
  t.ok(count > 20, `${count} constants compared`)
})

t.test('Status values match', async (t) => {
  const body = /export enum Status \{([^}]+)\}/.exec(source)![1]!
  const pairs = [...body.matchAll(/(\w+)\s*=\s*(\d+)/g)].map((p) => [p[1]!, Number(p[2])] as const)
  t.strictSame(Object.fromEntries(pairs), { ...ABI.Status })
})
