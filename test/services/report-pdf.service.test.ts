import { createHash, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Analysis, AnalysisStatus } from '../../src/db/schema.js';
import { bundleFormat, type EvidenceBundle } from '../../src/evidence/evidence-bundle.js';
import { buildStatement, statementBytes } from '../../src/evidence/statement.js';
import { treeHeadFormat } from '../../src/evidence/tree-head.js';
import type { AnalysisRepository } from '../../src/repositories/analysis.repository.js';
import type { MediaRepository } from '../../src/repositories/media.repository.js';
import { AppError } from '../../src/services/errors.js';
import type { EvidenceService } from '../../src/services/evidence.service.js';
import { createReportPdfService } from '../../src/services/report-pdf.service.js';
import { analysisRow, mediaRow } from '../http/fake-app.js';
import { documentText, loadPdf } from '../reporting/pdf-content.js';
import { analysisReport } from '../reporting/report-fixture.js';
import { CallLog } from './strict-fake.js';

const orgId = randomUUID();
const report = analysisReport();

function doneAnalysis(): Analysis {
  return analysisRow({
    org_id: orgId,
    status: 'done',
    band: report.band,
    report,
    finished_at: new Date('2025-03-01T12:00:05.000Z'),
  });
}

function bundleFor(analysis: Analysis): EvidenceBundle {
  const statement = buildStatement({
    analysisId: analysis.id,
    orgId,
    report,
    completedAt: analysis.finished_at ?? new Date(0),
    keyId: '9d'.repeat(32),
  });
  return {
    format: bundleFormat,
    analysisId: analysis.id,
    report: report as unknown as Record<string, unknown>,
    statement,
    statementSignature: 'AAAA',
    keyId: statement.keyId,
    leafIndex: 7,
    inclusionProof: { treeSize: 8, hashes: [] },
    treeHead: {
      format: treeHeadFormat,
      treeSize: 8,
      rootHash: 'e7'.repeat(32),
      timestamp: '2025-03-01T12:00:06.000Z',
      auditHead: null,
      keyId: statement.keyId,
      signature: 'AAAA',
    },
    anchors: [],
    publicKeys: [{ keyId: statement.keyId, algorithm: 'Ed25519', publicKey: 'AAAA' }],
  };
}

const log = new CallLog();

afterEach(() => {
  expect(log.unexpected).toEqual([]);
  log.calls.length = 0;
  log.unexpected.length = 0;
});

function service(
  analysis: Analysis | null,
  options: { bundle?: () => Promise<EvidenceBundle>; publicUrl?: string | null } = {},
) {
  return createReportPdfService({
    analyses: log.fake<AnalysisRepository>('analyses', {
      findById: async (org, id) =>
        analysis && org === analysis.org_id && id === analysis.id ? analysis : null,
    }),
    media: log.fake<MediaRepository>('media', {
      findById: async (_, id) => mediaRow({ id, org_id: orgId, original_filename: 'desk\u202Eclip.mp4' }),
    }),
    evidence: log.fake<EvidenceService>('evidence', {
      ...(options.bundle ? { bundle: options.bundle } : {}),
    }),
    publicUrl: options.publicUrl === undefined ? 'https://guardian.example.org' : options.publicUrl,
  });
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe('report PDF service', () => {
  it("answers 404 for another organisation's analysis without touching the evidence", async () => {
    const analysis = doneAnalysis();
    const error = await rejection(service(analysis).render(randomUUID(), analysis.id));
    expect([error.status, error.code]).toEqual([404, 'not-found']);
    expect(log.names()).toEqual(['analyses.findById']);
  });

  it.each<AnalysisStatus>(['queued', 'running', 'failed'])(
    'answers 409 analysis-not-done for a %s analysis',
    async (status) => {
      const analysis = analysisRow({ org_id: orgId, status });
      const error = await rejection(service(analysis).render(orgId, analysis.id));
      expect([error.status, error.code]).toEqual([409, 'analysis-not-done']);
      expect(error.detail).toContain(status === 'failed' ? 'failed' : status);
      expect(log.names()).toEqual(['analyses.findById']);
    },
  );

  it('passes on 409 evidence-not-ready while the statement is not in the log', async () => {
    const analysis = doneAnalysis();
    const notReady = new AppError(409, 'evidence-not-ready', 'Evidence not ready', 'no tree head yet');
    const error = await rejection(
      service(analysis, { bundle: () => Promise.reject(notReady) }).render(orgId, analysis.id),
    );
    expect([error.status, error.code]).toEqual([409, 'evidence-not-ready']);
  });

  it('renders the bundle: statement digest, cleaned file name and the verify link under PUBLIC_URL', async () => {
    const analysis = doneAnalysis();
    const bundle = bundleFor(analysis);
    const { analysisId, pdf } = await service(analysis, { bundle: async () => bundle }).render(
      orgId,
      analysis.id,
    );
    expect(analysisId).toBe(analysis.id);
    const digest = createHash('sha256').update(statementBytes(bundle.statement)).digest('hex');
    const text = documentText(await loadPdf(pdf));
    expect(text.split('\n')).toContain(digest);
    // The bidi override is stripped as everywhere a stored name is shown.
    expect(text).toContain('deskclip.mp4');
    expect(text.replaceAll('\n', '')).toContain(
      `https://guardian.example.org/verify?leaf=7&statement=${digest}`,
    );
    expect(log.callsTo('evidence.bundle').map((call) => call.args)).toEqual([[orgId, analysis.id]]);
  });

  it('has no link without PUBLIC_URL and says so', async () => {
    const analysis = doneAnalysis();
    const { pdf } = await service(analysis, {
      bundle: async () => bundleFor(analysis),
      publicUrl: null,
    }).render(orgId, analysis.id);
    const text = documentText(await loadPdf(pdf)).replaceAll('\n', ' ');
    expect(text).toContain('No verify link or QR code: this server has no PUBLIC_URL configured');
    expect(text).not.toContain('/verify?');
  });
});
