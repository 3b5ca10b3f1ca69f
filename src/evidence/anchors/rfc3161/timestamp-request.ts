import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, MessageImprint, TimeStampReq } from 'pkijs';
import { assertSha256Digest, copyBytes } from '../anchor-digest.js';
import { OID_SHA256 } from './timestamp-oids.js';

/** A positive 63-bit nonce: unpredictable enough to bind a response to this request. */
export function randomNonce(): bigint {
  return randomBytes(8).readBigUInt64BE() >> 1n;
}

/** DER TimeStampReq (RFC 3161 §2.4.1): SHA-256 imprint, our nonce, and the TSA's certificate requested. */
export function encodeTimestampRequest(digest: Uint8Array, nonce: bigint): Uint8Array {
  assertSha256Digest(digest);
  const request = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithmId: OID_SHA256, algorithmParams: new asn1js.Null() }),
      hashedMessage: new asn1js.OctetString({ valueHex: copyBytes(digest) }),
    }),
    nonce: asn1js.Integer.fromBigInt(nonce),
    certReq: true,
  });
  return new Uint8Array(request.toSchema().toBER());
}
