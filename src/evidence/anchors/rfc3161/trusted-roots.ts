import { Certificate } from 'pkijs';
import { decodeDer } from './timestamp-token.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** Reads certificates given as PEM text (one or many) or as one DER certificate. */
export function parseCertificates(input: string | Uint8Array): Certificate[] {
  const text =
    typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : null;
  if (text === null) return [new Certificate({ schema: decodeDer(input as Uint8Array, 'certificate') })];
  const blocks = [...text.matchAll(PEM_CERTIFICATE)].map((match) => Buffer.from(match[1] ?? '', 'base64'));
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((der) => new Certificate({ schema: decodeDer(der, 'certificate') }));
}

function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
}
