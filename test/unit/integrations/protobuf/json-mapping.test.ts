// Protobuf's canonical JSON mapping through protobufjs (src/integrations/protobuf/json-mapping.ts).
// Source of every rule: protobuf.dev, "ProtoJSON Format" (the JSON mapping table and its
// notes); grpc-gateway's runtime/query.go for parameters. Each test round-trips through the
// real encoder and decoder: JSON → readMessage → fromObject → encode → decode → toObject → JSON.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { loadProtoFiles } from '../../../../src/config/extensions/protobuf.js'
import { compileProtobuf, type CompiledProtobuf } from '../../../../src/integrations/protobuf/compile.js'
import { MappingError, decodeToJson, encodeJson, jsonNameOf, readMessage, setFromParameter } from '../../../../src/integrations/protobuf/json-mapping.js'

const PROTO = fileURLToPath(new URL('../../../fixtures/protos/mapping/v1/mapping.proto', import.meta.url))
const descriptor = loadProtoFiles(PROTO).descriptor

function compiled(discardUnknown = false, message = 'mapping.v1.Everything'): CompiledProtobuf {
  return compileProtobuf({ protoFile: PROTO, descriptor, request: message, response: message, grpc: true, discardUnknown, pointer: '' })
}
const pb = compiled()
const lenient = compiled(true)

/** JSON → bytes → JSON. */
function roundTrip(json: unknown, c: CompiledProtobuf = pb): unknown {
  return decodeToJson(c.response, encodeJson(c.request, readMessage(c.request, json, '', c)))
}

/** The MappingError a JSON value raises (path and reason), or a failure. */
function refusal(json: unknown, c: CompiledProtobuf = pb): { path: string; reason: string } {
  try {
    readMessage(c.request, json, '', c)
  } catch (err) {
    if (err instanceof MappingError) return { path: err.path, reason: err.reason }
    throw err
  }
  throw new Error(`accepted: ${JSON.stringify(json)}`)
}

/** Decodes what a plain protobufjs encoder wrote from `object` (protobufjs's own field names). */
function fromWire(object: Record<string, unknown>): unknown {
  const type = pb.response.type
  return decodeToJson(pb.response, type.encode(type.fromObject(object)).finish())
}

t.test('field names: lowerCamelCase out; the proto name and the JSON name both accepted in; json_name honoured', async (t) => {
  t.equal(jsonNameOf('f_int32'), 'fInt32')
  t.equal(jsonNameOf('born_at_2'), 'bornAt2')
  t.strictSame(roundTrip({ f_string: 'a', inner: { inner_name: 'x' } }), { fString: 'a', inner: { innerName: 'x' } })
  t.strictSame(roundTrip({ fString: 'a', inner: { innerName: 'x' } }), { fString: 'a', inner: { innerName: 'x' } })
  t.strictSame(roundTrip({ customName: 'r' }), { customName: 'r' }, 'json_name replaces the derived name')
  t.strictSame(roundTrip({ renamed: 'r' }), { customName: 'r' }, 'the proto name is still accepted')
  t.match(refusal({ fInt32: 1, f_int32: 2 }), { path: 'f_int32', reason: /given twice/ })
})

t.test('64-bit integers: written as decimal strings, read from strings or numbers, full precision', async (t) => {
  const big = '9007199254740993' // 2^53 + 1: a double cannot hold it
  t.strictSame(roundTrip({ fInt64: big, fUint64: '18446744073709551615', fSint64: '-9223372036854775808', fFixed64: 7, fSfixed64: '-5' }),
    { fInt64: big, fUint64: '18446744073709551615', fSint64: '-9223372036854775808', fFixed64: '7', fSfixed64: '-5' })
  t.strictSame(roundTrip({ rInt64: ['1', 2, '-3'] }), { rInt64: ['1', '2', '-3'] })
  t.match(refusal({ fInt64: '9223372036854775808' }), { path: 'fInt64', reason: /out of range for an int64/ })
  t.match(refusal({ fUint64: '-1' }), { path: 'fUint64', reason: /out of range for a uint64/ })
  t.match(refusal({ fInt64: 1.5 }), { path: 'fInt64', reason: /fraction/ })
  t.match(refusal({ fInt64: 'twelve' }), { path: 'fInt64', reason: /expected an int64/ })
  t.match(refusal({ fInt64: true }), { path: 'fInt64' })
})

t.test('32-bit integers: numbers, or strings holding one; fractions and out-of-range values refused', async (t) => {
  t.strictSame(roundTrip({ fInt32: '-42', fUint32: 4294967295, fSint32: -1, fFixed32: '7', fSfixed32: 1e2 }), { fInt32: -42, fUint32: 4294967295, fSint32: -1, fFixed32: 7, fSfixed32: 100 })
  t.match(refusal({ fInt32: 2147483648 }), { path: 'fInt32', reason: /out of range for an int32/ })
  t.match(refusal({ fUint32: -1 }), { path: 'fUint32', reason: /out of range for a uint32/ })
  t.match(refusal({ fInt32: 1.5 }), { path: 'fInt32', reason: /fraction/ })
  t.match(refusal({ fInt32: 'abc' }), { path: 'fInt32', reason: /expected an int32/ })
})

t.test('floating point: "NaN", "Infinity", "-Infinity" both ways; a float keeps float32 digits; out of range refused', async (t) => {
  t.strictSame(roundTrip({ fDouble: 'NaN', fFloat: 'Infinity', wDouble: '-Infinity' }), { fDouble: 'NaN', fFloat: 'Infinity', wDouble: '-Infinity' })
  t.strictSame(roundTrip({ fFloat: 0.1, fDouble: 0.1, wFloat: 3.14 }), { fFloat: 0.1, fDouble: 0.1, wFloat: 3.14 })
  t.strictSame(roundTrip({ fDouble: '1.5e3' }), { fDouble: 1500 }, 'a number in a string is accepted')
  t.match(refusal({ fFloat: 1e39 }), { path: 'fFloat', reason: /out of range for a float/ })
  t.match(refusal({ fDouble: 'fast' }), { path: 'fDouble', reason: /expected a number/ })
})

t.test('bool: only true and false', async (t) => {
  t.strictSame(roundTrip({ fBool: true }), { fBool: true })
  t.match(refusal({ fBool: 'true' }), { path: 'fBool', reason: /expected true or false/ })
  t.match(refusal({ fBool: 1 }), { path: 'fBool' })
})

t.test('string and bytes: bytes as standard base64 out; standard or URL-safe, padded or not, in', async (t) => {
  t.strictSame(roundTrip({ fString: 'héllo', fBytes: '+/8=' }), { fString: 'héllo', fBytes: '+/8=' })
  t.strictSame(roundTrip({ fBytes: '-_8' }), { fBytes: '+/8=' }, 'URL-safe and unpadded')
  t.strictSame(roundTrip({ wBytes: 'AAE=' }), { wBytes: 'AAE=' })
  t.match(refusal({ fBytes: 'not base64!' }), { path: 'fBytes', reason: /base64/ })
  t.match(refusal({ fString: 5 }), { path: 'fString', reason: /expected a string/ })
})

t.test('enums: by name out; by name or number in; unknown names refused (dropped with discardUnknown); unknown numbers kept', async (t) => {
  t.strictSame(roundTrip({ color: 'GREEN', rColor: ['RED', 2] }), { color: 'GREEN', rColor: ['RED', 'GREEN'] })
  t.strictSame(roundTrip({ color: 7 }), { color: 7 }, 'an open enum keeps a value it has no name for, as its number')
  t.match(refusal({ color: 'BLUE' }), { path: 'color', reason: /unknown value "BLUE" of enum mapping.v1.Color/ })
  t.strictSame(roundTrip({ color: 'BLUE', rColor: ['BLUE', 'RED'] }, lenient), { rColor: ['RED'] })
  t.match(refusal({ color: 1.5 }), { path: 'color' })
})

t.test('defaults are not written for implicit presence; oneof members and proto3 optional fields keep theirs', async (t) => {
  t.strictSame(roundTrip({ fInt32: 0, fString: '', fBool: false, color: 'COLOR_UNSPECIFIED', fInt64: '0', rInt64: [], mStringInt64: {} }), {})
  t.strictSame(roundTrip({ choiceNumber: 0 }), { choiceNumber: 0 })
  t.strictSame(roundTrip({ maybe: 0 }), { maybe: 0 })
  t.strictSame(roundTrip({ inner: {} }), { inner: {} }, 'a message field set to an empty message is present')
  // A proto2-style encoder may write an implicit default: it is still not written.
  t.strictSame(fromWire({ f_int32: 0, f_string: '' }), {})
})

t.test('nested and repeated messages; the field at fault is named with its path', async (t) => {
  t.strictSame(roundTrip({ rInner: [{ innerName: 'a' }, { count: 2 }] }), { rInner: [{ innerName: 'a' }, { count: 2 }] })
  t.match(refusal({ rInner: [{ count: 1 }, { count: 'x' }] }), { path: 'rInner[1].count', reason: /expected an int32/ })
  t.match(refusal({ inner: 5 }), { path: 'inner', reason: /expected an object \(mapping.v1.Inner\)/ })
  t.match(refusal({ rInner: {} }), { path: 'rInner', reason: /expected an array/ })
  t.match(refusal([1]), { path: '', reason: /expected an object/ })
})

t.test('maps: keys are JSON strings; integer keys checked; 64-bit keys come back as decimals', async (t) => {
  t.strictSame(roundTrip({ mStringInt64: { a: '1', b: 2 } }), { mStringInt64: { a: '1', b: '2' } })
  t.strictSame(roundTrip({ mInt64String: { '9007199254740993': 'big', '-1': 'neg' } }), { mInt64String: { '9007199254740993': 'big', '-1': 'neg' } })
  t.strictSame(roundTrip({ mInt32Inner: { 5: { count: 1 } } }), { mInt32Inner: { 5: { count: 1 } } })
  t.match(refusal({ mInt32Inner: { five: {} } }), { path: 'mInt32Inner["five"]', reason: /int32/ })
  t.match(refusal({ mStringInt64: { a: null } }), { path: 'mStringInt64["a"]', reason: /null/ })
})

t.test('oneof: at most one member', async (t) => {
  t.strictSame(roundTrip({ choiceText: 'x' }), { choiceText: 'x' })
  t.match(refusal({ choiceText: 'x', choiceNumber: 1 }), { path: 'choiceNumber', reason: /oneof choice already has choiceText set/ })
  t.strictSame(roundTrip({ choiceText: 'x', choiceNumber: null }), { choiceText: 'x' }, 'null does not count as set')
})

t.test('null: the default value for any field; not an element of a repeated field', async (t) => {
  t.strictSame(roundTrip({ fInt32: null, inner: null, ts: null, rInt64: null }), {})
  t.match(refusal({ rInt64: ['1', null] }), { path: 'rInt64[1]', reason: /null/ })
})

t.test('unknown fields: refused by default (the mapping\'s default for parsers), dropped with discardUnknown', async (t) => {
  t.match(refusal({ fInt32: 1, extra: true }), { path: 'extra', reason: /unknown field: mapping.v1.Everything has no field "extra"/ })
  t.match(refusal({ inner: { nope: 1 } }), { path: 'inner.nope' })
  t.strictSame(roundTrip({ fInt32: 1, extra: true, inner: { nope: 1, count: 2 } }, lenient), { fInt32: 1, inner: { count: 2 } })
})

t.test('Timestamp: RFC 3339, "Z" out with 0, 3, 6 or 9 fractional digits; offsets accepted in', async (t) => {
  t.strictSame(roundTrip({ ts: '1972-01-01T10:00:20.021Z' }), { ts: '1972-01-01T10:00:20.021Z' })
  t.strictSame(roundTrip({ ts: '2017-01-15T01:30:15.01-08:00' }), { ts: '2017-01-15T09:30:15.010Z' })
  t.strictSame(roundTrip({ ts: '2020-02-29T00:00:00Z' }), { ts: '2020-02-29T00:00:00Z' })
  t.strictSame(roundTrip({ ts: '0001-01-01T00:00:00.000001Z' }), { ts: '0001-01-01T00:00:00.000001Z' })
  t.strictSame(roundTrip({ ts: '9999-12-31T23:59:59.999999999Z' }), { ts: '9999-12-31T23:59:59.999999999Z' })
  t.strictSame(roundTrip({ ts: '1969-12-31T23:59:59.5Z' }), { ts: '1969-12-31T23:59:59.500Z' }, 'before the epoch: negative seconds, positive nanos')
  t.match(refusal({ ts: '2021-02-29T00:00:00Z' }), { path: 'ts', reason: /not a valid date/ })
  t.match(refusal({ ts: '2021-01-01 00:00:00' }), { path: 'ts', reason: /RFC 3339/ })
  t.match(refusal({ ts: 1234 }), { path: 'ts' })
  t.throws(() => fromWire({ ts: { seconds: 253402300800 } }), { name: 'MappingError', path: 'ts', reason: /outside 0001-01-01 to 9999-12-31/ }, 'a backend timestamp past 9999 does not map')
})

t.test('Duration: seconds with an "s" suffix and 0, 3, 6 or 9 fractional digits, sign on both parts', async (t) => {
  t.strictSame(roundTrip({ dur: '1.5s' }), { dur: '1.500s' })
  t.strictSame(roundTrip({ dur: '-0.000000001s' }), { dur: '-0.000000001s' })
  t.strictSame(roundTrip({ dur: '3s' }), { dur: '3s' })
  t.strictSame(fromWire({ dur: { seconds: -2, nanos: -250000000 } }), { dur: '-2.250s' })
  t.match(refusal({ dur: '1.5' }), { path: 'dur', reason: /"s" suffix/ })
  t.match(refusal({ dur: '315576000001s' }), { path: 'dur', reason: /out of range/ })
  t.throws(() => fromWire({ dur: { seconds: 1, nanos: -1 } }), { name: 'MappingError', path: 'dur', reason: /does not fit/ }, 'mixed signs do not map')
})

t.test('FieldMask: lowerCamelCase paths joined by commas', async (t) => {
  t.strictSame(roundTrip({ mask: 'displayName,inner.innerName' }), { mask: 'displayName,inner.innerName' })
  t.strictSame(fromWire({ mask: { paths: ['display_name', 'inner.inner_name'] } }), { mask: 'displayName,inner.innerName' })
  t.match(refusal({ mask: 'display_name' }), { path: 'mask', reason: /lowerCamelCase/ })
})

t.test('Struct, Value and ListValue: any JSON', async (t) => {
  const doc = { a: 1, b: 'two', c: [true, null, { d: [] }], e: {} }
  t.strictSame(roundTrip({ st: doc, val: [1, 'x', null], list: [{ k: 'v' }, 2] }), { st: doc, val: [1, 'x', null], list: [{ k: 'v' }, 2] })
  t.strictSame(roundTrip({ val: null }), { val: null }, 'null in a Value field is the null value, not unset')
  t.strictSame(roundTrip({ rVal: [null, 1] }), { rVal: [null, 1] })
  t.match(refusal({ st: [1] }), { path: 'st', reason: /google.protobuf.Struct/ })
  t.match(refusal({ list: {} }), { path: 'list', reason: /google.protobuf.ListValue/ })
})

t.test('wrappers: the bare value; a wrapped default is still written', async (t) => {
  t.strictSame(roundTrip({ wInt32: 0, wInt64: '12', wString: '', wBool: false, wUint64: 18, wUint32: 5 }), { wInt32: 0, wInt64: '12', wString: '', wBool: false, wUint64: '18', wUint32: 5 })
  t.match(refusal({ wInt32: 'x' }), { path: 'wInt32', reason: /int32/ })
  t.match(refusal({ wBool: { value: true } }), { path: 'wBool', reason: /expected true or false/ })
})

t.test('Any: "@type" and the fields; a well-known type inside keeps its JSON form under "value"', async (t) => {
  const inner = { '@type': 'type.googleapis.com/mapping.v1.Inner', innerName: 'n', count: 3 }
  t.strictSame(roundTrip({ any: inner }), { any: inner })
  const wkt = { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1.200s' }
  t.strictSame(roundTrip({ any: wkt }), { any: wkt })
  t.strictSame(roundTrip({ any: { '@type': 'example.com/x/mapping.v1.Inner' } }), { any: { '@type': 'example.com/x/mapping.v1.Inner' } }, 'the type URL prefix is kept')
  t.match(refusal({ any: { '@type': 'type.googleapis.com/nope.Missing' } }), { path: 'any.@type', reason: /names no message/ })
  t.match(refusal({ any: { innerName: 'n' } }), { path: 'any.@type', reason: /needs a "@type"/ })
  t.match(refusal({ any: { '@type': 'type.googleapis.com/mapping.v1.Inner', bogus: 1 } }), { path: 'any.bogus', reason: /unknown field/ })
  // From a backend: an Any whose value is cut short, or names a type the files lack.
  t.throws(() => fromWire({ any: { type_url: 'type.googleapis.com/mapping.v1.Inner', value: Buffer.from([0x0a, 0x09, 0x61]) } }), { name: 'MappingError', path: 'any', reason: /Inner value does not decode/ })
  t.throws(() => fromWire({ any: { type_url: 'type.googleapis.com/other.Thing', value: Buffer.alloc(0) } }), { name: 'MappingError', path: 'any.@type' })
})

t.test('Empty is {}; NullValue is null', async (t) => {
  t.strictSame(roundTrip({ empty: {} }), { empty: {} })
  t.match(refusal({ empty: { x: 1 } }), { path: 'empty.x' })
  t.strictSame(roundTrip({ nullValue: null }), {}, 'NULL_VALUE is the enum default: not written')
  t.strictSame(roundTrip({ nullValue: 'NULL_VALUE' }), {})
})

t.test('parameters fill fields by proto or JSON name, dotted into messages, as grpc-gateway does', async (t) => {
  const c = pb
  const out: Record<string, unknown> = {}
  t.equal(setFromParameter(c.request, out, 'f_int64', ['12'], true, c), true)
  t.equal(setFromParameter(c.request, out, 'fBool', ['true'], true, c), true)
  t.equal(setFromParameter(c.request, out, 'inner.innerName', ['deep'], true, c), true)
  t.equal(setFromParameter(c.request, out, 'rInt64', ['1', '2'], true, c), true, 'a repeated field takes every value')
  t.equal(setFromParameter(c.request, out, 'color', ['RED'], true, c), true)
  t.equal(setFromParameter(c.request, out, 'ts', ['2020-01-01T00:00:00Z'], true, c), true)
  t.equal(setFromParameter(c.request, out, 'wInt32', ['9'], true, c), true)
  t.equal(setFromParameter(c.request, out, 'fString', ['a', 'b'], true, c), true, 'a singular field takes the last value')
  t.equal(setFromParameter(c.request, out, 'utm_source', ['mail'], true, c), false, 'a name that is no field is not the message\'s')
  t.equal(setFromParameter(c.request, out, 'inner.nope', ['x'], true, c), false)
  t.strictSame(decodeToJson(c.response, encodeJson(c.request, out)), { fInt64: '12', fBool: true, fString: 'b', color: 'RED', inner: { innerName: 'deep' }, rInt64: ['1', '2'], ts: '2020-01-01T00:00:00Z', wInt32: 9 })

  const fromBody = readMessage(c.request, { fInt32: 1 }, '', c)
  setFromParameter(c.request, fromBody, 'fInt32', ['2'], true, c)
  t.equal(fromBody.f_int32, 1, 'a query parameter does not replace a field the body set')
  setFromParameter(c.request, fromBody, 'fInt32', ['3'], false, c)
  t.equal(fromBody.f_int32, 3, 'a path parameter does')

  t.throws(() => setFromParameter(c.request, {}, 'fInt32', ['x'], true, c), { name: 'MappingError', path: 'fInt32' })
  t.throws(() => setFromParameter(c.request, {}, 'fBool', ['yes'], true, c), { name: 'MappingError', path: 'fBool' })
  t.throws(() => setFromParameter(c.request, {}, 'rInner.count', ['1'], true, c), { name: 'MappingError', reason: /not a singular message field/ })
  t.throws(() => setFromParameter(c.request, {}, 'mStringInt64', ['1'], true, c), { name: 'MappingError', reason: /map field/ })
  t.throws(() => setFromParameter(c.request, {}, 'st', ['{}'], true, c), { name: 'MappingError', reason: /cannot be set from a parameter/ })
})

t.test('unknown fields of a binary answer have no JSON form: dropped', async (t) => {
  // Field 99 (varint 1) before f_int32 = 5: an answer from a newer version of the message.
  t.strictSame(decodeToJson(pb.response, Uint8Array.from([0x98, 0x06, 0x01, 0x18, 0x05])), { fInt32: 5 })
})

t.test('a backend answer that is not the message does not decode', async (t) => {
  t.throws(() => decodeToJson(pb.response, Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f])))
  // Field 4 (f_int64) with wire type 2 (length-delimited) and a length past the end.
  t.throws(() => decodeToJson(pb.response, Uint8Array.from([0x22, 0x10, 0x01])))
  // Field 14 (f_string) claiming 9 bytes with 1 left: protobufjs's BufferReader would clamp it to "a".
  t.throws(() => decodeToJson(pb.response, Buffer.from([0x72, 0x09, 0x61])), /index out of range/)
  t.throws(() => decodeToJson(pb.response, Uint8Array.from([0x72, 0x09, 0x61])), /index out of range/)
})

t.test('protobufjs alone falls short where this mapping steps in', async (t) => {
  // Pinning why readMessage exists: fromObject coerces what the mapping refuses.
  const type = pb.request.type
  const coerced = type.toObject(type.fromObject({ f_int32: 'abc', unknown_thing: 1 })) as Record<string, unknown>
  t.equal(coerced.f_int32, 0, 'fromObject turns "abc" into 0 instead of refusing it')
  t.equal(Object.hasOwn(coerced, 'unknown_thing'), false, 'and drops unknown fields silently')
  t.ok(protobuf.util.Long, 'long.js is present: 64-bit values keep their precision')
})
