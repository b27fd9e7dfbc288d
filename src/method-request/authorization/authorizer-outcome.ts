// What an authorizer established about the caller: $context.authorizer.* in templates and
// parameter mappings, requestContext.authorizer in the Lambda proxy event.
//
// NOTE for the merge: the access-lambda branch owns this type (ACCESS.md); this is the same
// shape with only the fields the Cognito user pool authorizer sets, so either file can win.
export interface AuthorizerOutcome {
  /** $context.authorizer.principalId (Lambda authorizers); null for Cognito. */
  readonly principalId: string | null
  /** The Lambda authorizer's context map ($context.authorizer.{key}); null for Cognito. */
  readonly context: Readonly<Record<string, string | number | boolean>> | null
  /** $context.authorizer.claims.{name}: the verified token's claims as strings (Cognito). */
  readonly claims: Readonly<Record<string, string>> | null
  /** The Lambda authorizer's usageIdentifierKey (API key source AUTHORIZER); null for Cognito. */
  readonly usageIdentifierKey: string | null
}

/**
 * $context.authorizer as templates see it, and requestContext.authorizer of the Lambda proxy
 * event: principalId and the context keys of a Lambda authorizer; `claims` of a Cognito one.
 */
export function authorizerVariables(outcome: AuthorizerOutcome): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (outcome.principalId !== null) out.principalId = outcome.principalId
  if (outcome.context !== null) Object.assign(out, outcome.context)
  if (outcome.claims !== null) out.claims = { ...outcome.claims }
  return out
}
