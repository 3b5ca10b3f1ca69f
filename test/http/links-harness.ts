import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { EventBus } from '../../src/events/event-bus.js';
import { buildApp } from '../../src/http/build-app.js';
import type { ResumableUploadHandler } from '../../src/http/routes/uploads.routes.js';
import { createArtifactCollector } from '../../src/pipeline/artifact-collector.js';
import type { AnalysisReport, DetectorReport } from '../../src/pipeline/report.js';
import { createAnalysisRepository } from '../../src/repositories/analysis.repository.js';
import { createApiKeyRepository } from '../../src/repositories/api-key.repository.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createMediaRepository } from '../../src/repositories/media.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createReportShareRepository } from '../../src/repositories/report-share.repository.js';
import { createAnalysisArtifactsService } from '../../src/services/analysis-artifacts.service.js';
import type { AnalysisService } from '../../src/services/analysis.service.js';
import { createApiKeyService } from '../../src/services/api-key.service.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createLinkSigner } from '../../src/services/link-signer.js';
import type { MediaService } from '../../src/services/media.service.js';
import { createReportShareService, shareStandsCheck } from '../../src/services/report-share.service.js';
import { createSignedLinksService } from '../../src/services/signed-links.service.js';
import { createStoredMediaService } from '../../src/services/stored-media.service.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import { kekFromMasterKey } from '../../src/storage/master-key.js';
import type { ApiKeyRole } from '../../src/db/schema.js';
import type { DatabaseImplementation, TestDatabase } from '../helpers/databases.js';
import { CallLog } from '../services/strict-fake.js';

export const timelineArtifact = Buffer.from('{"frames":[0.25,0.5]}');
export const cropArtifact = Buffer.concat([Buffer.from('P5\n2 2\n255\n'), Buffer.from([0, 64, 128, 255])]);

export type RoleKeys = Record<ApiKeyRole, string>;
export interface TestOrg {
  orgId: string;
  keys: RoleKeys;
}
export interface FinishedReport {
  mediaId: string;
  analysisId: string;
  bytes: Buffer;
}

/**
 * The real signed-link and share services, repositories, blob store and audit log over a test database,
 * inside the real buildApp (the analysis pipeline is left out: the tests write finished reports directly).
 */
export interface LinksHarness {
  app: FastifyInstance;
  database: TestDatabase;
  clock: { now: Date };
  logLines: string[];
  org(label: string): Promise<TestOrg>;
  finishedReport(
    orgId: string,
    options?: { filename?: string; status?: 'done' | 'queued' },
  ): Promise<FinishedReport>;
  deleteMedia(org: TestOrg, mediaId: string): Promise<void>;
  close(): Promise<void>;
}

export async function openLinksHarness(implementation: DatabaseImplementation): Promise<LinksHarness> {
  const database = await implementation.open();
  const blobDir = await mkdtemp(join(tmpdir(), 'guardian-links-'));
  const clock = { now: new Date('2026-03-01T12:00:00Z') };
  const now = () => clock.now;
  const logLines: string[] = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  const { db } = database;
  const keyring = { current: kekFromMasterKey(randomBytes(32)), previous: [] };
  const blobStore = new EncryptedFsBlobStore({ dataDir: blobDir, keyring, log });
  const organisations = createOrganisationRepository({ db });
  const media = createMediaRepository({ db });
  const analyses = createAnalysisRepository({ db });
  const audit = createAuditLogService({ audit: createAuditRepository({ db }) });
  const apiKeys = createApiKeyService({ apiKeys: createApiKeyRepository({ db }), organisations, now });
  const artifacts = createAnalysisArtifactsService({ blobStore, analyses, media, log });
  const storedMedia = createStoredMediaService({ db, media, blobStore, artifacts, audit, log });
  const shares = createReportShareRepository({ db });
  const signedLinks = createSignedLinksService({
    signer: createLinkSigner({ keyring, now }),
    media,
    storedMedia,
    artifacts,
    shareIsActive: shareStandsCheck({ shares, now }),
    now,
  });
  const reportShares = createReportShareService({
    db,
    shares,
    analyses,
    artifacts,
    media,
    links: signedLinks,
    audit,
    now,
  });
  const fakes = new CallLog();
  const app = await buildApp({
    log,
    authenticator: apiKeys,
    apiKeys,
    mediaService: fakes.fake<MediaService>('mediaService', {}),
    storedMedia,
    analysisService: fakes.fake<AnalysisService>('analysisService', {}),
    analysisArtifacts: artifacts,
    analyses,
    audit,
    events: fakes.fake<EventBus>('events', {}),
    healthChecks: [],
    uploads: { handler: fakes.fake<ResumableUploadHandler>('uploads', {}) },
    maxUploadBytes: 1024 * 1024,
    trustedProxies: [],
    signedLinks,
    reportShares,
  });
  await app.ready();

  return {
    app,
    database,
    clock,
    logLines,
    async org(label) {
      const name = `${label} ${randomBytes(3).toString('hex')}`;
      const org = await organisations.create(name);
      const keys = {} as RoleKeys;
      for (const role of ['admin', 'analyst', 'viewer', 'auditor'] as const) {
        keys[role] = (await apiKeys.createForOrg(org.id, { name: role, role })).key;
      }
      return { orgId: org.id, keys };
    },
    async finishedReport(orgId, options = {}) {
      // Random bytes stand in for the file: the link routes serve whatever was stored, unparsed.
      const bytes = randomBytes(200_000);
      const mediaId = randomUUID();
      const blobKey = `media-${mediaId}`;
      await blobStore.put(blobKey, Readable.from([bytes]));
      await media.insert(db, {
        id: mediaId,
        org_id: orgId,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size_bytes: bytes.length,
        mime_type: 'video/mp4',
        original_filename: options.filename ?? 'interview-with-source.mp4',
        blob_key: blobKey,
        status: 'stored',
        probe: '{}',
        created_at: now(),
      });
      const analysis = await analyses.createOrGet(db, { orgId, mediaId, pipelineVersion: 'test' });
      if (options.status !== 'queued') await complete(analysis.id);
      return { mediaId, analysisId: analysis.id, bytes };
    },
    async deleteMedia(org, mediaId) {
      const principal = {
        orgId: org.orgId,
        orgName: 'x',
        role: 'analyst' as const,
        actor: { type: 'api-key' as const, keyId: randomUUID() },
      };
      await storedMedia.delete(principal, mediaId, { ip: null, userAgent: null });
    },
    async close() {
      await app.close();
      await database.destroy();
      await rm(blobDir, { recursive: true, force: true });
    },
  };

  async function complete(analysisId: string): Promise<void> {
    const delivered = new Map<string, Buffer>();
    const collector = createArtifactCollector({
      sink: (fullName, artifact) => void delivered.set(fullName, artifact.data),
    });
    const detector = {
      id: 'face-noise-mismatch',
      version: '1',
      strength: 'standard',
      applicable: true,
      score: 0.2,
      coverage: null,
      explanation: 'measured',
      evidence: [],
      measurements: {},
      durationMs: 1,
      artifacts: await collector.accept('face-noise-mismatch', [
        {
          name: 'timeline.json',
          contentType: 'application/json',
          description: 'timeline',
          data: timelineArtifact,
        },
        {
          name: 'crop.pgm',
          contentType: 'image/x-portable-graymap',
          description: 'crop',
          data: cropArtifact,
        },
      ]),
    } as unknown as DetectorReport;
    const report = {
      band: 'inconclusive',
      reasons: ['a reason'],
      detectors: [detector],
    } as unknown as AnalysisReport;
    await artifacts.save(analysisId, report, delivered);
    await analyses.complete(analysisId, { band: 'inconclusive', report });
  }
}
