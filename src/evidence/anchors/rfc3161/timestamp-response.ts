import type * as asn1js from 'asn1js';
import { PKIStatus, TimeStampResp } from 'pkijs';
import { bytesEqual } from '../anchor-digest.js';
import { TimestampRequestError } from './timestamp-errors.js';
import { OID_SHA256 } from './timestamp-oids.js';
import {
  decodeDer,
  findSignerCertificate,
  formatDistinguishedName,
  parseTimestampToken,
} from './timestamp-token.js';

export interface GrantedTimestamp {
  /** DER TimeStampToken exactly as the TSA sent it. */
  token: Uint8Array;
  genTime: Date;
  serialNumberHex: string;
  /** The TSTInfo `tsa` name, else the signer certificate's subject, else null. */
  tsaName: string | null;
}

// RFC 3161 §2.4.2 PKIFailureInfo bit positions.
const FAILURE_BITS: Record<number, string> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
};

/** Parses a TimeStampResp and accepts it only when granted for our nonce and digest. */
export function acceptTimestampResponse(
  body: Uint8Array,
  digest: Uint8Array,
  nonce: bigint,
): GrantedTimestamp {
  const schema = malformedUnless(() => decodeDer(body, 'TimeStampResp'));
  const response = malformedUnless(() => new TimeStampResp({ schema }));
  const status = response.status.status;
  if (status !== PKIStatus.granted && status !== PKIStatus.grantedWithMods) {
    throw new TimestampRequestError('rejected', `TSA refused the request: ${describeStatus(response)}`);
  }
  const token = rawTokenBytes(schema, response);
  const { signedData, tstInfo } = malformedUnless(() => parseTimestampToken(token));
  const answeredNonce = tstInfo.nonce?.toBigInt();
  if (answeredNonce !== nonce) {
    throw new TimestampRequestError(
      'nonce-mismatch',
      `TSA answered nonce ${answeredNonce ?? 'none'} to our nonce ${nonce}: the response is not for this request`,
    );
  }
  const imprint = tstInfo.messageImprint;
  const hashed = imprint.hashedMessage.valueBlock.valueHexView;
  if (imprint.hashAlgorithm.algorithmId !== OID_SHA256 || !bytesEqual(hashed, digest)) {
    throw new TimestampRequestError('imprint-mismatch', 'TSA timestamped another digest than the one sent');
  }
  const signer = findSignerCertificate(signedData);
  return {
    token,
    genTime: tstInfo.genTime,
    serialNumberHex: Buffer.from(tstInfo.serialNumber.valueBlock.valueHexView).toString('hex'),
    tsaName:
      tstInfo.tsa?.type === 4
        ? formatDistinguishedName(tstInfo.tsa.value)
        : signer
          ? formatDistinguishedName(signer.subject)
          : null,
  };
}

function malformedUnless<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new TimestampRequestError(
      'malformed-response',
      `TSA response does not parse: ${errorText(error)}`,
      {
        cause: error,
      },
    );
  }
}

// The token's own bytes, not a re-encoding, so what we store is what the TSA signed and sent.
function rawTokenBytes(schema: asn1js.AsnType, response: TimeStampResp): Uint8Array {
  const tokenElement = (schema as asn1js.Sequence).valueBlock.value[1];
  if (!tokenElement || !response.timeStampToken) {
    throw new TimestampRequestError('malformed-response', 'TSA granted the request but sent no token');
  }
  return new Uint8Array(tokenElement.valueBeforeDecodeView);
}

function describeStatus(response: TimeStampResp): string {
  const { status, statusStrings, failInfo } = response.status;
  const parts = [`status ${PKIStatus[status] ?? status}`];
  const text = statusStrings?.map((line) => line.valueBlock.value).join('; ');
  if (text) parts.push(`"${text}"`);
  const failures = failInfo
    ? failureNames(failInfo.valueBlock.valueHexView, failInfo.valueBlock.unusedBits)
    : [];
  if (failures.length > 0) parts.push(`failInfo ${failures.join(', ')}`);
  return parts.join(', ');
}

function failureNames(bits: Uint8Array, unusedBits: number): string[] {
  const names: string[] = [];
  const total = bits.length * 8 - unusedBits;
  for (let bit = 0; bit < total; bit += 1) {
    if (((bits[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) names.push(FAILURE_BITS[bit] ?? `bit ${bit}`);
  }
  return names;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
