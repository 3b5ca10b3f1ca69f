import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import type { ExtKeyUsage } from 'pkijs';
import { Certificate, CertificateChainValidationEngine, type SignedData, type TSTInfo } from 'pkijs';
import { assertSha256Digest, bytesEqual } from '../anchor-digest.js';
import { errorText } from './timestamp-response.js';
import {
  OID_EXT_KEY_USAGE,
  OID_KP_TIME_STAMPING,
  OID_SHA256,
  OID_SIGNING_CERTIFICATE,
  OID_SIGNING_CERTIFICATE_V2,
} from './timestamp-oids.js';
import { cmsSignatureProblem } from './cms-signature.js';
import { findSignerCertificate, parseTimestampToken } from './timestamp-token.js';
import { parseCertificates } from './trusted-roots.js';

export type TimestampCheckName =
  | 'token-format'
  | 'cms-signature'
  | 'signing-certificate-binding'
  | 'timestamping-eku'
  | 'certificate-chain'
  | 'message-imprint';

export interface TimestampCheck {
  name: TimestampCheckName;
  passed: boolean;
  reason: string;
}

export interface TimestampVerification {
  /** True only when every check passed. */
  valid: boolean;
  checks: TimestampCheck[];
  genTime: Date | null;
}

export interface VerifyTimestampTokenOptions {
  token: Uint8Array;
  digest: Uint8Array;
  /** PEM text or DER bytes of the roots the TSA must chain to. */
  trustedRoots: Array<string | Uint8Array>;
}

/** Checks a TimeStampToken offline, each check reported on its own so a verifier can print them all. */
export async function verifyTimestampToken(
  options: VerifyTimestampTokenOptions,
): Promise<TimestampVerification> {
  assertSha256Digest(options.digest);
  let parsed: ReturnType<typeof parseTimestampToken>;
  try {
    parsed = parseTimestampToken(options.token);
  } catch (error) {
    const check = fail('token-format', `not an RFC 3161 TimeStampToken: ${errorText(error)}`);
    return { valid: false, checks: [check], genTime: null };
  }
  const { signedData, tstInfo } = parsed;
  const signer = findSignerCertificate(signedData);
  const checks = [
    pass('token-format', 'CMS SignedData holding a TSTInfo'),
    checkSignature(signedData, signer),
    checkSigningCertificateBinding(signedData, signer),
    checkTimestampingUsage(signer),
    await checkChain(signedData, signer, options.trustedRoots, tstInfo.genTime),
    checkImprint(tstInfo, options.digest),
  ];
  return { valid: checks.every((check) => check.passed), checks, genTime: tstInfo.genTime };
}

function checkSignature(signedData: SignedData, signer: Certificate | null): TimestampCheck {
  if (!signer) return fail('cms-signature', 'the token carries no signer certificate');
  try {
    const problem = cmsSignatureProblem(signedData, signer);
    return problem === null
      ? pass('cms-signature', 'signature over the TSTInfo verifies with the signer certificate')
      : fail('cms-signature', problem);
  } catch (error) {
    return fail('cms-signature', `signature could not be checked: ${errorText(error)}`);
  }
}

// RFC 3161 §2.4.2 / RFC 5035: the signed attributes name the signer certificate by hash, so it cannot be swapped.
function checkSigningCertificateBinding(signedData: SignedData, signer: Certificate | null): TimestampCheck {
  if (!signer) return fail('signing-certificate-binding', 'the token carries no signer certificate');
  const attributes = signedData.signerInfos[0]?.signedAttrs?.attributes ?? [];
  const v2 = attributes.find((attribute) => attribute.type === OID_SIGNING_CERTIFICATE_V2);
  const v1 = attributes.find((attribute) => attribute.type === OID_SIGNING_CERTIFICATE);
  const chosen = v2 ?? v1;
  if (!chosen) return fail('signing-certificate-binding', 'no signing-certificate attribute is signed');
  const certDer = new Uint8Array(signer.toSchema().toBER());
  try {
    const { algorithm, certHash } = firstEssCertId(chosen.values[0], v2 !== undefined);
    const actual = createHash(algorithm).update(certDer).digest();
    return bytesEqual(actual, certHash)
      ? pass('signing-certificate-binding', `signed ${algorithm} hash names the signer certificate`)
      : fail('signing-certificate-binding', 'the signed certificate hash names another certificate');
  } catch (error) {
    return fail(
      'signing-certificate-binding',
      `signing-certificate attribute unreadable: ${errorText(error)}`,
    );
  }
}

function firstEssCertId(value: unknown, isV2: boolean): { algorithm: string; certHash: Uint8Array } {
  const certs = (value as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
  const essCertId = certs.valueBlock.value[0] as asn1js.Sequence;
  const fields = essCertId.valueBlock.value;
  if (!isV2)
    return { algorithm: 'sha1', certHash: (fields[0] as asn1js.OctetString).valueBlock.valueHexView };
  const first = fields[0];
  if (first instanceof asn1js.OctetString)
    return { algorithm: 'sha256', certHash: first.valueBlock.valueHexView };
  const algorithmId = ((first as asn1js.Sequence).valueBlock.value[0] as asn1js.ObjectIdentifier).getValue();
  if (algorithmId !== OID_SHA256)
    throw new Error(`certificate hash algorithm ${algorithmId} is not supported`);
  return { algorithm: 'sha256', certHash: (fields[1] as asn1js.OctetString).valueBlock.valueHexView };
}

// RFC 3161 §2.3: the TSA certificate has exactly one, critical, extended key usage: timeStamping.
function checkTimestampingUsage(signer: Certificate | null): TimestampCheck {
  if (!signer) return fail('timestamping-eku', 'the token carries no signer certificate');
  const extension = signer.extensions?.find((candidate) => candidate.extnID === OID_EXT_KEY_USAGE);
  if (!extension) return fail('timestamping-eku', 'signer certificate has no extended key usage');
  const purposes = (extension.parsedValue as ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (!extension.critical) return fail('timestamping-eku', 'extended key usage is not marked critical');
  if (purposes.length !== 1 || purposes[0] !== OID_KP_TIME_STAMPING) {
    return fail('timestamping-eku', `extended key usage is ${purposes.join(', ')}, not timeStamping alone`);
  }
  return pass('timestamping-eku', 'signer certificate is for timestamping only (critical EKU)');
}

async function checkChain(
  signedData: SignedData,
  signer: Certificate | null,
  trustedRoots: Array<string | Uint8Array>,
  genTime: Date,
): Promise<TimestampCheck> {
  if (!signer) return fail('certificate-chain', 'the token carries no signer certificate');
  if (trustedRoots.length === 0) return fail('certificate-chain', 'no trusted root was given');
  try {
    const roots = trustedRoots.flatMap((root) => parseCertificates(root));
    const carried = (signedData.certificates ?? []).filter((cert) => cert instanceof Certificate);
    const engine = new CertificateChainValidationEngine({
      trustedCerts: roots,
      certs: carried,
      checkDate: genTime,
    });
    const result = await engine.verify();
    return result.result
      ? pass(
          'certificate-chain',
          `signer chains to a trusted root (checked at genTime ${genTime.toISOString()})`,
        )
      : fail('certificate-chain', `signer does not chain to a trusted root: ${result.resultMessage}`);
  } catch (error) {
    return fail('certificate-chain', `chain could not be built: ${errorText(error)}`);
  }
}

function checkImprint(tstInfo: TSTInfo, digest: Uint8Array): TimestampCheck {
  const imprint = tstInfo.messageImprint;
  if (imprint.hashAlgorithm.algorithmId !== OID_SHA256) {
    return fail('message-imprint', `imprint uses ${imprint.hashAlgorithm.algorithmId}, not SHA-256`);
  }
  return bytesEqual(imprint.hashedMessage.valueBlock.valueHexView, digest)
    ? pass('message-imprint', 'timestamped digest equals the expected digest')
    : fail('message-imprint', 'timestamped digest differs from the expected digest');
}

const pass = (name: TimestampCheckName, reason: string): TimestampCheck => ({ name, passed: true, reason });
const fail = (name: TimestampCheckName, reason: string): TimestampCheck => ({ name, passed: false, reason });
