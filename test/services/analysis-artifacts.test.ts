import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/events/in-memory.event-bus.js';
import type { AnalysisPipeline, AnalysisRunRequest } from '../../src/pipeline/analysis-pipeline.js';
import { createArtifactCollector } from '../../src/pipeline/artifact-collector.js';
import type { DetectorArtifact } from '../../src/pipeline/detector.js';
import type { AnalysisReport, DetectorReport } from '../../src/pipeline/report.js';
import { jobDefinitions, type JobContext } from '../../src/queue/job-table.js';
import type { JobQueue } from '../../src/queue/job-queue.js';
import {
  createAnalysisRepository,
  type AnalysisRepository,
} from '../../src/repositories/analysis.repository.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createMediaRepository } from '../../src/repositories/media.repository.js';
import {
  artifactBlobKey,
  createAnalysisArtifactsService,
  type AnalysisArtifactsService,
} from '../../src/services/analysis-artifacts.service.js';
import { createAnalysisService } from '../../src/services/analysis.service.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createStoredMediaService } from '../../src/services/stored-media.service.js';
import { createBlobGateway, type BlobGateway } from '../../src/storage/blob-gateway.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { seedAnalysis } from '../queue/fixtures/analysis-world.js';
import { kekFromMasterKey } from '../../src/storage/master-key.js';

const maxAttempts = jobDefinitions['analysis.run'].attempts;
// Recognisable plaintext: none of it may appear in the file on disk.
const marker = 'PLAINTEXT-FACE-CROP-MARKER';
const timeline = Buffer.from(JSON.stringify({ marker, frames: [0.1, 0.9] }));
const crop = Buffer.concat([Buffer.from(`P5\n2 2\n255\n${marker}`), Buffer.from([1, 2, 3, 4])]);

const artifacts: Record<string, DetectorArtifact> = {
  timeline: {
    name: 'timeline.json',
    contentType: 'application/json',
    description: 'timeline',
    data: timeline,
  },
  crop: { name: 'crop.pgm', contentType: 'image/x-portable-graymap', description: 'crop', data: crop },
};

/** What a pipeline run does: the artifacts a detector returned, through the real collector into the report. */
async function reportWith(request: AnalysisRunRequest, given: DetectorArtifact[]): Promise<AnalysisReport> {
  const collector = createArtifactCollector({ sink: request.onArtifact });
  const detector: DetectorReport = {
    id: 'face-noise',
    version: '1',
    strength: 'standard',
    applicable: true,
    score: 0.5,
    coverage: null,
    explanation: 'measured',
    evidence: [],
    measurements: {},
    durationMs: 1,
    artifacts: await collector.accept('face-noise', given),
  };
  return { band: 'inconclusive', reasons: [], detectors: [detector] } as unknown as AnalysisReport;
}

type Script = (request: AnalysisRunRequest) => Promise<AnalysisReport>;

describeEachImplementation(
  'artifacts stored with the report',
  databaseImplementations(),
  (implementation) => {
    let database: TestDatabase;
    let dataDir: string;
    let masterKeyHex: string;
    let blobStore: EncryptedFsBlobStore;
    let gateway: BlobGateway;
    let analyses: AnalysisRepository;
    let service: AnalysisArtifactsService;
    let script: Script;
    let failComplete = false;
    const log = testLogger();

    const blobPath = (analysisId: string) => {
      const key = artifactBlobKey(analysisId);
      return join(dataDir, 'blobs', key.slice(0, 2), `${key}.sagb`);
    };
    const exists = (path: string) =>
      stat(path).then(
        () => true,
        () => false,
      );

    function analysisService() {
      const media = createMediaRepository({ db: database.db });
      const pipeline: AnalysisPipeline = { version: 'artifacts', run: (request) => script(request) };
      return createAnalysisService({
        analyses: {
          ...analyses,
          async complete(id, result) {
            if (failComplete) throw new Error('database went away');
            return analyses.complete(id, result);
          },
        },
        media,
        blobGateway: gateway,
        pipeline,
        artifacts: service,
        queue: {} as JobQueue,
        events: new InMemoryEventBus({ log }),
        audit: createAuditLogService({ audit: createAuditRepository({ db: database.db }) }),
        now: () => new Date(),
        log,
      });
    }

    const job = (attempt: number): JobContext => ({
      jobId: randomUUID(),
      attempt,
      signal: new AbortController().signal,
      reportProgress: async () => {},
    });

    beforeAll(async () => {
      database = await implementation.open();
    });
    afterAll(() => database.destroy());

    beforeEach(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'guardian-artifacts-'));
      masterKeyHex = randomBytes(32).toString('hex');
      const keyring = { current: kekFromMasterKey(Buffer.from(masterKeyHex, 'hex')), previous: [] };
      blobStore = new EncryptedFsBlobStore({ dataDir, keyring, log });
      gateway = createBlobGateway({ blobStore, log });
      analyses = createAnalysisRepository({ db: database.db });
      service = createAnalysisArtifactsService({
        blobStore,
        analyses,
        media: createMediaRepository({ db: database.db }),
        log,
      });
      failComplete = false;
    });
    afterEach(async () => {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('writes them encrypted when the analysis completes, and reads back exactly what was computed', async () => {
      const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
      script = (request) => reportWith(request, [artifacts.timeline!, artifacts.crop!]);
      await analysisService().run(seeded, job(1));

      const onDisk = await readFile(blobPath(seeded.analysisId));
      expect(onDisk.length).toBeGreaterThan(timeline.length + crop.length);
      expect(onDisk.includes(marker)).toBe(false);
      expect(onDisk.includes(timeline)).toBe(false);

      const { analysis, entries } = await service.list(seeded.orgId, seeded.analysisId);
      expect(analysis.status).toBe('done');
      expect(
        entries.map((entry) => [entry.detector, entry.listing.name, entry.offset, entry.unavailable]),
      ).toEqual([
        ['face-noise', 'timeline.json', 0, null],
        ['face-noise', 'crop.pgm', timeline.length, null],
      ]);
      const read = (name: string) => service.read(seeded.orgId, seeded.analysisId, 'face-noise', name);
      expect((await read('crop.pgm')).data).toEqual(crop);
      expect((await read('timeline.json')).data).toEqual(timeline);
      await expect(read('missing.json')).rejects.toMatchObject({ status: 404, code: 'artifact-not-found' });
      // Another organisation sees neither the analysis nor its artifacts.
      await expect(service.list(randomUUID(), seeded.analysisId)).rejects.toMatchObject({ status: 404 });
      await expect(
        service.read(randomUUID(), seeded.analysisId, 'face-noise', 'crop.pgm'),
      ).rejects.toMatchObject({ status: 404 });
    });

    it('writes nothing for a failed attempt; a retry overwrites, and a retry without artifacts removes them', async () => {
      const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
      script = async (request) => {
        await reportWith(request, [artifacts.crop!]);
        throw new Error('decoder crashed after the detector');
      };
      await expect(analysisService().run(seeded, job(1))).rejects.toThrow('decoder crashed');
      expect(await exists(blobPath(seeded.analysisId))).toBe(false);

      // The next attempt stores artifacts and dies before its report is written.
      failComplete = true;
      script = (request) => reportWith(request, [artifacts.crop!]);
      await expect(analysisService().run(seeded, job(2))).rejects.toThrow('database went away');
      expect(await exists(blobPath(seeded.analysisId))).toBe(true);

      failComplete = false;
      script = (request) => reportWith(request, []);
      await analysisService().run(seeded, job(3));
      expect((await analyses.findById(seeded.orgId, seeded.analysisId))?.status).toBe('done');
      expect(await exists(blobPath(seeded.analysisId))).toBe(false);
    });

    it('a retry replaces what an earlier attempt stored', async () => {
      const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
      failComplete = true;
      script = (request) => reportWith(request, [artifacts.crop!]);
      await expect(analysisService().run(seeded, job(1))).rejects.toThrow('database went away');
      failComplete = false;
      script = (request) => reportWith(request, [artifacts.timeline!]);
      await analysisService().run(seeded, job(2));
      const { entries } = await service.list(seeded.orgId, seeded.analysisId);
      expect(entries.map((entry) => entry.listing.name)).toEqual(['timeline.json']);
      const read = await service.read(seeded.orgId, seeded.analysisId, 'face-noise', 'timeline.json');
      expect(read.data).toEqual(timeline);
    });

    it('discards what was stored when the last attempt fails after storing them', async () => {
      const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
      await database.db
        .updateTable('analyses')
        .set({ attempts: maxAttempts - 1 })
        .where('id', '=', seeded.analysisId)
        .execute();
      failComplete = true;
      script = (request) => reportWith(request, [artifacts.crop!]);
      await expect(analysisService().run(seeded, job(maxAttempts))).rejects.toThrow('database went away');
      expect((await analyses.findById(seeded.orgId, seeded.analysisId))?.status).toBe('failed');
      expect(await exists(blobPath(seeded.analysisId))).toBe(false);
    });

    it('shreds them with the media; the report keeps listing them as unavailable', async () => {
      const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
      script = (request) => reportWith(request, [artifacts.crop!]);
      await analysisService().run(seeded, job(1));
      expect(await exists(blobPath(seeded.analysisId))).toBe(true);
      const analysis = await analyses.findById(seeded.orgId, seeded.analysisId);

      const storedMedia = createStoredMediaService({
        db: database.db,
        media: createMediaRepository({ db: database.db }),
        blobStore,
        artifacts: service,
        audit: createAuditLogService({ audit: createAuditRepository({ db: database.db }) }),
        log,
      });
      const principal = {
        orgId: seeded.orgId,
        orgName: 'org',
        role: 'admin' as const,
        actor: { type: 'api-key' as const, keyId: randomUUID() },
      };
      await storedMedia.delete(principal, analysis!.media_id, { ip: '127.0.0.1', userAgent: null });

      expect(await exists(blobPath(seeded.analysisId))).toBe(false);
      const { entries } = await service.list(seeded.orgId, seeded.analysisId);
      expect(entries).toEqual([
        expect.objectContaining({ offset: null, unavailable: 'shredded when the media was deleted' }),
      ]);
      await expect(
        service.read(seeded.orgId, seeded.analysisId, 'face-noise', 'crop.pgm'),
      ).rejects.toMatchObject({ status: 404, code: 'artifact-not-found' });
    });

    it('discards them when the media was deleted while the analysis ran', async () => {
      const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
      const analysis = await analyses.findById(seeded.orgId, seeded.analysisId);
      script = async (request) => {
        const report = await reportWith(request, [artifacts.crop!]);
        await createMediaRepository({ db: database.db }).markDeleted(
          database.db,
          seeded.orgId,
          analysis!.media_id,
        );
        return report;
      };
      await analysisService().run(seeded, job(1));
      expect((await analyses.findById(seeded.orgId, seeded.analysisId))?.status).toBe('done');
      expect(await exists(blobPath(seeded.analysisId))).toBe(false);
    });

    it('refuses bytes that differ from the listed digest (another attempt overwrote them)', async () => {
      const seeded = await seedAnalysis({ db: database.db, dataDir, masterKeyHex, log });
      script = (request) => reportWith(request, [artifacts.crop!]);
      await analysisService().run(seeded, job(1));
      const forged = Buffer.from(crop);
      forged[forged.length - 1] = 0xff;
      await blobStore.put(artifactBlobKey(seeded.analysisId), Readable.from([forged]));
      await expect(
        service.read(seeded.orgId, seeded.analysisId, 'face-noise', 'crop.pgm'),
      ).rejects.toMatchObject({ status: 500, code: 'blob-integrity' });
    });
  },
);
