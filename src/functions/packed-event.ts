// The Lambda proxy event on its way to a local instance, packed: its strings back to back in
// one text, their lengths ahead of them, so the runner builds the event object from slices of
// one text instead of JSON.parse. Measured on this machine (node 20, one core) for the bench's
// 967-byte event: decoded and JSON.parse'd 6.5–7.1 µs, its 265-byte packed text decoded and
// unpacked 2.0 µs; writing either costs about the same (3.8 µs the JSON and its encoding).
// The text now crosses to the runner as a string (a structured clone copies its UTF-16 as it
// is): no encode in the worker, no decode in the runner, lone surrogates included.
//
// The object a handler gets is JSON.parse(proxyEventJson(input)): the same keys in the same
// order, the same values (pinned by test/unit/functions/event.test.ts over awkward inputs, and
// end to end by direct.test.ts). What a packed text cannot carry so goes as JSON instead (packProxyEvent answers
// null): names objects would reorder or treat specially (array indexes, __proto__), an odd
// header list, an authorizer or an identity (nested objects, rare on the paths that need speed).
//
//   text   = lengths.join(',') + '\n' + parts.join('')
//   parts  = resource, path, httpMethod,
//            header names (-1: null), then per name: name, value count, values…
//            query names (-1: null), then per name: name, value count, values…
//            pathParameters (-1: null), then name, value per entry; stageVariables the same,
//            requestContext: resourceId, resourcePath, httpMethod, extendedRequestId,
//            requestTime, path, accountId, protocol, stage, domainPrefix, deploymentId,
//            requestTimeEpoch, requestId, sourceIp, userAgent flag (0 null, 1 given) [and value],
//            domainName, apiId,
//            body flag (0 null, 1 given) [and body], isBase64Encoded (0, 1)

import { encodeProxyEvent, isIndexName, type ProxyEventInput } from './event.js'
import { parseQuery } from '../util/query.js'
import { formatRequestTime } from '../util/request-time.js'

/** A name the packed form cannot carry as an object key: objects reorder it or give it a meaning. */
function awkwardName(name: string): boolean {
  return name === '__proto__' || isIndexName(name)
}

/** The packed text of the event (see the head of this file), or null when it must go as JSON. */
export function packProxyEvent(input: ProxyEventInput): string | null {
  if (input.authorizer !== null || input.identity !== null) return null
  const parts: string[] = [input.resourcePath, input.path, input.method]
  const h = input.headers
  let userAgent: string | null = null
  if (h.length === 0) parts.push('-1')
  else if (h.length % 2 === 1) return null // an odd list: the object path decides
  else {
    const countAt = parts.length
    parts.push('')
    let names = 0
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!
      if (awkwardName(name)) return null
      let seen = false
      for (let k = 0; k < i; k += 2) {
        if (h[k] === name) {
          seen = true
          break
        }
      }
      if (seen) continue // written at its first occurrence, as proxyEventJson does
      if (userAgent === null && name.length === 10 && name.toLowerCase() === 'user-agent') userAgent = h[i + 1]!
      names++
      const valuesAt = parts.length
      parts.push(name, '', h[i + 1]!)
      let values = 1
      for (let j = i + 2; j < h.length; j += 2) {
        if (h[j] === name) {
          parts.push(h[j + 1]!)
          values++
        }
      }
      parts[valuesAt + 1] = String(values)
    }
    parts[countAt] = String(names)
  }

  const query = input.query === '' ? null : parseQuery(input.query)
  if (query === null || query.size === 0) parts.push('-1')
  else {
    parts.push(String(query.size))
    for (const [name, values] of query) {
      if (awkwardName(name)) return null
      parts.push(name, String(values.length))
      for (const v of values) parts.push(v)
    }
  }

  for (const map of [input.pathParameters, input.stageVariables]) {
    if (map === null) {
      parts.push('-1')
      continue
    }
    const names = Object.keys(map)
    parts.push(String(names.length))
    for (const name of names) {
      if (name === '__proto__') return null
      parts.push(name, map[name]!)
    }
  }

  const dot = input.domainName.indexOf('.')
  parts.push(
    input.resourceId, input.resourcePath, input.method, input.extendedRequestId, formatRequestTime(input.requestTimeEpoch),
    input.requestPath, input.accountId, input.protocol, input.stage, dot === -1 ? input.domainName : input.domainName.slice(0, dot),
    input.deploymentId, String(input.requestTimeEpoch), input.requestId, input.sourceIp,
  )
  if (userAgent === null) parts.push('0')
  else parts.push('1', userAgent)
  parts.push(input.domainName, input.apiId)

  if (input.body !== null && input.body.byteLength > 0) {
    const b = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
    parts.push('1', input.isBinary ? b.toString('base64') : b.toString('utf8'), input.isBinary ? '1' : '0')
  } else parts.push('0', '0')

  let lengths = String(parts[0]!.length)
  for (let i = 1; i < parts.length; i++) lengths += ',' + parts[i]!.length
  return lengths + '\n' + parts.join('')
}

/**
 * The event object from a packed text. It runs in the runner thread from its source text
 * (runner.ts RUNNER_SOURCE): it refers to nothing outside itself, so its identity literal
 * repeats event.ts eventIdentity's (the equality test pins them together).
 */
export function unpackProxyEvent(text: string): unknown {
  // The lengths read digit by digit (a split and a Number per part cost more than the slices),
  // into an array sized for the usual event up front (grown by pushes, it was 6 % of an instance's time).
  const nl = text.indexOf('\n')
  const p: string[] = new Array(64)
  let parts = 0
  let at = nl + 1
  let n = 0
  for (let i = 0; i <= nl; i++) {
    const ch = text.charCodeAt(i)
    if (ch >= 48 && ch <= 57) n = n * 10 + ch - 48
    else {
      p[parts++] = text.slice(at, at + n)
      at += n
      n = 0
    }
  }
  let c = 3
  // A count is most often one digit (Number on the counts and the epoch was 3 % of an instance's time).
  const countOf = (s: string): number => (s.length === 1 ? s.charCodeAt(0) - 48 : Number(s))
  // Headers, then the query: per name its values; the single map takes the last.
  const singles: (Record<string, string> | null)[] = [null, null]
  const multis: (Record<string, string[]> | null)[] = [null, null]
  let count: number
  for (let m = 0; m < 2; m++) {
    count = countOf(p[c++]!)
    if (count < 0) continue
    const single: Record<string, string> = {}
    const multi: Record<string, string[]> = {}
    for (let i = 0; i < count; i++) {
      const name = p[c++]!
      const k = countOf(p[c++]!)
      const values: string[] = new Array(k)
      for (let j = 0; j < k; j++) values[j] = p[c++]!
      single[name] = values[k - 1]!
      multi[name] = values
    }
    singles[m] = single
    multis[m] = multi
  }
  const maps: (Record<string, string> | null)[] = [null, null]
  for (let m = 0; m < 2; m++) {
    count = countOf(p[c++]!)
    if (count < 0) continue
    const map: Record<string, string> = {}
    for (let i = 0; i < count; i++) {
      const name = p[c++]!
      map[name] = p[c++]!
    }
    maps[m] = map
  }
  const resourceId = p[c++]
  const resourcePath = p[c++]
  const httpMethod = p[c++]
  const extendedRequestId = p[c++]
  const requestTime = p[c++]
  const path = p[c++]
  const accountId = p[c++]
  const protocol = p[c++]
  const stage = p[c++]
  const domainPrefix = p[c++]
  const deploymentId = p[c++]
  const requestTimeEpoch = Number(p[c++])
  const requestId = p[c++]
  const sourceIp = p[c++]
  const userAgent = p[c++] === '1' ? p[c++] : null
  const domainName = p[c++]
  const apiId = p[c++]
  const body = p[c++] === '1' ? p[c++] : null
  const isBase64Encoded = p[c++] === '1'
  return {
    resource: p[0],
    path: p[1],
    httpMethod: p[2],
    headers: singles[0],
    multiValueHeaders: multis[0],
    queryStringParameters: singles[1],
    multiValueQueryStringParameters: multis[1],
    pathParameters: maps[0],
    stageVariables: maps[1],
    requestContext: {
      resourceId,
      resourcePath,
      httpMethod,
      extendedRequestId,
      requestTime,
      path,
      accountId,
      protocol,
      stage,
      domainPrefix,
      deploymentId,
      requestTimeEpoch,
      requestId,
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp,
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent,
        user: null,
      },
      domainName,
      apiId,
    },
    body,
    isBase64Encoded,
  }
}

/** A proxy event ready for either way to a function (client.ts DirectPayload): packed for a local instance, JSON for the rest. */
export class PackedProxyEvent {
  constructor(readonly packed: string, readonly input: ProxyEventInput) {}
  json(): Uint8Array {
    return encodeProxyEvent(this.input)
  }
}

