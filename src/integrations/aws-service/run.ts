// AWS service integrations (type: aws to DynamoDB, SQS, SNS, Step Functions, Kinesis,
// EventBridge, S3 …): the integration request is rendered as for HTTP (requestParameters,
// request template), sent to the service's endpoint signed with Signature Version 4, and
// the service's answer goes through the integration responses (selectionPattern on its
// status code). The guide: "Set up an integration request: AWS service integration",
// "Tutorial: Create a REST API as an Amazon DynamoDB proxy", "… as an Amazon SQS proxy".
import { SignatureV4 } from '@smithy/signature-v4'
import { Sha256 } from '@aws-crypto/sha256-js'
import type { CompiledAwsService, CompiledIntegration } from '../compile.js'
import type { RequestContext } from '../../pipeline/context.js'
import { prepareIntegrationRequest } from '../../integration-request/prepare.js'
import { sendGatewayResponse } from '../../method-response/gateway-responses.js'
import { HttpExchange, buildBackendPath } from '../http.js'
import { dropMappedHopByHop } from '../headers.js'
import { findHeader, setHeader } from '../../util/header-pairs.js'

/** One signer per compiled service (its credentials, region and name), made on first use. */
const signers = new WeakMap<CompiledAwsService, SignatureV4>()

function signerFor(svc: CompiledAwsService): SignatureV4 {
  let s = signers.get(svc)
  if (s === undefined) {
    const c = svc.credentials!
    s = new SignatureV4({
      service: svc.signingName,
      region: svc.uri.region,
      credentials: c.sessionToken === undefined ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
      sha256: Sha256,
      // S3 signs the path as sent; every other service signs it encoded once more.
      uriEscapePath: svc.signingName !== 's3',
    })
    signers.set(svc, s)
  }
  return s
}

/** Parses a query string into what the signer canonicalizes (names → value or values). */
function queryObject(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  if (query === '') return out
  for (const part of query.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const k = decodeURIComponent(eq === -1 ? part : part.slice(0, eq))
    const v = eq === -1 ? '' : decodeURIComponent(part.slice(eq + 1))
    const prev = out[k]
    if (prev === undefined) out[k] = v
    else if (Array.isArray(prev)) prev.push(v)
    else out[k] = [prev, v]
  }
  return out
}

export function runAwsService(ctx: RequestContext, integ: CompiledIntegration): void {
  const svc = integ.service!
  if (svc.credentials === null) {
    console.error(`[${ctx.requestId}] Execution failed due to configuration error: ${svc.credentialsProblem}`)
    sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
    return
  }
  const prepared = prepareIntegrationRequest(ctx, integ)
  if (prepared === null) return
  const headers = prepared.headers
  dropMappedHopByHop(headers)
  let target: string
  if (svc.path !== null) target = buildBackendPath(ctx, integ, false, prepared.overrides, svc.path, 0)
  else {
    // action/{Action}: Action=X in the query (query protocol), X-Amz-Target for JSON services.
    const rest = buildBackendPath(ctx, integ, false, prepared.overrides, [], 0)
    const q = rest.indexOf('?')
    target = '/?Action=' + svc.uri.target + (svc.uri.extraQuery === '' ? '' : '&' + svc.uri.extraQuery) + (q === -1 ? '' : '&' + rest.slice(q + 1))
    if (svc.json !== null) {
      if (findHeader(headers, 'x-amz-target') === null) headers.push('x-amz-target', `${svc.json.targetPrefix}.${svc.uri.target}`)
      // The template's media type is not the service's: JSON services read x-amz-json.
      setHeader(headers, 'content-type', `application/x-amz-json-${svc.json.version}`)
    }
  }
  setHeader(headers, 'host', svc.host)
  const q = target.indexOf('?')
  const record: Record<string, string> = {}
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!.toLowerCase()
    record[n] = record[n] === undefined ? headers[i + 1]! : record[n] + ',' + headers[i + 1]!
  }
  const body = prepared.body
  const secure = svc.origin.startsWith('https:')
  const colon = svc.host.lastIndexOf(':')
  const hostname = colon === -1 ? svc.host : svc.host.slice(0, colon)
  const port = colon === -1 ? undefined : Number(svc.host.slice(colon + 1))
  const method = integ.backendMethod ?? ctx.request.method
  // Signing is asynchronous (the signer's API): this path allocates its promise callbacks
  // per request, unlike the HTTP proxy path; AWS service calls are not its hot case.
  signerFor(svc)
    .sign({
      method,
      protocol: secure ? 'https:' : 'http:',
      hostname,
      ...(port === undefined ? {} : { port }),
      path: q === -1 ? target : target.slice(0, q),
      query: q === -1 ? {} : queryObject(target.slice(q + 1)),
      headers: record,
      body: body === null ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    })
    .then(
      (signed) => {
        const out: string[] = []
        for (const [k, v] of Object.entries(signed.headers)) out.push(k, v)
        new HttpExchange(ctx, integ, false).startSigned(svc.origin, target, out, body)
      },
      (err: unknown) => {
        console.error(`[${ctx.requestId}] Execution failed: the request could not be signed (${(err as Error).message})`)
        sendGatewayResponse(ctx, 'API_CONFIGURATION_ERROR', 'Internal server error')
      },
    )
}
