import { anchorsSigningBytes } from '../evidence/anchors-signature.js';
import type { BundleAnchorEntry } from '../evidence/bundle-anchors.js';
import { signBytes } from '../evidence/ed25519.js';
import { bundleFormat, type EvidenceBundle } from '../evidence/evidence-bundle.js';
import type { SignedTreeHead } from '../evidence/tree-head.js';
import {
  verifyEvidenceBundle,
  type BundleVerification,
  type VerifyOptions,
} from '../evidence/verify-bundle.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { AnchorRecord, AnchorRepository } from '../repositories/anchor.repository.js';
import { AppError, notFound } from './errors.js';
import type { LogKeyring } from './log-keyring.js';
import type { ReportIntegrity } from './report-integrity.js';
import { toSignedTreeHead, type TransparencyLogService } from './transparency-log.service.js';

/** Evidence bundles of an organisation's analyses, and the offline verifier behind the API. */
export function createEvidenceService(deps: {
  analyses: Pick<AnalysisRepository, 'findById'>;
  transparencyLog: TransparencyLogService;
  anchors: Pick<AnchorRepository, 'newestCoveringHead' | 'forTreeHead'>;
  /** Signs the bundle's anchors, so no byte of a token can change unseen. */
  keyring: Pick<LogKeyring, 'current'>;
  /** Checks a finished report against its signed statement before it is served; absent: not checked (unit tests). */
  reportIntegrity?: Pick<ReportIntegrity, 'check'>;
}) {
  const { transparencyLog } = deps;

  /**
   * The head a bundle carries: the newest anchored head containing the leaf (any later head contains it too,
   * so the anchor covers the statement), else the newest containing head with an anchor pending, else the
   * latest head without anchors; with its anchors as they stand.
   */
  async function headFor(leafIndex: number): Promise<{ head: SignedTreeHead; anchors: AnchorRecord[] }> {
    const covering =
      (await deps.anchors.newestCoveringHead(leafIndex, 'anchored')) ??
      (await deps.anchors.newestCoveringHead(leafIndex, 'pending'));
    if (covering) {
      return {
        head: toSignedTreeHead(covering),
        anchors: await deps.anchors.forTreeHead(Number(covering.id)),
      };
    }
    let head = await transparencyLog.latestTreeHead();
    // Every append writes a head; a missing or older one means that write is still to come: sign it now.
    if (!head || head.treeSize <= leafIndex) head = await transparencyLog.signTreeHeadIfMoved();
    if (!head || head.treeSize <= leafIndex)
      throw new AppError(
        409,
        'evidence-not-ready',
        'Evidence not ready',
        'no tree head covers the statement yet',
      );
    // No head containing the leaf has an anchored or pending anchor (yet): the next anchored head will.
    return { head, anchors: [] };
  }

  return {
    /** Everything needed to check one analysis without this server: report, statement, proof, head, keys. */
    async bundle(orgId: string, analysisId: string): Promise<EvidenceBundle> {
      const analysis = await deps.analyses.findById(orgId, analysisId);
      if (!analysis) throw notFound('analysis');
      if (analysis.status !== 'done' || analysis.report === null)
        throw new AppError(
          409,
          'evidence-not-ready',
          'Evidence not ready',
          `the analysis is ${analysis.status}`,
        );
      await deps.reportIntegrity?.check(analysis);
      const { leaf, statement } = await transparencyLog.leafFor(analysis.id);
      const leafIndex = Number(leaf.leaf_index);
      const { head, anchors } = await headFor(leafIndex);
      const proof = await transparencyLog.inclusionProof(leafIndex, head.treeSize);
      const keys = await transparencyLog.publicKeys();
      const anchorEntries = anchors.map(bundleAnchorEntry);
      const signingKey = deps.keyring.current();
      return {
        format: bundleFormat,
        analysisId: analysis.id,
        report: analysis.report as Record<string, unknown>,
        statement,
        statementSignature: leaf.signature,
        keyId: leaf.key_id,
        leafIndex,
        inclusionProof: { treeSize: proof.treeSize, hashes: proof.hashes },
        treeHead: head,
        anchors: anchorEntries,
        ...(anchorEntries.length > 0
          ? {
              anchorsSignature: {
                keyId: signingKey.keyId,
                signature: signBytes(signingKey.privateKey, anchorsSigningBytes(analysis.id, anchorEntries)),
              },
            }
          : {}),
        publicKeys: keys.map(({ keyId, algorithm, publicKey }) => ({ keyId, algorithm, publicKey })),
      };
    },

    verify: (bundle: unknown, options: VerifyOptions): Promise<BundleVerification> =>
      verifyEvidenceBundle(bundle, options),
  };
}

/** A stored anchor as a bundle lists it: the receipt when anchored, the status otherwise. */
export function bundleAnchorEntry(record: AnchorRecord): BundleAnchorEntry {
  const treeHeadSha256 = record.tree_head_sha256;
  if (record.status === 'anchored' && record.kind === 'rfc3161' && record.tsa_token && record.tsa_gen_time) {
    return {
      type: 'rfc3161',
      status: 'anchored',
      treeHeadSha256,
      token: Buffer.from(record.tsa_token).toString('base64'),
      genTime: record.tsa_gen_time.toISOString(),
      serialNumber: record.tsa_serial_hex ?? '',
      tsaName: record.tsa_name,
    };
  }
  if (record.status === 'anchored' && record.kind === 'solana' && record.solana_signature) {
    return {
      type: 'solana',
      status: 'anchored',
      treeHeadSha256,
      cluster: record.solana_cluster as 'mainnet-beta' | 'testnet' | 'devnet' | 'localnet',
      signature: record.solana_signature,
      slot: Number(record.solana_slot),
      memo: record.solana_memo ?? '',
      feePayer: record.solana_fee_payer ?? '',
    };
  }
  return {
    type: record.kind,
    status: record.status === 'failed' ? 'failed' : 'pending',
    treeHeadSha256,
    attempts: record.attempts,
    reason: record.reason,
  };
}

export type EvidenceService = ReturnType<typeof createEvidenceService>;
