import * as asn1js from 'asn1js';
import { Certificate, ContentInfo, SignedData, TSTInfo, type RelativeDistinguishedNames } from 'pkijs';
import { copyBytes } from '../anchor-digest.js';
import { OID_SIGNED_DATA, OID_TST_INFO } from './timestamp-oids.js';

export interface ParsedTimestampToken {
  signedData: SignedData;
  tstInfo: TSTInfo;
}

/** Decodes a TimeStampToken (CMS ContentInfo holding SignedData over a TSTInfo); throws with what is wrong. */
export function parseTimestampToken(der: Uint8Array): ParsedTimestampToken {
  const contentInfo = new ContentInfo({ schema: decodeDer(der, 'token') });
  if (contentInfo.contentType !== OID_SIGNED_DATA) {
    throw new Error(`token content type is ${contentInfo.contentType}, not CMS SignedData`);
  }
  const signedData = new SignedData({ schema: contentInfo.content });
  const encapsulated = signedData.encapContentInfo;
  if (encapsulated.eContentType !== OID_TST_INFO || !encapsulated.eContent) {
    throw new Error(`token encapsulates ${encapsulated.eContentType}, not a TSTInfo`);
  }
  const tstInfo = new TSTInfo({ schema: decodeDer(encapsulated.eContent.getValue(), 'TSTInfo') });
  return { signedData, tstInfo };
}

export function decodeDer(bytes: ArrayBuffer | Uint8Array, what: string): asn1js.AsnType {
  const decoded = asn1js.fromBER(bytes instanceof Uint8Array ? copyBytes(bytes) : bytes);
  if (decoded.offset === -1) {
    throw new Error(`${what} is not valid DER: ${decoded.result.error}`);
  }
  return decoded.result;
}

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
};

/** Renders a distinguished name as `CN=…, O=…` for reports and logs. */
export function formatDistinguishedName(name: RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((pair) => `${SHORT_NAMES[pair.type] ?? pair.type}=${String(pair.value.valueBlock.value)}`)
    .join(', ');
}

/** The certificate the first SignerInfo names by issuer and serial number, if the token carries it. */
export function findSignerCertificate(signedData: SignedData): Certificate | null {
  const sid = signedData.signerInfos[0]?.sid;
  const certificates = (signedData.certificates ?? []).filter((cert) => cert instanceof Certificate);
  if (!sid || !('serialNumber' in sid)) return null;
  return (
    certificates.find(
      (cert) => cert.serialNumber.isEqual(sid.serialNumber) && cert.issuer.isEqual(sid.issuer),
    ) ?? null
  );
}
