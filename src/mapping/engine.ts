// The mapping-template engine of one worker thread: API Gateway's Velocity dialect compiled to a
// program inside build/mapping.wasm (AssemblyScript, assembly/). Templates are compiled once at load;
// render() writes the request straight into WASM memory (body bytes untouched, strings as UTF-16 code
// units, no JSON on this side), evaluates, and copies the rendered bytes out.
//
// Per render the JS side allocates the result object and the output copy; everything else reuses the
// typed-array views kept here. The only other crossing is the `regex` import (Java regular expressions
// on RegExp), once per matches/replaceAll/replaceFirst/split call; RESULT_HOST_CALLS counts them.
import { readFileSync, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as ABI from './abi.js'
import type { MappingExports } from './abi.js'
import { JavaRegexCache, javaReplace, javaSplit } from './java-regex.js'

export interface MappingParams { path: Record<string, string>; querystring: Record<string, string>; header: Record<string, string> }
export interface MappingInput {
  body: Uint8Array | null            // raw body bytes ($input.body / json / path)
  params: MappingParams
  context: Record<string, unknown>   // $context, nested objects allowed (identity, authorizer, error)
  stageVariables: Record<string, string>
}
export interface MappingOverrides {
  /** responseOverride.status, null when unset. */
  status: number | null
  /** Request and response header overrides merged (a template is either a request or a response one). */
  header: Record<string, string>
  /** requestOverride.querystring. */
  querystring: Record<string, string>
  /** requestOverride.path. */
  path: Record<string, string>
  /** requestOverride.header alone. */
  requestHeader: Record<string, string>
  /** responseOverride.header alone. */
  responseHeader: Record<string, string>
  /** responseOverride's other keys (a MOCK request template passes them to its response template). */
  responseExtra: Record<string, string>
}
export type CompileResult = { ok: true; id: number } | { ok: false; line: number; column: number; message: string }
export type RenderResult = { ok: true; output: Uint8Array; overrides: MappingOverrides | null } | { ok: false; message: string }

/** Starting guess for the non-body part of a request record; it learns the largest seen. */
const INITIAL_RECORD_ESTIMATE = 4096
/** Deepest $context nesting encoded; deeper values are cut (they cannot come from API Gateway's context). */
const MAX_CONTEXT_DEPTH = 32

// build/mapping.wasm sits at the repository root: two levels up from src/mapping, three from dist/src/mapping
const WASM_CANDIDATES = ['../../build/mapping.wasm', '../../../build/mapping.wasm']

let cachedModule: WebAssembly.Module | null = null

function loadModule (): WebAssembly.Module {
  if (cachedModule !== null) return cachedModule
  for (const rel of WASM_CANDIDATES) {
    const file = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(file)) {
      cachedModule = new WebAssembly.Module(readFileSync(file))
      return cachedModule
    }
  }
  throw new Error('build/mapping.wasm not found: run `npm run build:wasm`')
}

const utf16 = new TextDecoder('utf-16le')

export class MappingEngine {
  #exports!: MappingExports
  #memory!: WebAssembly.Memory
  #buffer: ArrayBuffer = new ArrayBuffer(0)
  #u8: Uint8Array = new Uint8Array(0)
  #u16: Uint16Array = new Uint16Array(0)
  #u32: Uint32Array = new Uint32Array(0)
  #result = 0
  #recordEstimate = INITIAL_RECORD_ESTIMATE
  // encoder state (fields, not closures, so render allocates nothing for them)
  #pos = 0
  #end = 0
  #overflow = false
  #shortfall = 0
  readonly #f64 = new Float64Array(1)
  readonly #f64words = new Uint32Array(this.#f64.buffer)
  readonly #sources: string[] = []
  /** Per template id: the ABI.USES_* sections it can read; render() encodes only those. */
  readonly #uses: number[] = []
  readonly #regex = new JavaRegexCache()
  /** Host crossings (regex and dtoa calls) made by the last render. */
  lastHostCalls = 0

  private constructor () {
    this.#instantiate()
  }

  /** Bytes of WASM linear memory: flat across renders, since every render starts from the same heap mark. */
  get memoryBytes (): number {
    return this.#memory.buffer.byteLength
  }

  /** Instantiates build/mapping.wasm (synchronously: call at worker start-up). */
  static load (): MappingEngine {
    return new MappingEngine()
  }

  #instantiate (): void {
    const env = {
      abort: (_msg: number, _file: number, line: number, col: number): never => {
        throw new Error(`mapping engine aborted at ${line}:${col}`)
      },
      // shortest round-trip digits of a double the engine could not format alone (rare: see values.ts)
      dtoa: (d: number, out: number): number => {
        const s = String(d)
        this.#refresh()
        for (let i = 0; i < s.length; i++) this.#u8[out + i] = s.charCodeAt(i)
        this.lastHostCalls++
        return s.length
      },
      regex: (op: number, pat: number, patUnits: number, str: number, strUnits: number,
        arg: number, argUnits: number, limit: number, out: number, outBytes: number): number =>
        this.#hostRegex(op, pat, patUnits, str, strUnits, arg, argUnits, limit, out, outBytes),
    }
    const instance = new WebAssembly.Instance(loadModule(), { env })
    this.#exports = instance.exports as unknown as MappingExports
    this.#memory = this.#exports.memory
    this.#refresh()
    const version = this.#exports.abiVersion()
    if (version !== ABI.ABI_VERSION) throw new Error(`mapping.wasm ABI ${version}, expected ${ABI.ABI_VERSION}: rebuild it`)
    this.#result = this.#exports.result() >>> 2
  }

  /** Re-creates the instance after a trap and recompiles every template under the same ids. */
  #rebuild (): void {
    this.#instantiate()
    for (const src of this.#sources) this.#compileRaw(src)
  }

  #refresh (): void {
    const buf = this.#memory.buffer
    if (buf !== this.#buffer) {
      this.#buffer = buf
      this.#u8 = new Uint8Array(buf)
      this.#u16 = new Uint16Array(buf)
      this.#u32 = new Uint32Array(buf)
    }
  }

  compile (template: string): CompileResult {
    let id: number
    try {
      id = this.#compileRaw(template)
    } catch (err) {
      // a trap while compiling (a parser bug, or nesting deep enough to exhaust the stack)
      this.#rebuild()
      return { ok: false, line: 1, column: 1, message: `template could not be compiled: ${(err as Error).message}` }
    }
    if (id < 0) {
      const r = this.#result
      return {
        ok: false,
        line: this.#u32[r + ABI.RESULT_LINE]!,
        column: this.#u32[r + ABI.RESULT_COLUMN]!,
        message: this.#message(),
      }
    }
    this.#sources.push(template)
    this.#uses[id] = this.#u32[this.#result + ABI.RESULT_USES]!
    return { ok: true, id }
  }

  #compileRaw (template: string): number {
    const n = template.length
    const ptr = this.#exports.reserve(n * 2)
    this.#refresh()
    const u16 = this.#u16
    const base = ptr >>> 1
    for (let i = 0; i < n; i++) u16[base + i] = template.charCodeAt(i)
    const id = this.#exports.compile(ptr, n)
    this.#refresh()
    return id
  }

  render (id: number, input: MappingInput): RenderResult {
    try {
      return this.#render(id, input)
    } catch (err) {
      // a trap: the instance state is unknown, so start a fresh one
      this.#rebuild()
      return { ok: false, message: `mapping template failed: ${(err as Error).message}` }
    }
  }

  /** Test hook: traps inside the module the way a bug would, through the same recovery path. */
  trapForTest (): RenderResult {
    try {
      this.#exports.trapForTest()
      return { ok: false, message: 'no trap' }
    } catch (err) {
      this.#rebuild()
      return { ok: false, message: `mapping template failed: ${(err as Error).message}` }
    }
  }

  #render (id: number, input: MappingInput): RenderResult {
    // an unknown id reads nothing: the module answers BAD_TEMPLATE_ID
    const uses = this.#uses[id] ?? 0
    const body = (uses & ABI.USES_BODY) === 0 ? null : input.body
    const bodyLen = body === null ? 0 : body.byteLength
    let cap = this.#recordEstimate + bodyLen
    let ptr = 0
    for (;;) {
      ptr = this.#exports.reserve(cap)
      this.#refresh()
      if (this.#encode(ptr, cap, input, uses, body)) break
      cap = (this.#pos - ptr + this.#shortfall) * 2 + bodyLen + 1024
    }
    const used = this.#pos - ptr
    if (used - bodyLen > this.#recordEstimate) this.#recordEstimate = used - bodyLen

    this.lastHostCalls = 0
    const status = this.#exports.render(id, ptr, used)
    this.#refresh()
    const r = this.#result
    const u32 = this.#u32
    this.lastHostCalls += u32[r + ABI.RESULT_HOST_CALLS]!
    if (status !== ABI.Status.OK) return { ok: false, message: this.#message() }
    const outPtr = u32[r + ABI.RESULT_OUTPUT_PTR]!
    const outLen = u32[r + ABI.RESULT_OUTPUT_LEN]!
    const output = this.#u8.slice(outPtr, outPtr + outLen)
    const ovLen = u32[r + ABI.RESULT_OVERRIDES_LEN]!
    const overrides = ovLen === 0 ? null : this.#decodeOverrides(u32[r + ABI.RESULT_OVERRIDES_PTR]!)
    return { ok: true, output, overrides }
  }

  #message (): string {
    const r = this.#result
    const ptr = this.#u32[r + ABI.RESULT_MESSAGE_PTR]!
    const len = this.#u32[r + ABI.RESULT_MESSAGE_LEN]!
    return utf16.decode(this.#u8.subarray(ptr, ptr + len * 2))
  }

  // ---- the request record (layout in assembly/abi.ts) ----

  // Sections the template cannot read (see `uses`) are written empty; `body` is null when it is one.
  #encode (ptr: number, cap: number, input: MappingInput, uses: number, body: Uint8Array | null): boolean {
    this.#pos = ptr + ABI.HDR_WORDS * 4
    this.#end = ptr + cap
    this.#overflow = false
    const hdr = ptr >>> 2
    const u32 = this.#u32
    const params = (uses & ABI.USES_PARAMS) === 0 ? null : input.params
    u32[hdr + ABI.HDR_PATH] = this.#pos - ptr
    this.#writeStringMap(params === null ? null : params.path)
    u32[hdr + ABI.HDR_QUERYSTRING] = this.#pos - ptr
    this.#writeStringMap(params === null ? null : params.querystring)
    u32[hdr + ABI.HDR_HEADER] = this.#pos - ptr
    this.#writeStringMap(params === null ? null : params.header)
    u32[hdr + ABI.HDR_CONTEXT] = this.#pos - ptr
    this.#writeValue((uses & ABI.USES_CONTEXT) === 0 ? null : input.context, 0)
    u32[hdr + ABI.HDR_STAGE] = this.#pos - ptr
    this.#writeStringMap((uses & ABI.USES_STAGE) === 0 ? null : input.stageVariables)
    u32[hdr + ABI.HDR_BODY] = this.#pos - ptr
    if (!this.#room(4 + (body === null ? 0 : body.byteLength))) return false
    if (body === null) {
      u32[this.#pos >>> 2] = ABI.BODY_NULL
      this.#pos += 4
    } else {
      u32[this.#pos >>> 2] = body.byteLength
      this.#u8.set(body, this.#pos + 4)
      this.#pos += 4 + body.byteLength
    }
    return !this.#overflow
  }

  #room (n: number): boolean {
    if (this.#pos + n > this.#end) {
      if (!this.#overflow) this.#shortfall = n
      this.#overflow = true
      return false
    }
    return true
  }

  #writeString (s: string): void {
    const n = s.length
    if (!this.#room(4 + n * 2 + 3)) return
    let p = this.#pos
    this.#u32[p >>> 2] = n
    p += 4
    const u16 = this.#u16
    const base = p >>> 1
    for (let i = 0; i < n; i++) u16[base + i] = s.charCodeAt(i)
    this.#pos = p + ((n * 2 + 3) & ~3)
  }

  #writeWord (w: number): void {
    if (!this.#room(4)) return
    this.#u32[this.#pos >>> 2] = w
    this.#pos += 4
  }

  #writeStringMap (map: Record<string, string> | null | undefined): void {
    this.#writeWord(ABI.TAG_OBJECT)
    const countAt = this.#pos
    this.#writeWord(0)
    if (map === null || map === undefined) return
    let count = 0
    for (const key in map) {
      const v = map[key]
      if (v === undefined) continue
      this.#writeString(key)
      this.#writeWord(ABI.TAG_STRING)
      this.#writeString(typeof v === 'string' ? v : String(v))
      count++
      if (this.#overflow) return
    }
    this.#u32[countAt >>> 2] = count
  }

  #writeValue (v: unknown, depth: number): void {
    if (this.#overflow) return
    switch (typeof v) {
      case 'string':
        this.#writeWord(ABI.TAG_STRING)
        this.#writeString(v)
        return
      case 'number': {
        const isInt = Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER
        this.#writeWord(isInt ? ABI.TAG_INTEGER : ABI.TAG_NUMBER)
        if (!this.#room(8)) return
        this.#f64[0] = v
        this.#u32[this.#pos >>> 2] = this.#f64words[0]!
        this.#u32[(this.#pos >>> 2) + 1] = this.#f64words[1]!
        this.#pos += 8
        return
      }
      case 'boolean':
        this.#writeWord(v ? ABI.TAG_TRUE : ABI.TAG_FALSE)
        return
      case 'bigint':
        this.#writeWord(ABI.TAG_STRING)
        this.#writeString(v.toString())
        return
      case 'object': {
        if (v === null || depth > MAX_CONTEXT_DEPTH) break
        if (Array.isArray(v)) {
          this.#writeWord(ABI.TAG_ARRAY)
          this.#writeWord(v.length)
          for (let i = 0; i < v.length; i++) this.#writeValue(v[i], depth + 1)
          return
        }
        this.#writeWord(ABI.TAG_OBJECT)
        const countAt = this.#pos
        this.#writeWord(0)
        let count = 0
        const obj = v as Record<string, unknown>
        for (const key in obj) {
          const item = obj[key]
          if (item === undefined || typeof item === 'function') continue
          this.#writeString(key)
          this.#writeValue(item, depth + 1)
          count++
          if (this.#overflow) return
        }
        this.#u32[countAt >>> 2] = count
        return
      }
    }
    this.#writeWord(ABI.TAG_NULL)
  }

  #decodeOverrides (ptr: number): MappingOverrides {
    const u32 = this.#u32
    const status = u32[ptr >>> 2]! | 0
    this.#pos = ptr + 4
    const header = this.#readPairs()
    const querystring = this.#readPairs()
    const path = this.#readPairs()
    const requestHeader = this.#readPairs()
    const responseHeader = this.#readPairs()
    const responseExtra = this.#readPairs()
    return { status: status < 0 ? null : status, header, querystring, path, requestHeader, responseHeader, responseExtra }
  }

  #readPairs (): Record<string, string> {
    const out: Record<string, string> = {}
    const n = this.#u32[this.#pos >>> 2]!
    this.#pos += 4
    for (let i = 0; i < n; i++) {
      const k = this.#readString()
      out[k] = this.#readString()
    }
    return out
  }

  #readString (): string {
    const n = this.#u32[this.#pos >>> 2]!
    const start = this.#pos + 4
    const s = utf16.decode(this.#u8.subarray(start, start + n * 2))
    this.#pos = start + ((n * 2 + 3) & ~3)
    return s
  }

  // ---- the regex import ----

  #str (ptr: number, units: number): string {
    if (units === 0) return ''
    // short strings (patterns, most inputs): fromCharCode beats TextDecoder's per-call overhead
    if (units <= 128) {
      const base = ptr >>> 1
      return String.fromCharCode.apply(null, this.#u16.subarray(base, base + units) as unknown as number[])
    }
    return utf16.decode(this.#u8.subarray(ptr, ptr + units * 2))
  }

  #hostRegex (op: number, pat: number, patUnits: number, str: number, strUnits: number,
    arg: number, argUnits: number, limit: number, out: number, outBytes: number): number {
    this.#refresh()
    const pattern = this.#str(pat, patUnits)
    const input = this.#str(str, strUnits)
    if (op === ABI.REGEX_MATCHES) {
      const re = this.#regex.whole(pattern)
      if (re === null) return ABI.REGEX_BAD_PATTERN
      re.lastIndex = 0
      return re.test(input) ? 1 : 0
    }
    const re = this.#regex.find(pattern)
    if (re === null) return ABI.REGEX_BAD_PATTERN
    if (op === ABI.REGEX_SPLIT) {
      const parts = javaSplit(input, re, limit)
      let need = 4
      for (const p of parts) need += 4 + ((p.length * 2 + 3) & ~3)
      if (need > outBytes) return -need
      let p = out
      this.#u32[p >>> 2] = parts.length
      p += 4
      for (const part of parts) {
        this.#u32[p >>> 2] = part.length
        p += 4
        const base = p >>> 1
        for (let i = 0; i < part.length; i++) this.#u16[base + i] = part.charCodeAt(i)
        p += (part.length * 2 + 3) & ~3
      }
      return need
    }
    const replaced = javaReplace(input, re, this.#str(arg, argUnits), op === ABI.REGEX_REPLACE_ALL)
    if (replaced === null) return ABI.REGEX_BAD_PATTERN
    const need = replaced.length * 2
    if (need > outBytes) return -Math.max(need, 2)
    const base = out >>> 1
    for (let i = 0; i < replaced.length; i++) this.#u16[base + i] = replaced.charCodeAt(i)
    return need
  }
}
