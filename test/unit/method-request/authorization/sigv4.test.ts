// SigV4 verification against AWS's own worked example (AWS General Reference, "Signature
// Version 4 signing process": GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08,
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830T123600Z, canonical request
// hash f536975d…, signature 5d672d79…), and the reading and time rules.
import t from 'tap'
import { createHash } from 'node:crypto'
import { checkSignatureTime, computeExpectedSignature, formatAmzDate, parseAmzDate, readSignature, signaturesEqual, type ParsedSignature, type SignedRequest } from '../../../../src/method-request/authorization/sigv4.js'

const EXAMPLE: SignedRequest = {
  method: 'GET',
  path: '/',
  query: 'Action=ListUsers&Version=2010-05-08',
  headers: [
    'host', 'iam.amazonaws.com',
    'content-type', 'application/x-www-form-urlencoded; charset=utf-8',
    'x-amz-date', '20150830T123600Z',
    'authorization', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
  ],
  body: null,
}

t.test('the AWS documentation example verifies', async (t) => {
  const reading = readSignature(EXAMPLE)
  t.equal(reading.kind, 'signed')
  if (reading.kind !== 'signed') return
  const sig = reading.signature
  t.match(sig, { accessKeyId: 'AKIDEXAMPLE', scopeDate: '20150830', region: 'us-east-1', service: 'iam', terminator: 'aws4_request', amzDate: '20150830T123600Z', signedHeaders: ['content-type', 'host', 'x-amz-date'], presigned: false, securityToken: null })
  const expected = await computeExpectedSignature(EXAMPLE, sig, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')
  t.equal(expected.canonicalRequest, 'GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  t.equal(createHash('sha256').update(expected.canonicalRequest).digest('hex'), 'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59')
  t.equal(expected.stringToSign, 'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59')
  t.equal(expected.signature, '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7')
  t.ok(signaturesEqual(expected.signature, sig.signature))
  const wrong = await computeExpectedSignature(EXAMPLE, sig, 'another-secret')
  t.notOk(signaturesEqual(wrong.signature, sig.signature))
  t.notOk(signaturesEqual('abc', sig.signature), 'different lengths never match')
})

t.test('reading: absent, incomplete, presigned', async (t) => {
  t.strictSame(readSignature({ ...EXAMPLE, headers: ['host', 'h'], query: '' }), { kind: 'absent' })
  t.strictSame(readSignature({ ...EXAMPLE, headers: ['host', 'h', 'authorization', 'AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/execute-api/aws4_request'], query: '' }), {
    kind: 'incomplete',
    message: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/execute-api/aws4_request",
  })
  const presigned = readSignature({ ...EXAMPLE, headers: ['host', 'h'], query: 'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc&X-Amz-Security-Token=tok' })
  t.match(presigned, { kind: 'signed', signature: { accessKeyId: 'AKID', service: 'execute-api', presigned: true, expiresSeconds: 60, signedHeaders: ['host'], signature: 'abc', securityToken: 'tok' } })
  t.match(readSignature({ ...EXAMPLE, headers: [], query: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' }), { kind: 'incomplete', message: /must include 'X-Amz-Credential'/ })
})

t.test('the time window: 5 minutes either side for headers, X-Amz-Expires for presigned', async (t) => {
  const at = parseAmzDate('20150830T123600Z')
  t.equal(formatAmzDate(at), '20150830T123600Z')
  const sig = { amzDate: '20150830T123600Z', presigned: false, expiresSeconds: null } as ParsedSignature
  t.equal(checkSignatureTime(sig, at + 5 * 60_000), null, 'exactly 5 minutes old is still current')
  t.equal(checkSignatureTime(sig, at + 5 * 60_000 + 1000), 'Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)')
  t.equal(checkSignatureTime(sig, at - 6 * 60_000), 'Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T123000Z + 5 min.)')
  const pre = { amzDate: '20150830T123600Z', presigned: true, expiresSeconds: 60 } as ParsedSignature
  t.equal(checkSignatureTime(pre, at + 60_000), null)
  t.match(checkSignatureTime(pre, at + 61_000), /^Signature expired: 20150830T123600Z is now earlier than/)
  t.match(checkSignatureTime({ ...sig, amzDate: '2015-08-30' }, at), /^Date must be in ISO-8601 'basic format'/)
})
