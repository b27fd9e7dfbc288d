// What a Lambda authorizer returned, checked (developer guide, "Output from an API Gateway
// Lambda authorizer"):
//
//   { principalId, policyDocument: { Version, Statement: [...] }, context: { k: string|number|boolean }, usageIdentifierKey }
//
// - policyDocument is required and must be a policy the IAM evaluator understands (Allow /
//   Deny, Action / NotAction, Resource / NotResource, conditions); anything else is a
//   malformed result: 500 AUTHORIZER_CONFIGURATION_ERROR.
// - context values must be strings, numbers or booleans ("You cannot set a JSON object or
//   array as a valid value of any key in the context map"); API Gateway answers any other
//   value (an object, an array, null) with 500 AuthorizerConfigurationException, and hands the
//   accepted ones on stringified ("1", "true").
// - principalId and usageIdentifierKey are read as strings (a number principalId arrives as
//   its text, as on AWS).
//
// The check runs once per result: the compiled policy is what the cache's users evaluate
// against each request's own methodArn.
import { compilePolicy, type CompiledPolicy, type PolicyError } from './policy.js'
import { isRecord } from '../../util/is-record.js'

export interface AuthorizerResult {
  readonly kind: 'result'
  readonly principalId: string | null
  readonly policy: CompiledPolicy
  /** The context map, values stringified. */
  readonly context: Readonly<Record<string, string>>
  readonly usageIdentifierKey: string | null
}

export interface MalformedAuthorizerResult {
  readonly kind: 'malformed'
  /** Why, for the execution log. */
  readonly reason: string
}

const decoder = new TextDecoder('utf-8', { fatal: true })
const EMPTY: Readonly<Record<string, string>> = Object.freeze({})

function malformed(reason: string): MalformedAuthorizerResult {
  return { kind: 'malformed', reason }
}

/** A scalar as API Gateway hands it on: its text; null for anything else. */
function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return null
}

/** Checks a Lambda authorizer's result: the JSON bytes it returned, or the parsed value. */
export function checkAuthorizerResult(payload: Uint8Array | unknown): AuthorizerResult | MalformedAuthorizerResult {
  let value: unknown = payload
  if (payload instanceof Uint8Array) {
    try {
      value = JSON.parse(decoder.decode(payload))
    } catch {
      return malformed('the authorizer result is not JSON')
    }
  }
  if (!isRecord(value)) return malformed(`the authorizer result must be a JSON object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`)

  let principalId: string | null = null
  const p = value['principalId']
  if (p !== undefined && p !== null) {
    principalId = scalarText(p)
    if (principalId === null) return malformed('principalId must be a string')
  }

  const doc = value['policyDocument']
  if (doc === undefined || doc === null) return malformed('policyDocument is missing')
  const errors: PolicyError[] = []
  const policy = compilePolicy(doc, '/policyDocument', errors)
  if (policy === null) return malformed(`invalid policyDocument: ${errors.map((e) => `${e.pointer}: ${e.message}`).join('; ')}`)

  let context = EMPTY
  const c = value['context']
  if (c !== undefined && c !== null) {
    if (!isRecord(c)) return malformed('context must be an object of string, number or boolean values')
    const out: Record<string, string> = {}
    for (const key of Object.keys(c)) {
      const text = scalarText(c[key])
      if (text === null) return malformed(`context value "${key}" must be a string, a number or a boolean`)
      out[key] = text
    }
    context = Object.freeze(out)
  }

  let usageIdentifierKey: string | null = null
  const k = value['usageIdentifierKey']
  if (k !== undefined && k !== null) {
    if (typeof k !== 'string') return malformed('usageIdentifierKey must be a string')
    usageIdentifierKey = k
  }
  return { kind: 'result', principalId, policy, context, usageIdentifierKey }
}
