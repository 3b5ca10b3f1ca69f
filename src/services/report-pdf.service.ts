import { createHash } from 'node:crypto';
import { statementBytes, statementLeafHash } from '../evidence/statement.js';
import { cleanFilename } from '../media/filename.js';
import type { AnalysisReport } from '../pipeline/report.js';
import { renderReportPdf, type ReportPdfInput } from '../reporting/report-pdf.js';
import { verifyPageUrl } from '../reporting/verify-link.js';
import type { AnalysisRepository } from '../repositories/analysis.repository.js';
import type { MediaRepository } from '../repositories/media.repository.js';
import { AppError, notFound } from './errors.js';
import type { EvidenceService } from './evidence.service.js';

export interface ReportPdf {
  analysisId: string;
  pdf: Uint8Array;
}

// Without PUBLIC_URL the server cannot know the address readers reach: a Host header is the client's claim.
const noPublicUrl =
  "this server has no PUBLIC_URL configured, so it does not know the web address readers reach. Check the record with the evidence bundle and 'guardian verify' instead.";

/** The PDF report of an organisation's finished analysis, with its evidence record and verify link. */
export function createReportPdfService(deps: {
  analyses: Pick<AnalysisRepository, 'findById'>;
  media: Pick<MediaRepository, 'findById'>;
  evidence: Pick<EvidenceService, 'bundle'>;
  /** PUBLIC_URL: the base of the verify page link; null, the PDF carries no link and says why. */
  publicUrl: string | null;
}) {
  return {
    /** 404 outside the organisation, 409 `analysis-not-done` before the report, 409 `evidence-not-ready`. */
    async render(orgId: string, analysisId: string): Promise<ReportPdf> {
      const analysis = await deps.analyses.findById(orgId, analysisId);
      if (!analysis) throw notFound('analysis');
      if (analysis.status !== 'done' || analysis.report === null)
        throw new AppError(
          409,
          'analysis-not-done',
          'Analysis not done',
          analysis.status === 'failed'
            ? 'the analysis failed, so there is no report'
            : `the analysis is ${analysis.status}; the report exists once it is done`,
        );
      const bundle = await deps.evidence.bundle(orgId, analysis.id);
      const media = await deps.media.findById(orgId, analysis.media_id);
      const statementSha256 = createHash('sha256').update(statementBytes(bundle.statement)).digest('hex');
      const record = { leafIndex: bundle.leafIndex, statementSha256 };
      const input: ReportPdfInput = {
        analysisId: analysis.id,
        fileName: cleanFilename(media?.original_filename),
        // The report inside the bundle is the one its statement hashes: the PDF shows exactly that.
        report: bundle.report as unknown as AnalysisReport,
        completedAt: bundle.statement.completedAt,
        evidence: {
          statementSha256,
          leafHash: statementLeafHash(bundle.statement).toString('hex'),
          leafIndex: bundle.leafIndex,
          keyId: bundle.keyId,
          treeHead: bundle.treeHead,
        },
        verifyLink:
          deps.publicUrl === null
            ? { url: null, reason: noPublicUrl }
            : { url: verifyPageUrl(deps.publicUrl, record) },
      };
      return { analysisId: analysis.id, pdf: await renderReportPdf(input) };
    },
  };
}

export type ReportPdfService = ReturnType<typeof createReportPdfService>;
