// What an authorizer leaves on the request once it has decided: ctx.authorizer. The
// access-lambda branch defines the whole shape (principalId, context, claims, …); this is
// the part the API key step reads, so that the two merge trivially.

export interface AuthorizerOutcome {
  /** The API key the authorizer names for usage plans (apiKeySource AUTHORIZER); null when none. */
  readonly usageIdentifierKey: string | null
}
