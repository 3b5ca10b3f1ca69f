import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  loadOrCreateLogSigningKey,
  replaceGeneratedLogSigningKey,
} from '../../src/evidence/log-signing-key.js';
import { createAnalysisRepository } from '../../src/repositories/analysis.repository.js';
import { createAnchorRepository } from '../../src/repositories/anchor.repository.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createMediaRepository } from '../../src/repositories/media.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createTransparencyLogRepository } from '../../src/repositories/transparency-log.repository.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createEvidenceService } from '../../src/services/evidence.service.js';
import { createLogKeyring } from '../../src/services/log-keyring.js';
import { createReportIntegrity } from '../../src/services/report-integrity.js';
import { createTransparencyLogService } from '../../src/services/transparency-log.service.js';
import type { TestDatabase } from '../helpers/databases.js';

/** A report with what statements read from it, and a nested number that must survive the jsonb round trip. */
export function fakeReport(mediaSha256: string) {
  return {
    schemaVersion: 1,
    band: 'no_indicators',
    reasons: ['these checks found no indicators'],
    media: { sha256: mediaSha256, sizeBytes: 1234 },
    detectors: [
      {
        id: 'model:demo',
        version: '1.0+abc',
        score: 0.123456789012345,
        measurements: { modelVersion: '1.0', modelSha256: 'ab'.repeat(32) },
      },
    ],
    coverage: 0.5,
    versions: {
      pipeline: 'p1-test',
      node: process.version,
      ffmpeg: '7.1',
      ffprobe: '7.1',
      detectors: { 'model:demo': '1.0+abc' },
      faceModels: null,
      calibration: { sha256: 'cd'.repeat(32), source: 'calibration.json' },
    },
  };
}

/** The transparency log wired as the platform wires it, on a test database and a temporary DATA_DIR. */
export async function openEvidenceWorld(
  database: TestDatabase,
  log: Logger,
  options: { dataDir?: string } = {},
) {
  // Another world on the same DATA_DIR is another process of the same deployment: same key file.
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'guardian-evidence-')));
  const db = database.db;
  const analyses = createAnalysisRepository({ db });
  const media = createMediaRepository({ db });
  const organisations = createOrganisationRepository({ db });
  const repository = createTransparencyLogRepository({ db });
  const audit = createAuditLogService({ audit: createAuditRepository({ db }) });
  const keyring = createLogKeyring({
    initial: await loadOrCreateLogSigningKey({ configured: undefined, dataDir, log }),
    log: repository,
    audit,
    generate: () => replaceGeneratedLogSigningKey(dataDir),
  });
  await keyring.activate();
  const transparencyLog = createTransparencyLogService({ log: repository, analyses, keyring, logger: log });
  const anchors = createAnchorRepository({ db });
  const reportIntegrity = createReportIntegrity({ log: repository, logger: log });
  const evidence = createEvidenceService({ analyses, transparencyLog, anchors, keyring, reportIntegrity });

  /** An organisation's finished analysis of a media file with these bytes. */
  async function finishedAnalysis(content: string = randomUUID(), orgId?: string) {
    const org = orgId ?? (await organisations.create(`org-${randomUUID()}`)).id;
    const sha256 = createHash('sha256').update(content).digest('hex');
    const stored = await media.insert(db, {
      id: randomUUID(),
      org_id: org,
      sha256,
      size_bytes: content.length,
      mime_type: 'video/mp4',
      original_filename: 'clip.mp4',
      blob_key: `media-${randomUUID()}`,
      status: 'stored',
      probe: JSON.stringify({ streams: [] }),
    });
    const analysis = await analyses.createOrGet(db, {
      orgId: org,
      mediaId: stored.id,
      pipelineVersion: 'p1-test',
    });
    await analyses.markRunning(analysis.id);
    await analyses.complete(analysis.id, { band: 'no_indicators', report: fakeReport(sha256) });
    return { orgId: org, analysisId: analysis.id, content };
  }

  return {
    db,
    dataDir,
    analyses,
    repository,
    reportIntegrity,
    keyring,
    audit,
    transparencyLog,
    anchors,
    evidence,
    finishedAnalysis,
    close: () => rm(dataDir, { recursive: true, force: true }),
  };
}

export type EvidenceWorld = Awaited<ReturnType<typeof openEvidenceWorld>>;
