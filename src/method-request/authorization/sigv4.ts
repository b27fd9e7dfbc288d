// Signature Version 4 verification for AWS_IAM methods: reads the signature from the
// Authorization header or the presigned query string, and recomputes the expected one with
// AWS's own implementation (@smithy/signature-v4: canonical headers, canonical request,
// string to sign, signing key), so the gateway agrees with AWS's SDKs byte for byte.
//
// AWS General Reference, "Signature Version 4 signing process" / "Elements of an AWS API
// request signature": Authorization: AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/region/service/aws4_request,
// SignedHeaders=a;b;c, Signature=hex; or the query parameters X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature (and X-Amz-Security-Token).
import { timingSafeEqual } from 'node:crypto'
import { Hash } from '@smithy/hash-node'
import { SignatureV4, createScope, getCanonicalHeaders, getPayloadHash, getSigningKey } from '@smithy/signature-v4'

/** The one algorithm SigV4 (not SigV4a) callers use. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256'
/** The service name in the credential scope of an execute-api call. */
export const EXECUTE_API_SERVICE = 'execute-api'
/** How far X-Amz-Date may be from the gateway's clock: AWS's "(… - 5 min.)" window. */
export const SIGNATURE_CLOCK_SKEW_MS = 5 * 60_000
/** The longest X-Amz-Expires of a presigned request: seven days, as SigV4 allows. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 7 * 24 * 3600

/** What the gateway verifies a signature over: the request as received. */
export interface SignedRequest {
  readonly method: string
  /** The path as on the request line, still percent-encoded (stage included). */
  readonly path: string
  /** Raw query string without '?'. */
  readonly query: string
  /** Header pairs, names lower-case. */
  readonly headers: readonly string[]
  /** The body as the client sent it (before any decompression), or null. */
  readonly body: Uint8Array | null
}

/** A signature read from a request. */
export interface ParsedSignature {
  readonly accessKeyId: string
  /** The credential scope's parts. */
  readonly scopeDate: string
  readonly region: string
  readonly service: string
  readonly terminator: string
  /** X-Amz-Date (yyyymmddThhmmssZ), or the Date header converted to it. */
  readonly amzDate: string
  readonly signedHeaders: readonly string[]
  readonly signature: string
  /** True for the query-string (presigned) form. */
  readonly presigned: boolean
  /** X-Amz-Expires for presigned requests, else null. */
  readonly expiresSeconds: number | null
  /** X-Amz-Security-Token (header or query), or null. */
  readonly securityToken: string | null
}

export type SignatureReading =
  | { readonly kind: 'absent' }
  | { readonly kind: 'incomplete'; readonly message: string }
  | { readonly kind: 'signed'; readonly signature: ParsedSignature }

function headerValue(headers: readonly string[], name: string): string | null {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1]!
  return null
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Query names → decoded values, in order (SigV4 canonicalizes the decoded values; `+` is not a space). */
export function parseSigningQuery(query: string): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>
  if (query === '') return out
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = decodeComponent(eq === -1 ? part : part.slice(0, eq))
    const value = eq === -1 ? '' : decodeComponent(part.slice(eq + 1))
    const list = out[name]
    if (list === undefined) out[name] = [value]
    else list.push(value)
  }
  return out
}

/** yyyymmddThhmmssZ, the form of X-Amz-Date. */
export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
}

/** X-Amz-Date → epoch ms, or NaN. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s)
  return m === null ? NaN : Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

function splitCredential(credential: string): [string, string, string, string, string] | null {
  const parts = credential.split('/')
  if (parts.length !== 5 || parts.some((p) => p === '')) return null
  return parts as [string, string, string, string, string]
}

/**
 * Reads the signature of a request. 'absent' when it carries none (neither an Authorization
 * header nor X-Amz-Algorithm in the query): API Gateway's "Missing Authentication Token".
 * 'incomplete' with AWS's IncompleteSignature text when parts are missing.
 */
export function readSignature(req: SignedRequest): SignatureReading {
  const auth = headerValue(req.headers, 'authorization')
  const query = parseSigningQuery(req.query)
  const tokenHeader = headerValue(req.headers, 'x-amz-security-token')
  if (auth !== null) {
    const fields: Record<string, string> = {}
    const space = auth.indexOf(' ')
    const algorithm = space === -1 ? auth : auth.slice(0, space)
    if (algorithm === SIGV4_ALGORITHM) {
      for (const piece of auth.slice(space + 1).split(',')) {
        const eq = piece.indexOf('=')
        if (eq !== -1) fields[piece.slice(0, eq).trim()] = piece.slice(eq + 1).trim()
      }
    }
    let amzDate = headerValue(req.headers, 'x-amz-date')
    if (amzDate === null) {
      const date = headerValue(req.headers, 'date')
      if (date !== null && !Number.isNaN(Date.parse(date))) amzDate = formatAmzDate(Date.parse(date))
    }
    // AWS's IncompleteSignatureException lists every missing part, then echoes the header.
    let missing = ''
    if (fields.Credential === undefined) missing += "Authorization header requires 'Credential' parameter. "
    if (fields.Signature === undefined) missing += "Authorization header requires 'Signature' parameter. "
    if (fields.SignedHeaders === undefined) missing += "Authorization header requires 'SignedHeaders' parameter. "
    if (amzDate === null) missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
    if (missing !== '') return { kind: 'incomplete', message: `${missing}Authorization=${auth}` }
    const credential = splitCredential(fields.Credential!)
    if (credential === null) return { kind: 'incomplete', message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${fields.Credential}'` }
    return {
      kind: 'signed',
      signature: {
        accessKeyId: credential[0], scopeDate: credential[1], region: credential[2], service: credential[3], terminator: credential[4],
        amzDate: amzDate!, signedHeaders: fields.SignedHeaders!.split(';'), signature: fields.Signature!, presigned: false, expiresSeconds: null, securityToken: tokenHeader,
      },
    }
  }
  const algorithm = query['X-Amz-Algorithm']
  if (algorithm === undefined) return { kind: 'absent' }
  const one = (name: string): string | undefined => query[name]?.[0]
  let missing = ''
  for (const name of ['X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date']) {
    if (one(name) === undefined) missing += `AWS query-string parameters must include '${name}'. `
  }
  if (algorithm[0] !== SIGV4_ALGORITHM) missing += `Unsupported AWS 'algorithm': '${algorithm[0]}'. `
  if (missing !== '') return { kind: 'incomplete', message: `${missing}Re-examine the query-string parameters.` }
  const credential = splitCredential(one('X-Amz-Credential')!)
  if (credential === null) return { kind: 'incomplete', message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${one('X-Amz-Credential')}'` }
  const expiresRaw = one('X-Amz-Expires')
  const expires = expiresRaw === undefined ? null : Number(expiresRaw)
  if (expires !== null && (!Number.isInteger(expires) || expires < 0 || expires > MAX_PRESIGNED_EXPIRES_SECONDS)) {
    return { kind: 'incomplete', message: `X-Amz-Expires must be an integer from 0 to ${MAX_PRESIGNED_EXPIRES_SECONDS}, got '${expiresRaw}'` }
  }
  return {
    kind: 'signed',
    signature: {
      accessKeyId: credential[0], scopeDate: credential[1], region: credential[2], service: credential[3], terminator: credential[4],
      amzDate: one('X-Amz-Date')!, signedHeaders: one('X-Amz-SignedHeaders')!.split(';'), signature: one('X-Amz-Signature')!, presigned: true,
      expiresSeconds: expires, securityToken: one('X-Amz-Security-Token') ?? tokenHeader,
    },
  }
}

/** Exposes @smithy/signature-v4's canonical request and string to sign (protected there). */
class ExecuteApiSigner extends SignatureV4 {
  canonicalRequest(request: Parameters<SignatureV4['createCanonicalRequest']>[0], headers: Parameters<SignatureV4['createCanonicalRequest']>[1], payloadHash: string): string {
    return this.createCanonicalRequest(request, headers, payloadHash)
  }

  stringToSign(longDate: string, scope: string, canonicalRequest: string): Promise<string> {
    return this.createStringToSign(longDate, scope, canonicalRequest, SIGV4_ALGORITHM)
  }
}

const SHA256 = Hash.bind(null, 'sha256')
/** Credentials and region are unused: only the canonicalization methods are called. */
const signer = new ExecuteApiSigner({ service: EXECUTE_API_SERVICE, region: 'unused', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' }, sha256: SHA256, uriEscapePath: true })

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** What the gateway computed: the signature, and the texts AWS quotes when it does not match. */
export interface ExpectedSignature {
  readonly signature: string
  readonly canonicalRequest: string
  readonly stringToSign: string
}

/** Computes the signature the request should carry, signed with `secretAccessKey` over the parts it names. */
export async function computeExpectedSignature(req: SignedRequest, sig: ParsedSignature, secretAccessKey: string): Promise<ExpectedSignature> {
  // Only the headers the client signed, each name's values joined by ',' (SigV4's rule).
  const signed = new Set(sig.signedHeaders)
  const headers: Record<string, string> = Object.create(null)
  for (let i = 0; i < req.headers.length; i += 2) {
    const name = req.headers[i]!
    if (!signed.has(name)) continue
    headers[name] = headers[name] === undefined ? req.headers[i + 1]! : `${headers[name]},${req.headers[i + 1]!}`
  }
  const query = parseSigningQuery(req.query) as Record<string, string | string[]>
  for (const k of Object.keys(query)) if ((query[k] as string[]).length === 1) query[k] = (query[k] as string[])[0]!
  const request = { method: req.method, protocol: 'http:', hostname: headers.host ?? '', path: req.path, query, headers, body: req.body ?? undefined }
  const canonicalHeaders = getCanonicalHeaders(request, undefined, signed)
  const payloadHash = await getPayloadHash({ ...request, headers: {} }, SHA256)
  const canonicalRequest = signer.canonicalRequest(request, canonicalHeaders, payloadHash)
  const scope = createScope(sig.scopeDate, sig.region, sig.service)
  const stringToSign = await signer.stringToSign(sig.amzDate, scope, canonicalRequest)
  const key = await getSigningKey(SHA256, { accessKeyId: sig.accessKeyId, secretAccessKey }, sig.scopeDate, sig.region, sig.service)
  const hmac = new SHA256(key)
  hmac.update(stringToSign)
  return { signature: toHex(await hmac.digest()), canonicalRequest, stringToSign }
}

/** Constant-time comparison of two hex signatures. */
export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

/** AWS's text for a signature that does not match, with the canonical request and string to sign it expected. */
export function signatureMismatchMessage(expected: ExpectedSignature): string {
  return 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.' +
    `\n\nThe Canonical String for this request should have been\n'${expected.canonicalRequest}'\n\nThe String-to-Sign should have been\n'${expected.stringToSign}'\n`
}

/**
 * The time check: null when the signature is current, else AWS's text. Header signatures
 * must be within SIGNATURE_CLOCK_SKEW_MS of the gateway's clock; presigned ones are valid
 * from X-Amz-Date (less the skew) until X-Amz-Date + X-Amz-Expires.
 */
export function checkSignatureTime(sig: ParsedSignature, now: number): string | null {
  const at = parseAmzDate(sig.amzDate)
  if (Number.isNaN(at)) return `Date must be in ISO-8601 'basic format'. Got '${sig.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`
  if (at > now + SIGNATURE_CLOCK_SKEW_MS) return `Signature not yet current: ${sig.amzDate} is still later than ${formatAmzDate(now + SIGNATURE_CLOCK_SKEW_MS)} (${formatAmzDate(now)} + 5 min.)`
  if (sig.presigned) {
    const expires = sig.expiresSeconds ?? MAX_PRESIGNED_EXPIRES_SECONDS
    if (now > at + expires * 1000) return `Signature expired: ${sig.amzDate} is now earlier than ${formatAmzDate(now - expires * 1000)} (${formatAmzDate(now)} - ${expires} sec.)`
    return null
  }
  if (at < now - SIGNATURE_CLOCK_SKEW_MS) return `Signature expired: ${sig.amzDate} is now earlier than ${formatAmzDate(now - SIGNATURE_CLOCK_SKEW_MS)} (${formatAmzDate(now)} - 5 min.)`
  return null
}
