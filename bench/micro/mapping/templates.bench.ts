// Mapping templates: the WASM engine (src/mapping/engine.ts) against velocityjs, on three templates:
//   passthrough  $input.json('$') and a loop over $input.params() (AWS "Example 2" shape)
//   foreach      #foreach over 100 objects taken with $input.path('$.items'), reshaped
//   strings      $util.escapeJavaScript and String methods over a payload with quotes and unicode
// velocityjs gets equivalent $input / $util / $context helpers (below). Both sides start from what the
// gateway holds (body bytes) and end with what it sends (bytes): velocityjs pays TextDecoder/TextEncoder
// and JSON.parse inside its helpers, the engine works on the raw bytes in WASM memory.
// Outputs are checked equal before timing; each side is warmed up, then both are timed in alternating
// rounds of ROUND_MS, counting CPU time (see "timing" below).
//
// Run:  npx tsc -p tsconfig.json && node dist/bench/micro/mapping/templates.bench.js
// Knobs: ROUND_MS (default 200), ROUNDS (default 15 per side, the median is reported).
import velocity from 'velocityjs'
import { MappingEngine } from '../../../src/mapping/engine.js'
import type { MappingInput } from '../../../src/mapping/engine.js'

const ROUND_MS = Number(process.env.ROUND_MS ?? 200)
const ROUNDS = Number(process.env.ROUNDS ?? 15)
const WARMUP_RENDERS = 3000

const encoder = new TextEncoder()
const decoder = new TextDecoder()

// ---------------------------------------------------------------- velocityjs helpers

const HEX = '0123456789ABCDEF'

/** commons-lang 2 StringEscapeUtils.escapeJavaScript, as API Gateway's $util.escapeJavaScript. */
function escapeJavaScript (s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c <= 0x7e) {
      if (c === 0x22 || c === 0x27 || c === 0x5c || c === 0x2f) out += '\\'
      out += s[i]
    } else if (c === 0x08) out += '\\b'
    else if (c === 0x0c) out += '\\f'
    else if (c === 0x0a) out += '\\n'
    else if (c === 0x0d) out += '\\r'
    else if (c === 0x09) out += '\\t'
    else out += '\\u' + HEX[(c >> 12) & 15] + HEX[(c >> 8) & 15] + HEX[(c >> 4) & 15] + HEX[c & 15]
  }
  return out
}

/** The JSONPath subset the templates use: $, .name, [n]. */
function jsonPath (root: unknown, path: string): unknown {
  let cur: unknown = root
  const re = /\.([A-Za-z_][\w-]*)|\[(\d+)\]/g
  let m: RegExpExecArray | null
  re.lastIndex = 1
  while ((m = re.exec(path)) !== null) {
    if (cur === null || typeof cur !== 'object') return null
    cur = m[1] !== undefined ? (cur as Record<string, unknown>)[m[1]] : (cur as unknown[])[Number(m[2])]
    if (cur === undefined) return null
  }
  return cur
}

class VelocityInput {
  readonly body: string
  readonly #params: MappingInput['params']
  #parsed: unknown = undefined
  constructor (body: string, params: MappingInput['params']) {
    this.body = body
    this.#params = params
  }
  #root (): unknown {
    if (this.#parsed === undefined) this.#parsed = this.body.length === 0 ? {} : JSON.parse(this.body)
    return this.#parsed
  }
  json (path: string): string {
    const v = jsonPath(this.#root(), path)
    return v === null ? '' : JSON.stringify(v)
  }
  path (path: string): unknown {
    return jsonPath(this.#root(), path)
  }
  params (name?: string): unknown {
    const p = this.#params
    if (name === undefined) return p
    return p.path[name] ?? p.querystring[name] ?? p.header[name] ?? ''
  }
}

const velocityUtil = {
  escapeJavaScript,
  parseJson: (s: string): unknown => JSON.parse(s),
  urlEncode: (s: string): string => encodeURIComponent(s).replace(/%20/g, '+'),
  urlDecode: (s: string): string => decodeURIComponent(s.replace(/\+/g, ' ')),
  base64Encode: (s: string): string => Buffer.from(s, 'utf8').toString('base64'),
  base64Decode: (s: string): string => Buffer.from(s, 'base64').toString('utf8'),
}

function renderVelocity (compiled: InstanceType<typeof velocity.Compile>, input: MappingInput): Uint8Array {
  const body = input.body === null ? '' : decoder.decode(input.body)
  const out = compiled.render({
    input: new VelocityInput(body, input.params),
    util: velocityUtil,
    context: input.context,
    stageVariables: input.stageVariables,
  })
  return encoder.encode(out)
}

// ---------------------------------------------------------------- scenarios

const CONTEXT = {
  requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
  stage: 'prod',
  httpMethod: 'POST',
  resourcePath: '/pets/{petId}',
  identity: { sourceIp: '192.0.2.1', userAgent: 'curl/7.84.0' },
  authorizer: { principalId: 'user|a1b2', claims: { email: 'ana "the admin" <ana@example.com>' } },
}
const PARAMS = {
  path: { petId: '42' },
  querystring: { limit: '10', type: 'dog', q: 'say "hi"' },
  header: { Host: 'api.example.com', 'Content-Type': 'application/json', 'User-Agent': 'curl/7.84.0', Accept: '*/*' },
}

const passthroughBody = JSON.stringify({
  order: { id: 'o-123', customer: { name: 'Ana Lee', email: 'ana@example.com' }, total: 99.95, currency: 'EUR' },
  lines: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${i}`, qty: i + 1, price: 5.25 + i, note: 'gift wrap, ribbon' })),
}, null, 2)

const itemsBody = JSON.stringify({
  items: Array.from({ length: 100 }, (_, i) => ({
    id: `item-${i}`, name: `Item number ${i}`, price: i + 0.25, tags: ['a', 'b', 'c'].slice(0, 1 + (i % 3)), active: i % 2 === 0,
  })),
})

const stringsBody = JSON.stringify({
  title: 'Hello World!',
  padded: '   some padded text \t ',
  description: 'He said "it\'s fine" — then left.\nPath: C:\\temp\\x / ünïcödé ✓',
  comments: Array.from({ length: 20 }, (_, i) => ({ text: `  comment ${i}: "quoted" & <tag> 'single' café\t ` })),
})

interface Scenario { name: string; template: string; body: string }

const scenarios: Scenario[] = [
  {
    name: 'passthrough',
    body: passthroughBody,
    template: '{"body": $input.json(\'$\'), "params": {#foreach($type in $input.params().keySet())#set($p = $input.params().get($type))"$type": {#foreach($name in $p.keySet())"$name": "$util.escapeJavaScript($p.get($name))"#if($foreach.hasNext), #end#end}#if($foreach.hasNext), #end#end}, "requestId": "$context.requestId", "sourceIp": "$context.identity.sourceIp"}',
  },
  {
    name: 'foreach',
    body: itemsBody,
    template: '#set($items = $input.path(\'$.items\'))\n[#foreach($item in $items){"id": "$item.id", "name": "$item.name", "price": $item.price, "tags": $item.tags.size(), "active": $item.active, "n": $foreach.count}#if($foreach.hasNext),#end#end]',
  },
  {
    name: 'strings',
    body: stringsBody,
    template: '#set($b = $input.path(\'$\'))\n{"title": "$util.escapeJavaScript($b.title)", "upper": "$b.title.toUpperCase()", "slug": "$b.title.toLowerCase().replace(\' \', \'-\')", "first": "$b.title.substring(0, 5)", "idx": $b.title.indexOf(\'o\'), "starts": $b.title.startsWith(\'Hello\'), "ends": $b.title.endsWith(\'!\'), "ch": "$b.title.charAt(1)", "trimmed": "$util.escapeJavaScript($b.padded.trim())", "desc": "$util.escapeJavaScript($b.description)", "comments": [#foreach($c in $b.comments)"$util.escapeJavaScript($c.text.trim().toUpperCase())"#if($foreach.hasNext), #end#end], "who": "$util.escapeJavaScript($context.authorizer.claims.email)"}',
  },
]

// ---------------------------------------------------------------- timing
// The two sides are timed in alternating rounds (wasm, velocityjs, wasm, ...) and each round counts the
// process's CPU time, not wall time: on a shared machine a side timed alone for seconds could meet a
// quiet or a busy spell, and a descheduled thread shows as slowness in wall time only. The median
// round of each side is reported; the ratio compares medians taken over the same stretch of time.

let sink = 0 // keeps outputs alive

function warm (fn: () => Uint8Array): void {
  for (let i = 0; i < WARMUP_RENDERS; i++) sink += fn().byteLength
}

/** Renders per CPU-second of one round of ROUND_MS (wall clock) of fn. */
function round (fn: () => Uint8Array): number {
  let n = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ROUND_MS) * 1_000_000n
  const cpu0 = process.cpuUsage()
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < 32; i++) sink += fn().byteLength
    n += 32
  }
  const cpu = process.cpuUsage(cpu0)
  return n / ((cpu.user + cpu.system) / 1e6)
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Median renders per CPU-second of each function, their rounds interleaved. */
function timeSideBySide (fns: Array<() => Uint8Array>): number[] {
  for (const fn of fns) warm(fn)
  const rates: number[][] = fns.map(() => [])
  for (let r = 0; r < ROUNDS; r++) for (let k = 0; k < fns.length; k++) rates[k]!.push(round(fns[k]!))
  return rates.map(median)
}

function main (): void {
  const engine = MappingEngine.load()
  const rows: Array<{ name: string; wasm: number; vjs: number; ratio: number; bytes: number; hostCalls: number }> = []
  for (const s of scenarios) {
    const compiled = engine.compile(s.template)
    if (!compiled.ok) throw new Error(`${s.name}: ${compiled.line}:${compiled.column} ${compiled.message}`)
    const vjs = new velocity.Compile(velocity.parse(s.template))
    const input: MappingInput = { body: encoder.encode(s.body), params: PARAMS, context: CONTEXT, stageVariables: { env: 'prod' } }
    const id = compiled.id
    const wasmRender = (): Uint8Array => {
      const r = engine.render(id, input)
      if (!r.ok) throw new Error(r.message)
      return r.output
    }
    const vjsRender = (): Uint8Array => renderVelocity(vjs, input)
    const a = decoder.decode(wasmRender())
    const hostCalls = engine.lastHostCalls
    const b = decoder.decode(vjsRender())
    if (a !== b) {
      let i = 0
      while (i < a.length && a[i] === b[i]) i++
      console.error(`${s.name}: outputs differ at ${i}\n wasm: ${JSON.stringify(a.slice(Math.max(0, i - 40), i + 60))}\n  vjs: ${JSON.stringify(b.slice(Math.max(0, i - 40), i + 60))}`)
      process.exitCode = 1
      return
    }
    const [wasm, v] = timeSideBySide([wasmRender, vjsRender]) as [number, number]
    rows.push({ name: s.name, wasm, vjs: v, ratio: wasm / v, bytes: a.length, hostCalls })
  }
  console.log(`mapping templates: WASM engine vs velocityjs (node ${process.version}, ${process.arch}, median of ${ROUNDS} alternating rounds × ${ROUND_MS} ms, renders per CPU-second)`)
  for (const r of rows) {
    console.log(`${r.name.padEnd(12)} wasm ${Math.round(r.wasm).toString().padStart(9)} renders/s   velocityjs ${Math.round(r.vjs).toString().padStart(8)} renders/s   ratio ${r.ratio.toFixed(2)}×   (${r.bytes} B out, ${r.hostCalls} host calls/render)`)
  }
  crossingCost(engine)
  if (sink === 0) console.log('')
}

// The host boundary: String.replaceAll goes to JavaScript's RegExp (one crossing per call), String.replace
// stays in WASM. Ten calls of each on the same 40-character string; the difference per call is the
// crossing plus the regex work on the host side.
function crossingCost (engine: MappingEngine): void {
  const calls = 10
  const viaHost = engine.compile(`#set($s = $input.path('$.s'))${'$s.replaceAll("o", "0")'.repeat(calls)}`)
  const inWasm = engine.compile(`#set($s = $input.path('$.s'))${'$s.replace("o", "0")'.repeat(calls)}`)
  if (!viaHost.ok || !inWasm.ok) throw new Error('crossing templates do not compile')
  const input: MappingInput = { body: encoder.encode(JSON.stringify({ s: 'hello world, foo bar boo, lorem ipsum do' })), params: PARAMS, context: CONTEXT, stageVariables: {} }
  const render = (id: number) => (): Uint8Array => {
    const r = engine.render(id, input)
    if (!r.ok) throw new Error(r.message)
    return r.output
  }
  const a = render(viaHost.id)
  const b = render(inWasm.id)
  const viaHostOut = decoder.decode(a())
  const hostCalls = engine.lastHostCalls
  if (viaHostOut !== decoder.decode(b())) throw new Error('crossing templates differ')
  const [host, local] = timeSideBySide([a, b]) as [number, number]
  const perCall = (1e6 / host - 1e6 / local) / calls
  console.log(`host crossing  replaceAll via host ${Math.round(host)} renders/s, replace in WASM ${Math.round(local)} renders/s: ≈ ${perCall.toFixed(2)} µs per regex call (${hostCalls} crossings/render)`)
}

main()
