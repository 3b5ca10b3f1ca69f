import { canonicalJson, canonicalSha256 } from './canonical-json.js';
import { keyIdOf, verifySignature } from './ed25519.js';
import { evidenceBundleSchema, type EvidenceBundle } from './evidence-bundle.js';
import { verifyInclusion } from './merkle.js';
import { statementBytes, statementLeafHash } from './statement.js';
import { verifyTreeHeadSignature } from './tree-head.js';
import { anchorChecks, type AnchorVerifyOptions } from './verify-anchors.js';
import { anchorsSigningBytes } from './anchors-signature.js';

export type CheckStatus = 'passed' | 'failed' | 'not-checked';

export interface VerificationCheck {
  name:
    | 'bundle-format'
    | 'canonical-form'
    | 'statement-signature'
    | 'report-hash'
    | 'inclusion-proof'
    | 'tree-head-signature'
    | 'anchors-signature'
    | 'trusted-key'
    | 'media-hash'
    | 'anchors'
    | 'anchor-rfc3161'
    | 'anchor-solana';
  status: CheckStatus;
  detail: string;
}

export interface BundleVerification {
  /** True only when no check failed (checks that could not run are listed, and do not fail it). */
  ok: boolean;
  /** True only when every check ran and passed: nothing was left unchecked. */
  complete: boolean;
  checks: VerificationCheck[];
}

export interface VerifyOptions extends AnchorVerifyOptions {
  /** Lowercase hex SHA-256 of the media file the bundle should be about. */
  mediaSha256?: string;
  /** Key ids the verifier trusts; every key the bundle uses must be one of them. */
  trustedKeyIds?: readonly string[];
  /** The bundle file's text, when verifying a file: it must be exactly the RFC 8785 form issued. */
  fileText?: string;
}

/** Every check that can run offline, with no server and no database (Solana anchors need an RPC URL). */
export async function verifyEvidenceBundle(
  input: unknown,
  options: VerifyOptions = {},
): Promise<BundleVerification> {
  const checks: VerificationCheck[] = [];
  const add = (name: VerificationCheck['name'], passed: boolean, detail: string) =>
    checks.push({ name, status: passed ? 'passed' : 'failed', detail });
  const skip = (name: VerificationCheck['name'], detail: string) =>
    checks.push({ name, status: 'not-checked', detail });

  const parsed = evidenceBundleSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    add('bundle-format', false, `not an evidence bundle: ${problems.join('; ')}`);
    return { ok: false, complete: false, checks };
  }
  // The parse validated the shape; hashes are taken over the values exactly as they were read.
  const bundle = input as EvidenceBundle;
  const mismatch = fieldMismatch(bundle);
  add('bundle-format', mismatch === null, mismatch ?? 'a guardian-evidence-bundle-v1 whose fields agree');
  if (options.fileText !== undefined) {
    const canonical = options.fileText === canonicalJson(bundle);
    add(
      'canonical-form',
      canonical,
      canonical
        ? 'the file is byte for byte the RFC 8785 form in which it was issued'
        : 'the file is not in its RFC 8785 form: it was edited or reformatted after it was issued',
    );
  }

  const keys = new Map(bundle.publicKeys.map((key) => [key.keyId, Buffer.from(key.publicKey, 'base64')]));
  const badKey = bundle.publicKeys.find((key) => keyIdOf(Buffer.from(key.publicKey, 'base64')) !== key.keyId);
  const keyFor = (keyId: string) => (badKey ? undefined : keys.get(keyId));

  const statementKey = keyFor(bundle.statement.keyId);
  add(
    'statement-signature',
    statementKey !== undefined &&
      verifySignature(statementKey, statementBytes(bundle.statement), bundle.statementSignature),
    badKey
      ? `public key ${badKey.keyId} does not hash to its key id`
      : statementKey
        ? `Ed25519 signature over the statement's RFC 8785 form by key ${bundle.statement.keyId}`
        : `key ${bundle.statement.keyId} is not among the bundle's public keys`,
  );

  const reportSha256 = safely(() => canonicalSha256(bundle.report));
  add(
    'report-hash',
    reportSha256 === bundle.statement.report.sha256,
    `SHA-256 of the report's RFC 8785 form is ${reportSha256 ?? 'not computable'}; the statement says ${bundle.statement.report.sha256}`,
  );

  const { treeHead, inclusionProof } = bundle;
  const included =
    inclusionProof.treeSize === treeHead.treeSize &&
    verifyInclusion({
      leafIndex: bundle.leafIndex,
      treeSize: treeHead.treeSize,
      leafHash: statementLeafHash(bundle.statement),
      proof: inclusionProof.hashes.map((hash) => Buffer.from(hash, 'hex')),
      rootHash: Buffer.from(treeHead.rootHash, 'hex'),
    });
  add(
    'inclusion-proof',
    included,
    `statement as leaf ${bundle.leafIndex} of the log at size ${treeHead.treeSize} (RFC 9162 inclusion proof, ${inclusionProof.hashes.length} hashes) ${included ? 'leads' : 'does not lead'} to root ${treeHead.rootHash}`,
  );

  const headKey = keyFor(treeHead.keyId);
  add(
    'tree-head-signature',
    headKey !== undefined && verifyTreeHeadSignature(treeHead, headKey),
    headKey
      ? `Ed25519 signature over the tree head's RFC 8785 form by key ${treeHead.keyId}`
      : `key ${treeHead.keyId} is not among the bundle's public keys (or a key does not match its id)`,
  );

  if (bundle.anchors.length > 0) {
    const signed = bundle.anchorsSignature;
    const anchorsKey = signed ? keyFor(signed.keyId) : undefined;
    add(
      'anchors-signature',
      signed !== undefined &&
        anchorsKey !== undefined &&
        verifySignature(anchorsKey, anchorsSigningBytes(bundle.analysisId, bundle.anchors), signed.signature),
      signed
        ? `Ed25519 signature over the anchors' RFC 8785 form by key ${signed.keyId} (covers every byte of the tokens, including those the TSA does not sign)`
        : 'the anchors carry no signature by the log key',
    );
  }

  const usedKeys = [
    ...new Set([
      bundle.statement.keyId,
      treeHead.keyId,
      ...(bundle.anchorsSignature ? [bundle.anchorsSignature.keyId] : []),
    ]),
  ];
  if (options.trustedKeyIds && options.trustedKeyIds.length > 0) {
    const untrusted = usedKeys.filter((keyId) => !options.trustedKeyIds?.includes(keyId));
    add(
      'trusted-key',
      untrusted.length === 0,
      untrusted.length === 0
        ? `signed only by trusted keys (${usedKeys.join(', ')})`
        : `signed by keys you did not trust: ${untrusted.join(', ')}`,
    );
  } else {
    skip(
      'trusted-key',
      `the signatures were checked with the bundle's own keys (${usedKeys.join(', ')}); anyone can make a bundle with a key of their own: give the log's published key (--trusted-key) to know it came from this log`,
    );
  }

  if (options.mediaSha256 !== undefined) {
    add(
      'media-hash',
      options.mediaSha256 === bundle.statement.media.sha256,
      `the media file's SHA-256 is ${options.mediaSha256}; the statement is about ${bundle.statement.media.sha256}`,
    );
  } else {
    skip(
      'media-hash',
      `no media file given: the statement is about a file with SHA-256 ${bundle.statement.media.sha256}`,
    );
  }

  checks.push(...(await anchorChecks(bundle, options)));
  return {
    ok: checks.every((check) => check.status !== 'failed'),
    complete: checks.every((check) => check.status === 'passed'),
    checks,
  };
}

function fieldMismatch(bundle: EvidenceBundle): string | null {
  if (bundle.analysisId !== bundle.statement.analysisId) return 'analysisId differs from the statement';
  if (bundle.keyId !== bundle.statement.keyId) return 'keyId differs from the statement';
  if (bundle.leafIndex >= bundle.treeHead.treeSize) return 'the leaf index is outside the tree head';
  return null;
}

function safely<T>(compute: () => T): T | null {
  try {
    return compute();
  } catch {
    return null;
  }
}
