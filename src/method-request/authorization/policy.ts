// IAM policy evaluation for execute-api:Invoke, shared by every authorization kind: a Lambda
// authorizer's policyDocument, an IAM principal's identity policy and the API's resource
// policy (x-amazon-apigateway-policy). Compiled once (at load, or once per authorizer
// result, which the result cache keeps) into regexes; evaluated per request with the
// request's own ARN, as IAM evaluates: an explicit Deny wins, then any Allow, else nothing
// (an implicit deny).
//
// IAM policy evaluation logic (IAM User Guide, "Policy evaluation logic"; "IAM JSON policy
// elements": Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Condition).
import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { isRecord } from '../../util/is-record.js'

export type PolicyDecision = 'ALLOW' | 'DENY' | 'NONE'

/** What a statement is matched against. */
export interface PolicyRequest {
  /** e.g. execute-api:Invoke. */
  readonly action: string
  /** e.g. arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/pets. */
  readonly resource: string
  /** The caller's ARN (IAM), or null for an anonymous caller. Only resource policies name principals. */
  readonly principalArn: string | null
  /** Condition keys (aws:SourceIp, …) → value. */
  readonly conditionKeys: Readonly<Record<string, string>>
}

interface CompiledCondition {
  readonly test: (value: string | undefined) => boolean
}

interface CompiledStatement {
  readonly allow: boolean
  /** Matches the action; `notAction` inverts it. */
  readonly actions: readonly RegExp[]
  readonly notAction: boolean
  readonly resources: readonly RegExp[]
  readonly notResource: boolean
  /** null: no Principal element (identity and authorizer policies). */
  readonly principals: readonly RegExp[] | null
  readonly notPrincipal: boolean
  readonly conditions: readonly { readonly key: string; readonly condition: CompiledCondition }[]
}

export interface CompiledPolicy {
  readonly statements: readonly CompiledStatement[]
}

/** A policy that could not be compiled: where and why (the caller refuses it, never ignores it). */
export interface PolicyError {
  readonly pointer: string
  readonly message: string
}

/** IAM wildcards: `*` any run of characters, `?` one character. */
export function wildcardToRegExp(pattern: string, ignoreCase: boolean): RegExp {
  let src = ''
  for (const ch of pattern) src += ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^${src}$`, ignoreCase ? 'is' : 's')
}

function stringList(v: unknown): string[] | null {
  if (typeof v === 'string') return [v]
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[]
  return null
}

function compileCidrs(values: string[]): BlockList | null {
  const list = new BlockList()
  for (const v of values) {
    const [addr, bits] = v.split('/')
    const family = isIPv4(addr ?? '') ? 'ipv4' : isIPv6(addr ?? '') ? 'ipv6' : null
    if (family === null) return null
    if (bits === undefined) list.addAddress(addr!, family)
    else {
      const n = Number(bits)
      if (!Number.isInteger(n) || n < 0 || n > (family === 'ipv4' ? 32 : 128)) return null
      list.addSubnet(addr!, n, family)
    }
  }
  return list
}

function matchesIp(list: BlockList, ip: string): boolean {
  // An IPv4 client seen through an IPv6 socket: ::ffff:a.b.c.d.
  const v4 = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip
  if (isIPv4(v4)) return list.check(v4, 'ipv4')
  if (isIPv6(v4)) return list.check(v4, 'ipv6')
  return false
}

/** One condition operator; null when the gateway cannot evaluate it (the policy is refused). */
function compileCondition(operator: string, values: string[]): CompiledCondition | string {
  const ifExists = operator.endsWith('IfExists')
  const op = ifExists ? operator.slice(0, -'IfExists'.length) : operator
  let match: ((v: string) => boolean) | null = null
  let negated = false
  switch (op) {
    case 'StringEquals': match = (v) => values.includes(v); break
    case 'StringNotEquals': match = (v) => values.includes(v); negated = true; break
    case 'StringEqualsIgnoreCase': match = (v) => values.some((x) => x.toLowerCase() === v.toLowerCase()); break
    case 'StringNotEqualsIgnoreCase': match = (v) => values.some((x) => x.toLowerCase() === v.toLowerCase()); negated = true; break
    case 'StringLike': case 'StringNotLike': case 'ArnLike': case 'ArnNotLike': case 'ArnEquals': case 'ArnNotEquals': {
      const res = values.map((x) => wildcardToRegExp(x, false))
      match = (v) => res.some((r) => r.test(v))
      negated = op.includes('Not')
      break
    }
    case 'IpAddress': case 'NotIpAddress': {
      const list = compileCidrs(values)
      if (list === null) return `${operator}: values must be IP addresses or CIDR blocks`
      match = (v) => matchesIp(list, v)
      negated = op === 'NotIpAddress'
      break
    }
    case 'Bool': match = (v) => values.some((x) => x.toLowerCase() === v.toLowerCase()); break
    default:
      return `condition operator ${operator} is not supported`
  }
  const m = match
  // A key absent from the request: IfExists makes the condition true; otherwise a positive
  // operator is false and a negated one true (the values "do not match").
  return { test: (value) => (value === undefined ? ifExists || negated : negated !== m(value)) }
}

function compileStatement(raw: unknown, pointer: string, errors: PolicyError[]): CompiledStatement | null {
  if (!isRecord(raw)) {
    errors.push({ pointer, message: 'a statement must be an object' })
    return null
  }
  const effect = raw.Effect
  if (effect !== 'Allow' && effect !== 'Deny') {
    errors.push({ pointer: `${pointer}/Effect`, message: 'Effect must be "Allow" or "Deny"' })
    return null
  }
  const pick = (a: string, b: string): [string[] | null, boolean, string] => {
    if (raw[a] !== undefined) return [stringList(raw[a]), false, a]
    if (raw[b] !== undefined) return [stringList(raw[b]), true, b]
    return [null, false, a]
  }
  const [actions, notAction, actionKey] = pick('Action', 'NotAction')
  const [resources, notResource, resourceKey] = pick('Resource', 'NotResource')
  if (actions === null) errors.push({ pointer: `${pointer}/${actionKey}`, message: `${actionKey} must be a string or a list of strings` })
  if (resources === null) errors.push({ pointer: `${pointer}/${resourceKey}`, message: `${resourceKey} must be a string or a list of strings` })
  let principals: RegExp[] | null = null
  let notPrincipal = false
  const principalRaw = raw.Principal ?? raw.NotPrincipal
  if (principalRaw !== undefined) {
    notPrincipal = raw.Principal === undefined
    const key = notPrincipal ? 'NotPrincipal' : 'Principal'
    const list = principalRaw === '*' ? ['*'] : isRecord(principalRaw) ? stringList(principalRaw.AWS) : null
    if (list === null) errors.push({ pointer: `${pointer}/${key}`, message: `${key} must be "*" or { "AWS": ARN or account id, or a list of them }` })
    else principals = list.map((p) => (p === '*' ? /^.*$/s : /^\d{12}$/.test(p) ? wildcardToRegExp(`arn:aws:iam::${p}:*`, false) : wildcardToRegExp(p.replace(/:root$/, ':*'), false)))
  }
  const conditions: { key: string; condition: CompiledCondition }[] = []
  if (raw.Condition !== undefined) {
    if (!isRecord(raw.Condition)) errors.push({ pointer: `${pointer}/Condition`, message: 'Condition must be an object' })
    else {
      for (const [operator, block] of Object.entries(raw.Condition)) {
        if (!isRecord(block)) {
          errors.push({ pointer: `${pointer}/Condition/${operator}`, message: 'must map condition keys to values' })
          continue
        }
        for (const [key, v] of Object.entries(block)) {
          const values = stringList(typeof v === 'boolean' ? String(v) : v)
          const c = values === null ? `values of ${key} must be a string or a list of strings` : compileCondition(operator, values)
          if (typeof c === 'string') errors.push({ pointer: `${pointer}/Condition/${operator}`, message: c })
          else conditions.push({ key: key.toLowerCase(), condition: c })
        }
      }
    }
  }
  if (actions === null || resources === null) return null
  return {
    allow: effect === 'Allow',
    actions: actions.map((a) => wildcardToRegExp(a, true)),
    notAction,
    resources: resources.map((r) => wildcardToRegExp(r, false)),
    notResource,
    principals,
    notPrincipal,
    conditions,
  }
}

/** Compiles a policy document; every problem is pushed to `errors` (and the policy must then not be used). */
export function compilePolicy(doc: unknown, pointer: string, errors: PolicyError[]): CompiledPolicy | null {
  const before = errors.length
  if (!isRecord(doc)) {
    errors.push({ pointer, message: 'a policy document must be an object' })
    return null
  }
  const raw = doc.Statement
  const list = Array.isArray(raw) ? raw : raw === undefined ? null : [raw]
  if (list === null) {
    errors.push({ pointer: `${pointer}/Statement`, message: 'Statement is required' })
    return null
  }
  const statements: CompiledStatement[] = []
  list.forEach((s, i) => {
    const c = compileStatement(s, Array.isArray(raw) ? `${pointer}/Statement/${i}` : `${pointer}/Statement`, errors)
    if (c !== null) statements.push(c)
  })
  return errors.length === before ? { statements } : null
}

function anyMatch(res: readonly RegExp[], value: string): boolean {
  for (const r of res) if (r.test(value)) return true
  return false
}

function statementApplies(s: CompiledStatement, req: PolicyRequest): boolean {
  if (anyMatch(s.actions, req.action) === s.notAction) return false
  if (anyMatch(s.resources, req.resource) === s.notResource) return false
  if (s.principals !== null) {
    // An anonymous caller is matched only by "*".
    const who = req.principalArn ?? ''
    const matched = req.principalArn === null ? s.principals.some((r) => r.source === '^.*$') : anyMatch(s.principals, who)
    if (matched === s.notPrincipal) return false
  }
  for (const c of s.conditions) {
    if (!c.condition.test(req.conditionKeys[c.key])) return false
  }
  return true
}

/** IAM's evaluation: an explicit Deny wins; else an Allow allows; else NONE (an implicit deny). */
export function evaluatePolicy(policy: CompiledPolicy, req: PolicyRequest): PolicyDecision {
  let allowed = false
  for (const s of policy.statements) {
    if (!statementApplies(s, req)) continue
    if (!s.allow) return 'DENY'
    allowed = true
  }
  return allowed ? 'ALLOW' : 'NONE'
}

/** True when a statement has a Condition: the decision then depends on more than the resource ARN (aws:SourceIp…). */
export function policyHasConditions(policy: CompiledPolicy): boolean {
  for (const s of policy.statements) if (s.conditions.length > 0) return true
  return false
}

/** arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{resource path without the leading /}. */
export function methodArn(region: string, accountId: string, apiId: string, stage: string, httpMethod: string, path: string): string {
  return `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/${httpMethod}/${path.startsWith('/') ? path.slice(1) : path}`
}
