// x-backplane-protobuf (beside x-amazon-apigateway-integration on an operation; API
// Gateway ignores unknown x- keys on import) → ProtobufSource.
//
//   x-backplane-protobuf:
//     proto: ./protos/pets.proto     # relative to the API file; imports resolved
//     request: pets.v1.GetPetRequest # the message the (mapped) JSON body becomes
//     response: pets.v1.Pet          # the message the backend answers with
//     grpc: true                     # gRPC unary over h2c; false: application/x-protobuf over HTTP/1.1
//     discardUnknown: false          # true: unknown JSON fields are dropped, not refused
//
// The .proto files are read and parsed here, once per load (protobufjs), and their
// definitions travel to the workers as protobufjs JSON: a file that does not parse, an
// import that is not found, a type that does not resolve or a message name that is not
// defined is refused with the .proto file, its line and the reason.
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import protobuf from 'protobufjs'
import { Codes, pointerJoin } from '../../errors.js'
import { isRecord } from '../../util/is-record.js'
import { warnUnknownKeys } from '../unknown-keys.js'
import type { IntegrationSource, ProtobufSource } from '../model.js'
import type { ExtensionContext } from './integration.js'

const KEYS = ['proto', 'request', 'response', 'grpc', 'discardUnknown']
/** Imports of these are served from protobufjs's bundled well-known types, never from disk. */
const WELL_KNOWN_PREFIX = 'google/protobuf/'
/** protobufjs parse errors end with "(line N)" or "(file, line N)". */
const PARSE_LINE = /\s*\((?:[^()]*, )?line (\d+)\)\s*$/

/** One parsed set of .proto files: their texts (to see a change on reload) and the definitions. */
interface ParsedProtos {
  readonly texts: ReadonlyMap<string, string>
  readonly descriptor: Readonly<Record<string, unknown>>
  readonly root: protobuf.Root
}

/**
 * Parsed definitions by top .proto file. Operations naming the same file share one
 * descriptor object, which structured clone keeps shared in the workers (they compile it
 * once); a reload re-reads the files and reuses the entry only when no text changed.
 */
const parsedCache = new Map<string, ParsedProtos>()

export class ProtoLoadError extends Error {
  /** The .proto file at fault. */
  readonly protoFile: string
  /** 1-based line, or null when the reason has none. */
  readonly line: number | null
  constructor(protoFile: string, line: number | null, reason: string) {
    super(reason)
    this.protoFile = protoFile
    this.line = line
  }

  describe(baseDir: string): string {
    const rel = relative(baseDir, this.protoFile)
    const name = rel.startsWith('..') || isAbsolute(rel) ? this.protoFile : rel
    return `${name}${this.line === null ? '' : `:${this.line}`}: ${this.message}`
  }
}

/**
 * Where an import is looked for, nearest first: beside the importing file, then in the top
 * file's folder and each folder above it (so a tree imported as "pets/v1/x.proto" from a
 * protos/ root resolves whichever of its files is named in the API file).
 */
function importCandidates(target: string, importer: string, top: string): string[] {
  const out = [resolve(dirname(importer), target)]
  let dir = dirname(top)
  for (;;) {
    const c = resolve(dir, target)
    if (!out.includes(c)) out.push(c)
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  return out
}

/** Reads and parses `top` and everything it imports into one protobufjs Root; throws ProtoLoadError. */
export function loadProtoFiles(top: string): ParsedProtos {
  const cached = parsedCache.get(top)
  if (cached !== undefined) {
    let same = true
    for (const [file, text] of cached.texts) {
      let now: string | null = null
      try {
        now = readFileSync(file, 'utf8')
      } catch {
        // Gone since: parse again, which reports it.
      }
      if (now !== text) {
        same = false
        break
      }
    }
    if (same) return cached
  }
  const root = new protobuf.Root()
  const texts = new Map<string, string>()
  const wellKnown = new Set<string>()
  const visit = (file: string) => {
    if (texts.has(file)) return
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new ProtoLoadError(file, null, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    texts.set(file, text)
    let parsed: protobuf.IParserResult
    try {
      // keepCase: the names as written; the JSON mapping derives lowerCamelCase itself.
      parsed = protobuf.parse(text, root, { keepCase: true, alternateCommentMode: true })
    } catch (err) {
      const msg = (err as Error).message
      const m = PARSE_LINE.exec(msg)
      throw new ProtoLoadError(file, m === null ? null : Number(m[1]), m === null ? msg : msg.slice(0, m.index))
    }
    for (const imp of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      if (imp.startsWith(WELL_KNOWN_PREFIX)) {
        const json = protobuf.common.get(imp)
        if (json === null) throw new ProtoLoadError(file, lineOf(text, imp), `import "${imp}": not one of the well-known types protobufjs bundles (${Object.keys(protobuf.common).filter((k) => k !== 'get').join(', ')})`)
        if (!wellKnown.has(imp)) {
          wellKnown.add(imp)
          root.addJSON(json.nested as Record<string, protobuf.AnyNestedObject>)
        }
        continue
      }
      const found = importCandidates(imp, file, top).find((c) => {
        try {
          readFileSync(c)
          return true
        } catch {
          return false
        }
      })
      if (found === undefined) throw new ProtoLoadError(file, lineOf(text, imp), `import "${imp}" not found (looked beside the importing file, then in ${dirname(top)} and the folders above it)`)
      visit(found)
    }
  }
  visit(top)
  try {
    root.resolveAll()
  } catch (err) {
    // protobufjs: "no such Type or Enum 'Foo' in Type .pkg.Bar": find the line naming Foo.
    const msg = (err as Error).message
    const m = /no such (?:type: (\S+)|Type or Enum '([^']+)' in \w+ \.?(\S+))/.exec(msg)
    if (m === null) throw new ProtoLoadError(top, null, msg)
    const name = m[1] ?? m[2]!
    let where: [string, number | null] = [top, null]
    for (const [file, text] of texts) {
      const line = lineOf(text, name)
      if (line !== null) {
        where = [file, line]
        break
      }
    }
    throw new ProtoLoadError(where[0], where[1], `unknown type ${name}${m[3] === undefined ? '' : ` in ${m[3]}`}`)
  }
  const descriptor = Object.freeze(root.toJSON({ keepComments: false }) as Record<string, unknown>)
  const entry: ParsedProtos = { texts, descriptor, root }
  parsedCache.set(top, entry)
  return entry
}

/** The first line of `text` that holds `word` as a whole word (1-based), or null. */
function lineOf(text: string, word: string): number | null {
  const re = new RegExp(`(^|[^A-Za-z0-9_.])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_])`)
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!)) return i + 1
  return null
}

/** Checks that `name` is a message of `root`; returns the reason when it is not. */
function messageProblem(root: protobuf.Root, name: string): string | null {
  let found: protobuf.ReflectionObject | null = null
  try {
    found = root.lookup(name.startsWith('.') ? name : '.' + name)
  } catch {
    found = null
  }
  if (found instanceof protobuf.Type) return null
  if (found !== null) return `${name} is not a message (it is ${found instanceof protobuf.Service ? 'a service' : found instanceof protobuf.Enum ? 'an enum' : 'a namespace'})`
  const known: string[] = []
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type && !o.fullName.startsWith('.google.protobuf.')) known.push(o.fullName.slice(1))
      if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) walk(o as protobuf.NamespaceBase)
    }
  }
  walk(root)
  return `unknown message ${name}${known.length > 0 ? ` (the files define ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''})` : ''}`
}

/** Message types reachable from `type` (itself included). */
function reachableTypes(type: protobuf.Type, out: Set<protobuf.Type> = new Set()): Set<protobuf.Type> {
  if (out.has(type)) return out
  out.add(type)
  for (const f of type.fieldsArray) {
    f.resolve()
    if (f.resolvedType instanceof protobuf.Type) reachableTypes(f.resolvedType, out)
  }
  return out
}

export function normalizeProtobuf(ctx: ExtensionContext, raw: unknown, pointer: string, integration: IntegrationSource | null): ProtobufSource | null {
  const err = (ptr: string, message: string) => ctx.problems.push({ code: Codes.PROTOBUF, file: ctx.file, pointer: ptr, message, severity: 'error' })
  if (!isRecord(raw)) {
    err(pointer, 'x-backplane-protobuf must be an object with proto, request, response and grpc')
    return null
  }
  warnUnknownKeys(raw, KEYS, ctx.file, pointer, ctx.problems)
  let ok = true
  const str = (key: string): string | null => {
    const v = raw[key]
    if (typeof v === 'string' && v.trim() !== '') return v.trim()
    err(pointerJoin(pointer, key), `${key} is required: ${key === 'proto' ? 'the .proto file, relative to the API file' : 'a fully qualified message name such as pets.v1.Pet'}`)
    ok = false
    return null
  }
  const proto = str('proto')
  const request = str('request')
  const response = str('response')
  const bool = (key: string, dflt: boolean | null): boolean => {
    const v = raw[key]
    if (typeof v === 'boolean') return v
    if (v === undefined && dflt !== null) return dflt
    err(pointerJoin(pointer, key), `${key} must be true or false`)
    ok = false
    return false
  }
  // No default for grpc: the transport must be said, the two are not interchangeable.
  const grpc = bool('grpc', null)
  const discardUnknown = bool('discardUnknown', false)

  if (integration === null) {
    err(pointer, 'x-backplane-protobuf needs an x-amazon-apigateway-integration of type http beside it')
    ok = false
  } else if (integration.type !== 'HTTP') {
    err(pointer, `x-backplane-protobuf transcodes http integrations only (the integration response works on the decoded JSON); this one is ${integration.type.toLowerCase()}`)
    ok = false
  } else if (grpc && integration.httpMethod !== 'POST') {
    err(pointerJoin(integration.pointer, 'httpMethod'), 'gRPC calls are HTTP/2 POSTs: httpMethod must be POST')
    ok = false
  } else if (integration.httpMethod === 'GET' || integration.httpMethod === 'HEAD' || integration.httpMethod === 'ANY') {
    err(pointerJoin(integration.pointer, 'httpMethod'), `the request message travels in the body: httpMethod must be POST, PUT, PATCH or DELETE, not ${integration.httpMethod}`)
    ok = false
  }
  if (proto === null || !ok) return null

  const apiDir = dirname(ctx.file)
  const protoFile = resolve(apiDir, proto)
  let parsed: ParsedProtos
  try {
    parsed = loadProtoFiles(protoFile)
  } catch (e) {
    if (!(e instanceof ProtoLoadError)) throw e
    err(pointerJoin(pointer, 'proto'), e.describe(apiDir))
    return null
  }
  for (const [key, name] of [['request', request], ['response', response]] as const) {
    const problem = messageProblem(parsed.root, name!)
    if (problem !== null) {
      err(pointerJoin(pointer, key), `${relative(apiDir, protoFile)}: ${problem}`)
      ok = false
      continue
    }
    // protobufjs writes a map<bool, V> key "false" as true (it encodes the JSON key string): refuse rather than send wrong data.
    if (key === 'request') {
      for (const t of reachableTypes(parsed.root.lookupType(name!))) {
        for (const f of t.fieldsArray) {
          if (f instanceof protobuf.MapField && f.keyType === 'bool') {
            err(pointerJoin(pointer, key), `${t.fullName.slice(1)}.${f.name}: map fields with bool keys cannot be encoded faithfully by protobufjs; use string keys`)
            ok = false
          }
        }
      }
    }
  }
  if (!ok) return null
  return {
    protoFile,
    descriptor: parsed.descriptor,
    request: request!.replace(/^\./, ''),
    response: response!.replace(/^\./, ''),
    grpc,
    discardUnknown,
    pointer,
  }
}
