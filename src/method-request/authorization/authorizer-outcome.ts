// What an authorizer (Lambda TOKEN / REQUEST, Cognito) leaves on the request once it has
// decided: ctx.authorizer. Templates read it as $context.authorizer.*, parameter mappings as
// context.authorizer.*, the Lambda proxy event as requestContext.authorizer, the API key step
// (apiKeySource AUTHORIZER) takes usageIdentifierKey from it.
//
// Values are strings: API Gateway stringifies the context map's values ("Output from an API
// Gateway Lambda authorizer": numberKey 1 → "1", booleanKey true → "true").

export interface AuthorizerOutcome {
  /** $context.authorizer.principalId; null when the authorizer returned none. */
  readonly principalId: string | null
  /** The Lambda authorizer's context map, values stringified ($context.authorizer.{key}). */
  readonly context: Readonly<Record<string, string>>
  /** Cognito's token claims ($context.authorizer.claims.*); null for Lambda authorizers. */
  readonly claims: Readonly<Record<string, string>> | null
  /** The API key the authorizer names for usage plans (apiKeySource AUTHORIZER); null when none. */
  readonly usageIdentifierKey: string | null
  /** Milliseconds the authorizer call took (requestContext.authorizer.integrationLatency); 0 on a cache hit. */
  readonly integrationLatency: number
}

/** $context.authorizer as templates see it: principalId, the context keys, claims when Cognito set them. */
export function authorizerTemplateObject(a: AuthorizerOutcome): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a.context }
  out['principalId'] = a.principalId
  if (a.claims !== null) out['claims'] = { ...a.claims }
  return out
}

/**
 * requestContext.authorizer of the Lambda proxy event, as API Gateway sends it for a Lambda
 * authorizer: the context keys, principalId and integrationLatency side by side; claims
 * instead for Cognito.
 */
export function authorizerProxyObject(a: AuthorizerOutcome): Record<string, unknown> {
  if (a.claims !== null) return { claims: { ...a.claims } }
  const out: Record<string, unknown> = { ...a.context }
  out['principalId'] = a.principalId
  out['integrationLatency'] = a.integrationLatency
  return out
}

/** context.authorizer.{name} (parameter mappings, gateway responses): principalId, a context key, claims.{name}; null when absent. */
export function authorizerValue(a: AuthorizerOutcome, name: string): string | null {
  if (name === 'principalId') return a.principalId
  if (name.startsWith('claims.')) return a.claims === null ? null : a.claims[name.slice(7)] ?? null
  return Object.hasOwn(a.context, name) ? a.context[name]! : null
}
