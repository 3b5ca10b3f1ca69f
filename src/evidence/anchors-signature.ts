import { canonicalJson } from './canonical-json.js';

export const anchorsSignatureFormat = 'guardian-bundle-anchors-v1';

/**
 * What the log key signs over a bundle's anchors: an RFC 3161 token holds bytes its TSA does not sign (CMS
 * framing, algorithm identifiers, extra certificates), so without this an edited byte there could verify.
 */
export function anchorsSigningBytes(analysisId: string, anchors: readonly unknown[]): Buffer {
  return Buffer.from(canonicalJson({ format: anchorsSignatureFormat, analysisId, anchors }), 'utf8');
}
