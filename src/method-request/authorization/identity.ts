// The caller's identity once authorization has authenticated it: $context.identity.* in
// templates and parameter mappings, requestContext.identity in the Lambda proxy event.
// One frozen object per IAM principal, built at compile time: a request only points at it.
//
// API Gateway developer guide, "$context Variables for data models, authorizers, mapping
// templates, and access logging": identity.accessKey (the AWS access key of the request),
// accountId, caller ("the principal identifier of the caller that signed the request"),
// user ("the principal identifier of the user that will be authorized"), userArn, and the
// cognito* fields, which only Amazon Cognito identity pools (IAM callers with Cognito
// credentials) fill: a user pool authorizer leaves them null.
import { createHash } from 'node:crypto'
import type { CredentialSource } from '../../config/model.js'

/** The fields of $context.identity that authentication fills (sourceIp, userAgent and the API key fields come from elsewhere). */
export interface CallerIdentity {
  /** $context.identity.accessKey: the access key id the request was signed with. */
  readonly accessKey: string | null
  /** $context.identity.accountId: the caller's AWS account. */
  readonly accountId: string | null
  /** $context.identity.caller: the principal id of the signer. */
  readonly caller: string | null
  /** $context.identity.user: the principal id that is authorized. */
  readonly user: string | null
  /** $context.identity.userArn. */
  readonly userArn: string | null
  /** $context.identity.cognitoAuthenticationProvider (identity pools only). */
  readonly cognitoAuthenticationProvider: string | null
  /** $context.identity.cognitoAuthenticationType (identity pools only). */
  readonly cognitoAuthenticationType: string | null
  /** $context.identity.cognitoIdentityId (identity pools only). */
  readonly cognitoIdentityId: string | null
  /** $context.identity.cognitoIdentityPoolId (identity pools only). */
  readonly cognitoIdentityPoolId: string | null
  /** $context.identity.principalOrgId. */
  readonly principalOrgId: string | null
}

/** The names of CallerIdentity's fields, for $context.identity.* lookups (parameter mappings). */
export const CALLER_IDENTITY_FIELDS: readonly (keyof CallerIdentity)[] = Object.freeze([
  'accessKey', 'accountId', 'caller', 'user', 'userArn', 'cognitoAuthenticationProvider', 'cognitoAuthenticationType', 'cognitoIdentityId', 'cognitoIdentityPoolId', 'principalOrgId',
])

/** The account id in an IAM or STS ARN (arn:aws:iam::123456789012:user/alice), or null. */
export function accountOfArn(arn: string): string | null {
  const parts = arn.split(':')
  return parts.length >= 6 && /^\d{12}$/.test(parts[4]!) ? parts[4]! : null
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

/**
 * IAM's unique ids look like AIDA… (users) and AROA… (roles), 21 characters. The gateway
 * config names principals by ARN only, so the id is derived from the ARN: stable across
 * restarts and workers, different for different principals.
 */
function principalIdOf(prefix: string, arn: string): string {
  const digest = createHash('sha256').update(arn).digest()
  let id = prefix
  for (let i = 0; id.length < 21; i++) id += BASE32[digest[i]! & 31]
  return id
}

/**
 * The identity of an IAM principal (gateway config `credentials`): a user ARN gives
 * caller = user = its AIDA… id; an assumed-role ARN (arn:aws:sts::…:assumed-role/Role/session)
 * gives AROA…:session, as IAM reports role sessions.
 */
export function compileCallerIdentity(cred: CredentialSource): CallerIdentity {
  const role = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/.exec(cred.arn)
  const principal = role !== null ? `${principalIdOf('AROA', `arn:role:${role[1]}`)}:${role[2]}` : principalIdOf('AIDA', cred.arn)
  return Object.freeze({
    accessKey: cred.accessKeyId,
    accountId: accountOfArn(cred.arn),
    caller: principal,
    user: principal,
    userArn: cred.arn,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
  })
}
