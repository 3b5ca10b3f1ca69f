import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Analysis } from '../../src/db/schema.js';
import { InMemoryEventBus } from '../../src/events/in-memory.event-bus.js';
import { createFfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import { defaultMediaLimits } from '../../src/media/media-limits.js';
import { createDetectionEngine } from '../../src/pipeline/detection-engine.js';
import { EmbeddedJobQueue } from '../../src/queue/embedded.job-queue.js';
import { createAnalysisRepository } from '../../src/repositories/analysis.repository.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createMediaRepository } from '../../src/repositories/media.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createAnalysisArtifactsService } from '../../src/services/analysis-artifacts.service.js';
import { createAnalysisService } from '../../src/services/analysis.service.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createBlobGateway } from '../../src/storage/blob-gateway.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { createMediaTempDir, generateClip, type MediaTempDir } from '../helpers/media-fixtures.js';
import { waitFor } from '../queue/wait-for.js';
import { newKeyring } from '../storage/storage-fixtures.js';
import { unexpectedAnchorJobs } from '../helpers/anchor-jobs.js';

// The real service, pipeline, gateway, blob store, audit log and embedded queue; one database is enough here.
const pglite = databaseImplementations().filter((implementation) => implementation.name === 'pglite');
const testTimeoutMs = 120_000;

describeEachImplementation('an analysis of a stored blob tampered with at rest', pglite, (implementation) => {
  let database: TestDatabase;
  let media: MediaTempDir;
  let clip: string;
  let orgId: string;
  let world: Awaited<ReturnType<typeof openWorld>>;

  async function openWorld() {
    const log = testLogger();
    const blobStore = new EncryptedFsBlobStore({
      dataDir: join(media.dir, 'data'),
      keyring: newKeyring(),
      log,
    });
    const blobGateway = createBlobGateway({ blobStore, log });
    const mediaTools = await createFfmpegMediaTools();
    const analyses = createAnalysisRepository({ db: database.db });
    const mediaRows = createMediaRepository({ db: database.db });
    const audit = createAuditLogService({ audit: createAuditRepository({ db: database.db }) });
    const queue = new EmbeddedJobQueue({ db: database.db, log, pollIntervalMs: 50 });
    const { pipeline } = await createDetectionEngine({ mediaTools, limits: defaultMediaLimits });
    const service = createAnalysisService({
      analyses,
      media: mediaRows,
      blobGateway,
      pipeline,
      artifacts: createAnalysisArtifactsService({ blobStore, analyses, media: mediaRows, log }),
      queue,
      events: new InMemoryEventBus({ log }),
      audit,
      now: () => new Date(),
      log,
    });
    await queue.startWorkers(
      { 'analysis.run': service.run, ...unexpectedAnchorJobs },
      { concurrency: 1, onJobExhausted: { 'analysis.run': service.onJobExhausted } },
    );
    return { blobStore, blobGateway, mediaTools, analyses, mediaRows, audit, queue, pipeline };
  }

  /** Stores the clip as a new media item, optionally flips one ciphertext byte, and runs its analysis. */
  async function analyse(tamperAt: number | null): Promise<{ analysis: Analysis; mediaId: string }> {
    const mediaId = randomUUID();
    const blobKey = `media-${mediaId}`;
    await world.blobStore.put(blobKey, createReadStream(clip));
    // Probed before any tampering, as intake does: the stored probe says the file is whole.
    const probe = await world.mediaTools.probe(clip);
    if (tamperAt !== null) {
      const path = join(media.dir, 'data', 'blobs', blobKey.slice(0, 2), `${blobKey}.sagb`);
      const position = Math.floor((await stat(path)).size * tamperAt);
      const file = await open(path, 'r+');
      try {
        const byte = Buffer.alloc(1);
        await file.read(byte, 0, 1, position);
        byte[0] = (byte[0] ?? 0) ^ 0x01;
        await file.write(byte, 0, 1, position);
      } finally {
        await file.close();
      }
    }
    const bytes = await readFile(clip);
    const created = await database.db.transaction().execute(async (trx) => {
      await world.mediaRows.insert(trx, {
        id: mediaId,
        org_id: orgId,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size_bytes: bytes.length,
        mime_type: 'video/mp4',
        original_filename: 'clip.mp4',
        blob_key: blobKey,
        status: 'stored',
        probe: JSON.stringify(probe),
      });
      const analysis = await world.analyses.createOrGet(trx, {
        orgId,
        mediaId,
        pipelineVersion: world.pipeline.version,
      });
      await world.queue.enqueue(
        'analysis.run',
        { analysisId: analysis.id, orgId },
        { jobId: analysis.id, transaction: trx },
      );
      return analysis;
    });
    let current: Analysis | null = null;
    await waitFor(
      'the analysis to end',
      async () => {
        current = await world.analyses.findByIdUnscoped(created.id);
        return current?.status === 'done' || current?.status === 'failed';
      },
      testTimeoutMs - 20_000,
    );
    return { analysis: current!, mediaId };
  }

  beforeAll(async () => {
    database = await implementation.open();
    media = await createMediaTempDir('guardian-integrity-');
    // 500 frames, moov after mdat: a reader goes through the whole file, like the 500-packet clip.
    clip = await generateClip(media.dir, { seconds: 20, fps: 25, size: '320x240', gop: 50 });
    orgId = (await createOrganisationRepository({ db: database.db }).create('integrity-org')).id;
    world = await openWorld();
  }, testTimeoutMs);

  afterAll(async () => {
    await world?.queue.close();
    await world?.blobGateway.close();
    await database?.destroy();
    await media?.remove();
  });

  it(
    'analyses the untampered blob to a report (the control)',
    async () => {
      const { analysis } = await analyse(null);
      expect(analysis).toMatchObject({ status: 'done', error_code: null, attempts: 1 });
      expect((analysis.report as { coverage: number }).coverage).toBeGreaterThan(0);
    },
    testTimeoutMs,
  );

  it(
    'fails with blob-integrity after one attempt, audits it and writes no report, for a byte flipped 60% in',
    async () => {
      const { analysis, mediaId } = await analyse(0.6);

      expect(analysis).toMatchObject({
        status: 'failed',
        error_code: 'blob-integrity',
        band: null,
        report: null,
        attempts: 1,
      });
      const jobRow = () =>
        database.db
          .selectFrom('jobs')
          .selectAll()
          .where('dedupe_key', '=', analysis.id)
          .executeTakeFirstOrThrow();
      // The row fails first; the handler then discards artifacts and audits before the queue records the job.
      await waitFor('the job to fail', async () => (await jobRow()).status !== 'active');
      const job = await jobRow();
      // Permanent: the queue does not retry it.
      expect(job).toMatchObject({ status: 'failed', attempts: 1 });
      expect(job.last_error).toMatch(/blob failed authentication/);

      const { events } = await world.audit.list({ orgId, limit: 50 });
      const integrity = events.filter((event) => event.action === 'analysis.integrity-failure');
      expect(integrity).toHaveLength(1);
      expect(integrity[0]).toMatchObject({
        actor: { type: 'system', id: null },
        outcome: 'failure',
        target: { type: 'analysis', id: analysis.id },
        details: { mediaId },
      });
      expect(await world.audit.verify()).toMatchObject({ ok: true });
    },
    testTimeoutMs,
  );
});
