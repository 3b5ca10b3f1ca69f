import { createHash, createPublicKey, verify } from 'node:crypto';
import type * as asn1js from 'asn1js';
import type { Certificate, SignedData } from 'pkijs';
import { bytesEqual } from '../anchor-digest.js';
import {
  DIGEST_NAMES,
  OID_CONTENT_TYPE_ATTRIBUTE,
  OID_MESSAGE_DIGEST_ATTRIBUTE,
  OID_RSASSA_PSS,
  OID_TST_INFO,
} from './timestamp-oids.js';

/**
 * Verifies the first SignerInfo of a timestamp token (RFC 5652 §5.4): the signed attributes name a TSTInfo and
 * its digest, and the signature over those attributes verifies with the signer's key. Returns why not, or null.
 * Done here rather than by pkijs because pkijs wants the timestamped data itself, where we hold only its digest.
 */
export function cmsSignatureProblem(signedData: SignedData, signer: Certificate): string | null {
  const signerInfo = signedData.signerInfos[0];
  const signedAttributes = signerInfo?.signedAttrs;
  const content = signedData.encapContentInfo.eContent;
  if (!signerInfo || !signedAttributes || !content)
    return 'the token has no signed attributes over a TSTInfo';
  const digestName = DIGEST_NAMES[signerInfo.digestAlgorithm.algorithmId];
  if (!digestName) return `digest algorithm ${signerInfo.digestAlgorithm.algorithmId} is not supported`;
  if (signerInfo.signatureAlgorithm.algorithmId === OID_RSASSA_PSS)
    return 'RSASSA-PSS signatures are not supported';

  const attribute = (type: string) =>
    signedAttributes.attributes.find((candidate) => candidate.type === type);
  const contentType = attribute(OID_CONTENT_TYPE_ATTRIBUTE)?.values[0] as asn1js.ObjectIdentifier | undefined;
  if (contentType?.getValue() !== OID_TST_INFO) return 'the signed content-type attribute is not TSTInfo';
  const signedDigest = attribute(OID_MESSAGE_DIGEST_ATTRIBUTE)?.values[0] as asn1js.OctetString | undefined;
  const contentDigest = createHash(digestName).update(new Uint8Array(content.getValue())).digest();
  if (!signedDigest || !bytesEqual(signedDigest.valueBlock.valueHexView, contentDigest)) {
    return 'the signed message digest does not match the TSTInfo';
  }

  // The signature covers the attributes DER-encoded as a SET OF, not with their [0] IMPLICIT tag.
  const signedBytes = new Uint8Array(signedAttributes.encodedValue);
  signedBytes[0] = 0x31;
  const publicKey = createPublicKey({
    key: Buffer.from(signer.subjectPublicKeyInfo.toSchema().toBER()),
    format: 'der',
    type: 'spki',
  });
  const signature = signerInfo.signature.valueBlock.valueHexView;
  return verify(digestName, signedBytes, publicKey, signature) ? null : 'the signature does not verify';
}
