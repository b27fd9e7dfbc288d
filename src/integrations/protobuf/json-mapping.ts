// Protobuf's canonical JSON mapping (protobuf.dev "ProtoJSON Format"), both ways, around
// protobufjs's fromObject/toObject:
//
//   request:  JSON value → readMessage (checks every field, names the one at fault, turns
//             JSON names, well-known types and base64 into protobufjs's object form)
//             → Type.fromObject → Type.encode
//   response: Type.decode → Type.toObject (longs/enums/bytes as strings) → writeMessage
//             (JSON names, well-known types, NaN/Infinity, float32 digits, defaults omitted)
//
// Where protobufjs falls short and this file takes over: fromObject coerces instead of
// refusing ("abc" → 0 for an int32) and ignores unknown fields; neither side knows
// Timestamp, Duration, FieldMask, Struct/Value/ListValue or the wrappers (protobufjs
// wraps only Any, keeping no type URL prefix, so Any is done here too); toObject keeps a
// 64-bit map key as protobufjs's internal 8-byte hash; a float32 comes out with double's
// digits (0.1 → 0.10000000149011612).
//
// Plans (one per message type) are built at compile time; per request only the walk runs.
import protobuf from 'protobufjs'

/** A value that does not fit the message (request: 400) or an answer that breaks the mapping (response: 502). */
export class MappingError extends Error {
  /** Where: JSON names joined by '.', array indexes as [i]; '' for the message itself. */
  readonly path: string
  readonly reason: string
  constructor(path: string, reason: string) {
    super(path === '' ? reason : `${path}: ${reason}`)
    this.name = 'MappingError'
    this.path = path
    this.reason = reason
  }
}

export const enum Kind {
  Double, Float, Int32, Uint32, Int64, Uint64, Bool, String, Bytes, Enum, Message,
}

/** Message types whose JSON form is not an object of their fields. */
export const enum Wkt {
  None, Timestamp, Duration, FieldMask, Struct, Value, ListValue, Any, Wrapper,
}

const SCALARS: Readonly<Record<string, Kind>> = {
  double: Kind.Double, float: Kind.Float,
  int32: Kind.Int32, sint32: Kind.Int32, sfixed32: Kind.Int32,
  uint32: Kind.Uint32, fixed32: Kind.Uint32,
  int64: Kind.Int64, sint64: Kind.Int64, sfixed64: Kind.Int64,
  uint64: Kind.Uint64, fixed64: Kind.Uint64,
  bool: Kind.Bool, string: Kind.String, bytes: Kind.Bytes,
}
const WKTS: Readonly<Record<string, Wkt>> = {
  '.google.protobuf.Timestamp': Wkt.Timestamp,
  '.google.protobuf.Duration': Wkt.Duration,
  '.google.protobuf.FieldMask': Wkt.FieldMask,
  '.google.protobuf.Struct': Wkt.Struct,
  '.google.protobuf.Value': Wkt.Value,
  '.google.protobuf.ListValue': Wkt.ListValue,
  '.google.protobuf.Any': Wkt.Any,
  '.google.protobuf.DoubleValue': Wkt.Wrapper,
  '.google.protobuf.FloatValue': Wkt.Wrapper,
  '.google.protobuf.Int64Value': Wkt.Wrapper,
  '.google.protobuf.UInt64Value': Wkt.Wrapper,
  '.google.protobuf.Int32Value': Wkt.Wrapper,
  '.google.protobuf.UInt32Value': Wkt.Wrapper,
  '.google.protobuf.BoolValue': Wkt.Wrapper,
  '.google.protobuf.StringValue': Wkt.Wrapper,
  '.google.protobuf.BytesValue': Wkt.Wrapper,
}
const NULL_VALUE = '.google.protobuf.NullValue'

const INT32_MIN = -2147483648
const INT32_MAX = 2147483647
const UINT32_MAX = 4294967295
const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n
const UINT64_MAX = (1n << 64n) - 1n
const FLOAT_MAX = 3.4028234663852886e38
/** Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z. */
const TIMESTAMP_MIN_SECONDS = -62135596800
const TIMESTAMP_MAX_SECONDS = 253402300799
/** Duration's range: ±10 000 years. */
const DURATION_MAX_SECONDS = 315576000000
const INTEGER_TEXT = /^-?\d+$/
const NUMBER_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const BASE64_TEXT = /^[A-Za-z0-9+/_-]*={0,2}$/
const TIMESTAMP_TEXT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/
const DURATION_TEXT = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/

export interface FieldPlan {
  /** The name in the .proto file: protobufjs's object key. */
  readonly name: string
  /** json_name, else the name in lowerCamelCase. */
  readonly jsonName: string
  readonly kind: Kind
  readonly repeated: boolean
  readonly map: boolean
  /** Map key kind (string, integers, bool); Kind.String for non-maps. */
  readonly keyKind: Kind
  /** Explicit presence (oneof member, proto3 optional, message): a default value is still written. */
  readonly presence: boolean
  /** The oneof it belongs to (not proto3 optional's synthetic one), or null. */
  readonly oneof: string | null
  readonly enumType: protobuf.Enum | null
  /** Enum is google.protobuf.NullValue: JSON null. */
  readonly nullValue: boolean
  /** Set once all plans exist (types may nest themselves). */
  message: MessagePlan | null
}

export interface MessagePlan {
  readonly type: protobuf.Type
  /** Without the leading dot, for messages. */
  readonly fullName: string
  readonly wkt: Wkt
  readonly fields: readonly FieldPlan[]
  /** Proto names and JSON names → field. */
  readonly byName: ReadonlyMap<string, FieldPlan>
}

export interface ReadOptions {
  /** Drop unknown fields and unknown enum names instead of refusing them. */
  readonly discardUnknown: boolean
}

const plans = new WeakMap<protobuf.Type, MessagePlan>()

/** lowerCamelCase as protoc derives json_name: drop each '_' and capitalize what follows. */
export function jsonNameOf(name: string): string {
  let out = ''
  let upper = false
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!
    if (c === '_') upper = true
    else {
      out += upper ? c.toUpperCase() : c
      upper = false
    }
  }
  return out
}

/** The plan of `type` and of every type it reaches; built once (compile time). */
export function planFor(type: protobuf.Type): MessagePlan {
  const known = plans.get(type)
  if (known !== undefined) return known
  type.setup() // generate protobufjs's encode/decode/fromObject/toObject now, not on a first request
  const fields: FieldPlan[] = []
  const byName = new Map<string, FieldPlan>()
  const plan: MessagePlan = { type, fullName: type.fullName.slice(1), wkt: WKTS[type.fullName] ?? Wkt.None, fields, byName }
  plans.set(type, plan)
  const pending: [FieldPlan, protobuf.Type][] = []
  for (const f of type.fieldsArray) {
    f.resolve()
    const resolved = f.resolvedType
    const kind = resolved instanceof protobuf.Type ? Kind.Message : resolved instanceof protobuf.Enum ? Kind.Enum : SCALARS[f.type]
    if (kind === undefined) throw new Error(`${type.fullName}.${f.name}: unsupported field type ${f.type}`)
    const isMap = f instanceof protobuf.MapField
    const synthetic = f.options?.proto3_optional === true
    const fp: FieldPlan = {
      name: f.name,
      jsonName: typeof f.options?.json_name === 'string' ? f.options.json_name : jsonNameOf(f.name),
      kind,
      repeated: f.repeated && !isMap,
      map: isMap,
      keyKind: isMap ? SCALARS[(f as protobuf.MapField).keyType] ?? Kind.String : Kind.String,
      presence: (f.partOf !== null && f.partOf !== undefined) || (kind === Kind.Message && !isMap && !f.repeated),
      oneof: f.partOf !== null && f.partOf !== undefined && !synthetic ? f.partOf.name : null,
      enumType: resolved instanceof protobuf.Enum ? resolved : null,
      nullValue: resolved instanceof protobuf.Enum && resolved.fullName === NULL_VALUE,
      message: null,
    }
    fields.push(fp)
    byName.set(fp.name, fp)
    byName.set(fp.jsonName, fp)
    if (resolved instanceof protobuf.Type) pending.push([fp, resolved])
  }
  for (const [fp, t] of pending) fp.message = planFor(t)
  for (const fp of fields) Object.freeze(fp)
  Object.freeze(fields)
  return Object.freeze(plan)
}

// ---------------------------------------------------------------------------------------
// JSON → protobufjs object form (the request).

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)
  return String(v)
}

function join(path: string, key: string): string {
  return path === '' ? key : path + '.' + key
}

/** Marks a value dropped under discardUnknown (an unknown enum name). */
const DROPPED = Symbol('dropped')

/** The field names of a well-known type, by field number (protobufjs's bundled definitions spell some in camelCase). */
function nameById(plan: MessagePlan, id: number): string {
  return plan.type.fieldsById[id]!.name
}

/** Reads a JSON object into `plan`'s message, as protobufjs's fromObject takes it. */
export function readMessage(plan: MessagePlan, v: unknown, path: string, opts: ReadOptions): Record<string, unknown> {
  if (plan.wkt !== Wkt.None) return readWkt(plan, v, path, opts)
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MappingError(path, `expected an object (${plan.fullName}), got ${describe(v)}`)
  const out: Record<string, unknown> = {}
  let oneofs: Map<string, string> | null = null
  const obj = v as Record<string, unknown>
  for (const key in obj) {
    const f = plan.byName.get(key)
    const at = join(path, key)
    if (f === undefined) {
      if (opts.discardUnknown) continue
      throw new MappingError(at, `unknown field: ${plan.fullName} has no field "${key}"`)
    }
    const val = obj[key]
    // The mapping: null is accepted for every field and means the default (unset) — except in a google.protobuf.Value, where it is the null value.
    if (val === null && !(f.message !== null && f.message.wkt === Wkt.Value && !f.repeated && !f.map) && !f.nullValue) continue
    if (Object.hasOwn(out, f.name)) throw new MappingError(at, `field ${f.name} is given twice (by its proto name and its JSON name)`)
    if (f.oneof !== null) {
      oneofs ??= new Map()
      const other = oneofs.get(f.oneof)
      if (other !== undefined) throw new MappingError(at, `oneof ${f.oneof} already has ${other} set: at most one of its fields may be given`)
      oneofs.set(f.oneof, key)
    }
    const r = readField(f, val, at, opts)
    if (r !== DROPPED) out[f.name] = r
  }
  return out
}

function readField(f: FieldPlan, v: unknown, path: string, opts: ReadOptions): unknown {
  if (f.map) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MappingError(path, `expected an object (a map), got ${describe(v)}`)
    const out: Record<string, unknown> = {}
    const obj = v as Record<string, unknown>
    for (const k in obj) {
      const at = `${path}[${JSON.stringify(k)}]`
      const key = readMapKey(f.keyKind, k, at)
      const item = obj[k]
      if (item === null && !(f.message !== null && f.message.wkt === Wkt.Value) && !f.nullValue) throw new MappingError(at, 'null is not a map value')
      const r = readValue(f, item, at, opts)
      if (r !== DROPPED) out[key] = r
    }
    return out
  }
  if (f.repeated) {
    if (!Array.isArray(v)) throw new MappingError(path, `expected an array, got ${describe(v)}`)
    const out: unknown[] = []
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i]
      const at = `${path}[${i}]`
      if (item === null && !(f.message !== null && f.message.wkt === Wkt.Value) && !f.nullValue) throw new MappingError(at, 'null is not an element of a repeated field')
      const r = readValue(f, item, at, opts)
      if (r !== DROPPED) out.push(r)
    }
    return out
  }
  return readValue(f, v, path, opts)
}

function readMapKey(kind: Kind, k: string, path: string): string {
  switch (kind) {
    case Kind.String:
      return k
    case Kind.Bool:
      if (k === 'true' || k === 'false') return k
      throw new MappingError(path, 'a bool map key must be "true" or "false"')
    case Kind.Int32:
    case Kind.Uint32:
      return String(readInteger32(kind, k, path))
    default:
      return readInteger64(kind, k, path)
  }
}

function readInteger32(kind: Kind, v: unknown, path: string): number {
  const min = kind === Kind.Int32 ? INT32_MIN : 0
  const max = kind === Kind.Int32 ? INT32_MAX : UINT32_MAX
  const what = kind === Kind.Int32 ? 'an int32' : 'a uint32'
  let n: number
  if (typeof v === 'number') n = v
  else if (typeof v === 'string' && NUMBER_TEXT.test(v)) n = Number(v)
  else throw new MappingError(path, `expected ${what} (a number or a numeric string), got ${describe(v)}`)
  if (!Number.isInteger(n)) throw new MappingError(path, `expected ${what}, got a fraction: ${describe(v)}`)
  if (n < min || n > max) throw new MappingError(path, `${describe(v)} is out of range for ${what}`)
  return n
}

/** 64-bit integers: a number or a decimal string (the mapping writes them as strings); returned as a decimal string for Long. */
function readInteger64(kind: Kind, v: unknown, path: string): string {
  const unsigned = kind === Kind.Uint64
  const what = unsigned ? 'a uint64' : 'an int64'
  let b: bigint
  if (typeof v === 'string' && INTEGER_TEXT.test(v)) b = BigInt(v)
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v)
  else if (typeof v === 'string' && NUMBER_TEXT.test(v) && Number.isInteger(Number(v)) && Number.isSafeInteger(Number(v))) b = BigInt(Number(v))
  else if (typeof v === 'number' || (typeof v === 'string' && NUMBER_TEXT.test(v))) throw new MappingError(path, `expected ${what}, got a fraction: ${describe(v)}`)
  else throw new MappingError(path, `expected ${what} (a decimal string or a number), got ${describe(v)}`)
  if (unsigned ? b < 0n || b > UINT64_MAX : b < INT64_MIN || b > INT64_MAX) throw new MappingError(path, `${describe(v)} is out of range for ${what}`)
  return b.toString()
}

function readFloat(kind: Kind, v: unknown, path: string): number {
  let n: number
  if (typeof v === 'number') n = v
  else if (v === 'NaN') return NaN
  else if (v === 'Infinity') return Infinity
  else if (v === '-Infinity') return -Infinity
  else if (typeof v === 'string' && NUMBER_TEXT.test(v)) n = Number(v)
  else throw new MappingError(path, `expected a number (or "NaN", "Infinity", "-Infinity"), got ${describe(v)}`)
  if (!Number.isFinite(n) || (kind === Kind.Float && Math.abs(n) > FLOAT_MAX)) throw new MappingError(path, `${describe(v)} is out of range for a ${kind === Kind.Float ? 'float' : 'double'}`)
  return n
}

/** Standard or URL-safe base64, padded or not. */
function readBytes(v: unknown, path: string): Buffer {
  if (typeof v !== 'string' || !BASE64_TEXT.test(v) || v.replace(/=+$/, '').length % 4 === 1) throw new MappingError(path, `expected base64 bytes, got ${describe(v)}`)
  return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64')
}

function readEnum(f: FieldPlan, v: unknown, path: string, opts: ReadOptions): number | typeof DROPPED {
  const e = f.enumType!
  if (f.nullValue && (v === null || v === 'NULL_VALUE')) return 0
  if (typeof v === 'string') {
    const n = e.values[v]
    if (n !== undefined) return n
    if (opts.discardUnknown) return DROPPED
    throw new MappingError(path, `unknown value ${describe(v)} of enum ${e.fullName.slice(1)} (one of ${Object.keys(e.values).join(', ')})`)
  }
  // Enums are open: any int32 is accepted, named or not.
  if (typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) return v
  throw new MappingError(path, `expected a value name of enum ${e.fullName.slice(1)} or an integer, got ${describe(v)}`)
}

function readValue(f: FieldPlan, v: unknown, path: string, opts: ReadOptions): unknown {
  switch (f.kind) {
    case Kind.Double:
    case Kind.Float:
      return readFloat(f.kind, v, path)
    case Kind.Int32:
    case Kind.Uint32:
      return readInteger32(f.kind, v, path)
    case Kind.Int64:
    case Kind.Uint64:
      return readInteger64(f.kind, v, path)
    case Kind.Bool:
      if (typeof v === 'boolean') return v
      throw new MappingError(path, `expected true or false, got ${describe(v)}`)
    case Kind.String:
      if (typeof v === 'string') return v
      throw new MappingError(path, `expected a string, got ${describe(v)}`)
    case Kind.Bytes:
      return readBytes(v, path)
    case Kind.Enum:
      return readEnum(f, v, path, opts)
    case Kind.Message:
      return readMessage(f.message!, v, path, opts)
  }
}

function readTimestamp(v: unknown, path: string): { seconds: string; nanos: number } {
  const m = typeof v === 'string' ? TIMESTAMP_TEXT.exec(v) : null
  if (m === null) throw new MappingError(path, `expected an RFC 3339 timestamp such as "1972-01-01T10:00:20.021Z", got ${describe(v)}`)
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]))
  const date = new Date(0)
  date.setUTCFullYear(y!, mo! - 1, d!) // not Date.UTC: it maps years 0-99 to 1900-1999
  date.setUTCHours(h!, mi!, s!, 0)
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo! - 1 || date.getUTCDate() !== d || h! > 23 || mi! > 59 || s! > 59) {
    throw new MappingError(path, `${describe(v)} is not a valid date and time`)
  }
  let seconds = Math.floor(date.getTime() / 1000)
  if (m[8] === undefined) seconds -= (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 3600 + Number(m[11]) * 60)
  if (seconds < TIMESTAMP_MIN_SECONDS || seconds > TIMESTAMP_MAX_SECONDS) throw new MappingError(path, `${describe(v)} is outside 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z`)
  return { seconds: String(seconds), nanos: m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0')) }
}

function readDuration(v: unknown, path: string): { seconds: string; nanos: number } {
  const m = typeof v === 'string' ? DURATION_TEXT.exec(v) : null
  if (m === null) throw new MappingError(path, `expected a duration in seconds with an "s" suffix such as "1.5s", got ${describe(v)}`)
  const seconds = Number(m[2])
  if (seconds > DURATION_MAX_SECONDS) throw new MappingError(path, `${describe(v)} is out of range for a duration (±${DURATION_MAX_SECONDS}s)`)
  const nanos = m[3] === undefined ? 0 : Number(m[3].padEnd(9, '0'))
  const sign = m[1] === '-' ? -1 : 1
  // Both parts carry the sign; "-0.5s" has seconds 0 and nanos -500000000.
  return { seconds: String(sign * seconds === 0 ? 0 : sign * seconds), nanos: nanos === 0 ? 0 : sign * nanos }
}

function readFieldMask(v: unknown, path: string): string[] {
  if (typeof v !== 'string') throw new MappingError(path, `expected a field mask such as "user.displayName,photo", got ${describe(v)}`)
  if (v === '') return []
  return v.split(',').map((p) => {
    if (p.includes('_') || !/^[A-Za-z0-9.]+$/.test(p)) throw new MappingError(path, `field mask path ${describe(p)} must be lowerCamelCase names joined by "."`)
    return p.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())
  })
}

/** Any JSON value → google.protobuf.Value's object form. */
function readJsonValue(plan: MessagePlan, v: unknown, path: string): Record<string, unknown> {
  if (v === null) return { [nameById(plan, 1)]: 0 }
  switch (typeof v) {
    case 'number':
      return { [nameById(plan, 2)]: v }
    case 'string':
      return { [nameById(plan, 3)]: v }
    case 'boolean':
      return { [nameById(plan, 4)]: v }
    case 'object': {
      const structPlan = plan.byName.get(nameById(plan, 5))!.message!
      const listPlan = plan.byName.get(nameById(plan, 6))!.message!
      if (Array.isArray(v)) return { [nameById(plan, 6)]: readListValue(listPlan, plan, v, path) }
      return { [nameById(plan, 5)]: readStruct(structPlan, plan, v, path) }
    }
    default:
      throw new MappingError(path, `not a JSON value: ${describe(v)}`)
  }
}

function readStruct(plan: MessagePlan, valuePlan: MessagePlan, v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MappingError(path, `expected an object (google.protobuf.Struct), got ${describe(v)}`)
  const fields: Record<string, unknown> = {}
  const obj = v as Record<string, unknown>
  for (const k in obj) fields[k] = readJsonValue(valuePlan, obj[k], join(path, k))
  return { [nameById(plan, 1)]: fields }
}

function readListValue(plan: MessagePlan, valuePlan: MessagePlan, v: unknown, path: string): Record<string, unknown> {
  if (!Array.isArray(v)) throw new MappingError(path, `expected an array (google.protobuf.ListValue), got ${describe(v)}`)
  return { [nameById(plan, 1)]: v.map((item: unknown, i) => readJsonValue(valuePlan, item, `${path}[${i}]`)) }
}

/** The message type an Any's type URL names (the part after the last '/'). */
function anyTarget(plan: MessagePlan, url: string, path: string): MessagePlan {
  const name = url.slice(url.lastIndexOf('/') + 1)
  let t: protobuf.ReflectionObject | null = null
  try {
    t = plan.type.root.lookup('.' + name)
  } catch {
    t = null
  }
  if (!(t instanceof protobuf.Type)) throw new MappingError(path, `the type URL ${JSON.stringify(url)} names no message of the .proto files`)
  return planFor(t)
}

function readWkt(plan: MessagePlan, v: unknown, path: string, opts: ReadOptions): Record<string, unknown> {
  switch (plan.wkt) {
    case Wkt.Timestamp:
    case Wkt.Duration: {
      const t = plan.wkt === Wkt.Timestamp ? readTimestamp(v, path) : readDuration(v, path)
      return { [nameById(plan, 1)]: t.seconds, [nameById(plan, 2)]: t.nanos }
    }
    case Wkt.FieldMask:
      return { [nameById(plan, 1)]: readFieldMask(v, path) }
    case Wkt.Wrapper: {
      const f = plan.fields[0]!
      return { [f.name]: readValue(f, v, path, opts) }
    }
    case Wkt.Struct:
      return readStruct(plan, plan.fields[0]!.message!, v, path)
    case Wkt.ListValue:
      return readListValue(plan, plan.fields[0]!.message!, v, path)
    case Wkt.Value:
      return readJsonValue(plan, v, path)
    case Wkt.Any: {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new MappingError(path, `expected an object with "@type" (google.protobuf.Any), got ${describe(v)}`)
      const obj = v as Record<string, unknown>
      const url = obj['@type']
      if (url === undefined && Object.keys(obj).length === 0) return {}
      if (typeof url !== 'string' || url === '') throw new MappingError(join(path, '@type'), 'google.protobuf.Any needs a "@type" type URL')
      const inner = anyTarget(plan, url, join(path, '@type'))
      let innerObject: Record<string, unknown>
      if (inner.wkt !== Wkt.None) {
        // A well-known type inside Any keeps its own JSON form under "value".
        for (const k in obj) if (k !== '@type' && k !== 'value') throw new MappingError(join(path, k), `unknown field: an Any holding ${inner.fullName} has only "@type" and "value"`)
        innerObject = readWkt(inner, obj.value, join(path, 'value'), opts)
      } else {
        const rest: Record<string, unknown> = {}
        for (const k in obj) if (k !== '@type') rest[k] = obj[k]
        innerObject = readMessage(inner, rest, path, opts)
      }
      const bytes = inner.type.encode(inner.type.fromObject(innerObject)).finish()
      return { [nameById(plan, 1)]: url, [nameById(plan, 2)]: bytes }
    }
    default:
      return readMessage(plan, v, path, opts)
  }
}

/**
 * A query string or path parameter value for the field `dotted` names (proto or JSON names,
 * '.' into nested messages), set in `out` as the grpc-gateway does. Returns false when the
 * name is no field of the message (such parameters are not the message's: ignored).
 * `keepExisting`: a field the body already set stays (query parameters fill, path parameters override).
 */
export function setFromParameter(plan: MessagePlan, out: Record<string, unknown>, dotted: string, values: readonly string[], keepExisting: boolean, opts: ReadOptions): boolean {
  // A plain name (the common case): one lookup, no split.
  if (dotted.indexOf('.') === -1) {
    const f = plan.wkt === Wkt.None ? plan.byName.get(dotted) : undefined
    if (f === undefined) return false
    if (f.map) throw new MappingError(dotted, 'a map field cannot be set from a parameter')
    if (keepExisting && Object.hasOwn(out, f.name)) return true
    setLeaf(f, out, dotted, values, opts)
    return true
  }
  const names = dotted.split('.')
  // Resolve the whole path first: a name that is no field anywhere on it leaves `out` alone.
  const path: FieldPlan[] = []
  let p = plan
  for (let i = 0; i < names.length; i++) {
    const f = p.wkt === Wkt.None ? p.byName.get(names[i]!) : undefined
    if (f === undefined) return false
    path.push(f)
    if (i === names.length - 1) break
    if (f.kind !== Kind.Message || f.repeated || f.map || f.message!.wkt !== Wkt.None) throw new MappingError(dotted, `${names.slice(0, i + 1).join('.')} is not a singular message field: a parameter cannot reach inside it`)
    p = f.message!
  }
  const leaf = path[path.length - 1]!
  if (leaf.map) throw new MappingError(dotted, 'a map field cannot be set from a parameter')
  // Query parameters fill only what the body left unset (its top-level field decides).
  if (keepExisting && Object.hasOwn(out, path[0]!.name)) return true
  let target = out
  for (let i = 0; i < path.length - 1; i++) {
    let next = target[path[i]!.name] as Record<string, unknown> | undefined
    if (next === undefined) target[path[i]!.name] = next = {}
    target = next
  }
  setLeaf(leaf, target, dotted, values, opts)
  return true
}

/** Sets `leaf` of `target` from a parameter's values (a repeated field takes them all, else the last one). */
function setLeaf(leaf: FieldPlan, target: Record<string, unknown>, dotted: string, values: readonly string[], opts: ReadOptions): void {
  if (leaf.repeated) {
    const list: unknown[] = []
    for (let i = 0; i < values.length; i++) {
      const r = readParameterValue(leaf, values[i]!, dotted, opts)
      if (r !== DROPPED) list.push(r)
    }
    target[leaf.name] = list
  } else {
    const r = readParameterValue(leaf, values[values.length - 1]!, dotted, opts)
    if (r !== DROPPED) target[leaf.name] = r
  }
}

/** A parameter's text as a value of `f` (what strconv and protojson accept for grpc-gateway). */
function readParameterValue(f: FieldPlan, v: string, path: string, opts: ReadOptions): unknown {
  switch (f.kind) {
    case Kind.Bool:
      if (v === 'true' || v === '1') return true
      if (v === 'false' || v === '0') return false
      throw new MappingError(path, `expected true or false, got ${describe(v)}`)
    case Kind.Enum:
      return readEnum(f, INTEGER_TEXT.test(v) ? Number(v) : v, path, opts)
    case Kind.Message: {
      const m = f.message!
      if (m.wkt === Wkt.Timestamp || m.wkt === Wkt.Duration || m.wkt === Wkt.FieldMask) return readWkt(m, v, path, opts)
      if (m.wkt === Wkt.Wrapper) return { [m.fields[0]!.name]: readParameterValue(m.fields[0]!, v, path, opts) }
      throw new MappingError(path, `${m.fullName} cannot be set from a parameter`)
    }
    default:
      return readValue(f, v, path, opts)
  }
}

// ---------------------------------------------------------------------------------------
// protobufjs toObject form → JSON (the backend's answer).

/** toObject's options: 64-bit integers, enums and bytes as the mapping writes them (json: false, Any is done here). */
export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = Object.freeze({ longs: String, enums: String, bytes: String, defaults: false, arrays: false, objects: false, oneofs: false, json: false })

/** The shortest decimal that reads back as the same float32 (protobuf writes floats with float32 precision). */
function float32Text(n: number): number {
  for (let p = 1; p < 10; p++) {
    const c = Number(n.toPrecision(p))
    if (Math.fround(c) === n) return c
  }
  return n
}

function writeFloat(kind: Kind, n: number): number | string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  return kind === Kind.Float ? float32Text(n) : n
}

function isDefault(f: FieldPlan, v: unknown): boolean {
  if (f.map) return Object.keys(v as object).length === 0
  if (f.repeated) return (v as unknown[]).length === 0
  switch (f.kind) {
    case Kind.Enum:
      return v === 0 || v === f.enumType!.valuesById[0]
    case Kind.Int64:
    case Kind.Uint64:
      return v === '0' || v === 0
    case Kind.Message:
      return false
    default:
      return v === 0 || v === '' || v === false
  }
}

/** The decimal text of a 64-bit map key, which protobufjs keeps as its 8-character hash. */
function mapKey64(kind: Kind, k: string): string {
  if (k.length === 8 && !INTEGER_TEXT.test(k)) return protobuf.util.LongBits.fromHash(k).toLong(kind === Kind.Uint64).toString()
  return k
}

function writeValue(f: FieldPlan, v: unknown, path: string): unknown {
  switch (f.kind) {
    case Kind.Double:
    case Kind.Float:
      return writeFloat(f.kind, v as number)
    case Kind.Int64:
    case Kind.Uint64:
      return typeof v === 'string' ? v : String(v)
    case Kind.Enum:
      return f.nullValue ? null : v
    case Kind.Message:
      return writeMessage(f.message!, v as Record<string, unknown>, path)
    default:
      return v
  }
}

/** A toObject result of `plan`'s message → its canonical JSON value. */
export function writeMessage(plan: MessagePlan, obj: Record<string, unknown>, path: string): unknown {
  if (plan.wkt !== Wkt.None) return writeWkt(plan, obj, path)
  const out: Record<string, unknown> = {}
  const fields = plan.fields
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!
    const v = obj[f.name]
    if (v === undefined || v === null) continue
    // Implicit presence (proto3 scalars, repeated, maps): the default value is not written.
    if (!f.presence && isDefault(f, v)) continue
    // Only a message value can fail (its errors name the path): scalars get no path string built.
    const nested = f.kind === Kind.Message
    const at = nested ? join(path, f.jsonName) : path
    if (f.map) {
      const m: Record<string, unknown> = {}
      const src = v as Record<string, unknown>
      for (const k in src) m[f.keyKind === Kind.Int64 || f.keyKind === Kind.Uint64 ? mapKey64(f.keyKind, k) : k] = writeValue(f, src[k], nested ? `${at}[${JSON.stringify(k)}]` : at)
      out[f.jsonName] = m
    } else if (f.repeated) {
      const src = v as unknown[]
      const list = new Array<unknown>(src.length)
      for (let j = 0; j < src.length; j++) list[j] = writeValue(f, src[j], nested ? `${at}[${j}]` : at)
      out[f.jsonName] = list
    } else out[f.jsonName] = writeValue(f, v, at)
  }
  return out
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n)
}

/** 0, 3, 6 or 9 fractional digits, as the mapping writes them. */
function fraction(nanos: number): string {
  if (nanos === 0) return ''
  if (nanos % 1_000_000 === 0) return '.' + String(nanos / 1_000_000).padStart(3, '0')
  if (nanos % 1_000 === 0) return '.' + String(nanos / 1_000).padStart(6, '0')
  return '.' + String(nanos).padStart(9, '0')
}

function writeTimestamp(secondsText: unknown, nanosValue: unknown, path: string): string {
  const seconds = Number(secondsText ?? 0)
  const nanos = Number(nanosValue ?? 0)
  if (!Number.isInteger(seconds) || seconds < TIMESTAMP_MIN_SECONDS || seconds > TIMESTAMP_MAX_SECONDS) throw new MappingError(path, `google.protobuf.Timestamp seconds ${String(secondsText)} is outside 0001-01-01 to 9999-12-31`)
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) throw new MappingError(path, `google.protobuf.Timestamp nanos ${nanos} is outside 0 to 999999999`)
  const d = new Date(seconds * 1000)
  const y = d.getUTCFullYear()
  return `${String(y).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}${fraction(nanos)}Z`
}

function writeDuration(secondsText: unknown, nanosValue: unknown, path: string): string {
  const seconds = Number(secondsText ?? 0)
  const nanos = Number(nanosValue ?? 0)
  if (!Number.isInteger(seconds) || Math.abs(seconds) > DURATION_MAX_SECONDS) throw new MappingError(path, `google.protobuf.Duration seconds ${String(secondsText)} is out of range`)
  if (!Number.isInteger(nanos) || Math.abs(nanos) > 999_999_999 || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0)) throw new MappingError(path, `google.protobuf.Duration nanos ${nanos} does not fit seconds ${seconds}`)
  const negative = seconds < 0 || nanos < 0
  return `${negative ? '-' : ''}${Math.abs(seconds)}${fraction(Math.abs(nanos))}s`
}

function writeJsonValue(plan: MessagePlan, obj: Record<string, unknown>, path: string): unknown {
  if (obj[nameById(plan, 1)] !== undefined) return null
  const n = obj[nameById(plan, 2)]
  if (n !== undefined) {
    if (!Number.isFinite(n)) throw new MappingError(path, 'google.protobuf.Value number_value NaN or Infinity has no JSON form')
    return n
  }
  const s = obj[nameById(plan, 3)]
  if (s !== undefined) return s
  const b = obj[nameById(plan, 4)]
  if (b !== undefined) return b
  const st = obj[nameById(plan, 5)]
  if (st !== undefined) return writeStruct(plan.byName.get(nameById(plan, 5))!.message!, plan, st as Record<string, unknown>, path)
  const l = obj[nameById(plan, 6)]
  if (l !== undefined) return writeListValue(plan.byName.get(nameById(plan, 6))!.message!, plan, l as Record<string, unknown>, path)
  throw new MappingError(path, 'google.protobuf.Value has none of its kinds set')
}

function writeStruct(plan: MessagePlan, valuePlan: MessagePlan, obj: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const fields = (obj[nameById(plan, 1)] ?? {}) as Record<string, Record<string, unknown>>
  for (const k in fields) out[k] = writeJsonValue(valuePlan, fields[k]!, join(path, k))
  return out
}

function writeListValue(plan: MessagePlan, valuePlan: MessagePlan, obj: Record<string, unknown>, path: string): unknown[] {
  const values = (obj[nameById(plan, 1)] ?? []) as Record<string, unknown>[]
  return values.map((v, i) => writeJsonValue(valuePlan, v, `${path}[${i}]`))
}

function writeWkt(plan: MessagePlan, obj: Record<string, unknown>, path: string): unknown {
  switch (plan.wkt) {
    case Wkt.Timestamp:
      return writeTimestamp(obj[nameById(plan, 1)], obj[nameById(plan, 2)], path)
    case Wkt.Duration:
      return writeDuration(obj[nameById(plan, 1)], obj[nameById(plan, 2)], path)
    case Wkt.FieldMask:
      return ((obj[nameById(plan, 1)] ?? []) as string[]).map((p) => p.split('.').map(jsonNameOf).join('.')).join(',')
    case Wkt.Wrapper: {
      const f = plan.fields[0]!
      const v = obj[f.name]
      if (v === undefined) return f.kind === Kind.Bool ? false : f.kind === Kind.String || f.kind === Kind.Bytes ? '' : f.kind === Kind.Int64 || f.kind === Kind.Uint64 ? '0' : 0
      return writeValue(f, v, path)
    }
    case Wkt.Struct:
      return writeStruct(plan, plan.fields[0]!.message!, obj, path)
    case Wkt.ListValue:
      return writeListValue(plan, plan.fields[0]!.message!, obj, path)
    case Wkt.Value:
      return writeJsonValue(plan, obj, path)
    case Wkt.Any: {
      const url = obj[nameById(plan, 1)]
      if (url === undefined || url === '') return {}
      const inner = anyTarget(plan, url as string, join(path, '@type'))
      const bytes = Buffer.from((obj[nameById(plan, 2)] ?? '') as string, 'base64')
      let decoded: Record<string, unknown>
      try {
        // A plain view, not the Buffer: see decodeToJson.
        decoded = inner.type.toObject(inner.type.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), TO_OBJECT_OPTIONS)
      } catch (err) {
        throw new MappingError(path, `the Any's ${inner.fullName} value does not decode: ${(err as Error).message}`)
      }
      const json = writeMessage(inner, decoded, path)
      if (inner.wkt !== Wkt.None) return { '@type': url, value: json }
      return { '@type': url, ...(json as Record<string, unknown>) }
    }
    default:
      return writeMessage(plan, obj, path)
  }
}

/** Request: a JSON value → the encoded message. Throws MappingError for the field at fault. */
export function encodeJson(plan: MessagePlan, object: Record<string, unknown>): Uint8Array {
  const type = plan.type
  return type.encode(type.fromObject(object)).finish()
}

/** Response: the encoded message → its canonical JSON value. Throws (protobufjs's decode errors, MappingError). */
export function decodeToJson(plan: MessagePlan, bytes: Uint8Array): unknown {
  const type = plan.type
  // A plain Uint8Array view, never a Buffer: protobufjs's BufferReader clamps a string's
  // length to the end of the input (a truncated answer would decode), its Reader refuses it.
  const view = Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes
  return writeMessage(plan, type.toObject(type.decode(view), TO_OBJECT_OPTIONS), '')
}
