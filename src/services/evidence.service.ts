import { bundleFormat, type EvidenceBundle } from '../evidence/evidence-bundle.js';
import {
  verifyEvidenceBundle,
  type BundleVerification,
  type VerifyOptions,
} from '../evidence/verify-bundle.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import { AppError, notFound } from './errors.js';
import type { TransparencyLogService } from './transparency-log.service.js';

/** Evidence bundles of an organisation's analyses, and the offline verifier behind the API. */
export function createEvidenceService(deps: {
  analyses: Pick<AnalysisRepository, 'findById'>;
  transparencyLog: TransparencyLogService;
}) {
  const { transparencyLog } = deps;
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
      const { leaf, statement } = await transparencyLog.leafFor(analysis.id);
      const leafIndex = Number(leaf.leaf_index);
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
      const proof = await transparencyLog.inclusionProof(leafIndex, head.treeSize);
      const keys = await transparencyLog.publicKeys();
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
        anchors: [],
        publicKeys: keys.map(({ keyId, algorithm, publicKey }) => ({ keyId, algorithm, publicKey })),
      };
    },

    verify: (bundle: unknown, options: VerifyOptions): BundleVerification =>
      verifyEvidenceBundle(bundle, options),
  };
}

export type EvidenceService = ReturnType<typeof createEvidenceService>;
