import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AuditEventTable } from '../../src/db/audit-schema.js';
import type { ShredReason } from '../../src/db/schema.js';
import { createAnalysisRepository } from '../../src/repositories/analysis.repository.js';
import { createAuditRepository } from '../../src/repositories/audit.repository.js';
import { createMediaRepository } from '../../src/repositories/media.repository.js';
import { createOrganisationRepository } from '../../src/repositories/organisation.repository.js';
import { createRetentionRepository } from '../../src/repositories/retention.repository.js';
import {
  artifactBlobKey,
  createAnalysisArtifactsService,
} from '../../src/services/analysis-artifacts.service.js';
import { createAuditLogService } from '../../src/services/audit-log.service.js';
import { createMediaShredder } from '../../src/services/media-shredder.js';
import { createRetentionService } from '../../src/services/retention.service.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { EncryptedFsBlobStore } from '../../src/storage/encrypted-fs.blob-store.js';
import { kekFromMasterKey } from '../../src/storage/master-key.js';
import type { TestDatabase } from '../helpers/databases.js';

const dayMs = 86_400_000;

/**
 * Real repositories, audit log, shredder and retention service over a test database and an encrypted FS
 * blob store in a temp dir, with a settable clock: retention is tested by reading the stores directly.
 */
export async function openLifecycleWorld(database: TestDatabase, log: Logger) {
  const dataDir = await mkdtemp(join(tmpdir(), 'guardian-lifecycle-'));
  const keyring = { current: kekFromMasterKey(randomBytes(32)), previous: [] };
  const realStore = new EncryptedFsBlobStore({ dataDir, keyring, log });
  let failNextAudit = false;
  const db = database.db;
  const clock = { now: new Date('2030-06-01T12:00:00.000Z') };
  const now = () => clock.now;
  const analyses = createAnalysisRepository({ db });
  const media = createMediaRepository({ db });
  const retentionRepository = createRetentionRepository({ db });
  const realAudit = createAuditLogService({ audit: createAuditRepository({ db }) });
  // Fault injection: the next append fails, as a database going away mid-deletion would.
  const audit: typeof realAudit = {
    ...realAudit,
    async append(event, executor) {
      if (failNextAudit) {
        failNextAudit = false;
        throw new Error('injected: database went away');
      }
      return realAudit.append(event, executor);
    },
  };
  const blobStore: BlobStore = realStore;
  const artifacts = createAnalysisArtifactsService({ blobStore, analyses, media, log });
  const shredder = createMediaShredder({ db, blobStore, artifacts, audit, log, now });
  const retention = createRetentionService({
    db,
    retention: retentionRepository,
    shredder,
    audit,
    now,
    log,
    batchSize: 2,
  });
  const organisations = createOrganisationRepository({ db });

  const blobPath = (key: string) => join(dataDir, 'blobs', key.slice(0, 2), `${key}.sagb`);

  return {
    db,
    dataDir,
    clock,
    keyring,
    blobStore: realStore,
    audit: realAudit,
    shredder,
    retention,
    retentionRepository,
    blobPath,
    failNextAuditAppend() {
      failNextAudit = true;
    },

    async organisation(mediaRetentionDays: number | null) {
      const org = await organisations.create(`lifecycle ${randomUUID()}`);
      await retentionRepository.setPolicy(db, org.id, mediaRetentionDays, now());
      return org.id;
    },

    /** Stored media uploaded `ageDays` before the clock, with an analysis whose artifact blob exists. */
    async media(orgId: string, ageDays: number, options: { uploaderId?: string } = {}) {
      const id = randomUUID();
      const blobKey = `media-${id}`;
      const plaintext = Buffer.from(`MEDIA-PLAINTEXT-${id}`);
      await realStore.put(blobKey, Readable.from([plaintext]));
      await media.insert(db, {
        id,
        org_id: orgId,
        sha256: 'ab'.repeat(32),
        size_bytes: plaintext.length,
        mime_type: 'video/mp4',
        original_filename: `clip-${id}.mp4`,
        blob_key: blobKey,
        status: 'stored',
        probe: '{}',
        created_at: new Date(clock.now.getTime() - ageDays * dayMs),
        ...(options.uploaderId ? { uploader_type: 'user' as const, uploader_id: options.uploaderId } : {}),
      });
      const analysis = await analyses.createOrGet(db, { orgId, mediaId: id, pipelineVersion: 'lifecycle' });
      const artifactKey = artifactBlobKey(analysis.id);
      await realStore.put(artifactKey, Readable.from([Buffer.from(`ARTIFACT-OF-${id}`)]));
      return { id, orgId, blobKey, artifactKey, analysisId: analysis.id, plaintext };
    },

    async hold(orgId: string, mediaId: string, reason = 'case 42') {
      await retentionRepository.setHold(db, orgId, mediaId, { reason, at: now(), by: 'user:x' });
    },

    /** A second name for the blob file's inode: whatever is written into the file in place shows through it. */
    async hardLink(key: string, name: string) {
      const path = join(dataDir, name);
      await link(blobPath(key), path);
      return path;
    },

    async exists(key: string) {
      return stat(blobPath(key)).then(
        () => true,
        () => false,
      );
    },

    /** Decrypts a SAGB file (at any path) as `key` with this world's keyring. */
    async decryptFile(path: string, key: string): Promise<Buffer> {
      const copyStore = new EncryptedFsBlobStore({ dataDir: join(dataDir, 'copy'), keyring, log });
      const target = join(dataDir, 'copy', 'blobs', key.slice(0, 2));
      await mkdir(target, { recursive: true });
      await copyFile(path, join(target, `${key}.sagb`));
      try {
        return Buffer.concat(await (await copyStore.read(key)).toArray());
      } finally {
        await rm(join(dataDir, 'copy'), { recursive: true, force: true });
      }
    },

    readFile,

    async mediaRow(id: string) {
      return db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    },

    async ledger(keys: string[]) {
      if (keys.length === 0) return [];
      return db.selectFrom('shredded_blobs').selectAll().where('blob_key', 'in', keys).execute();
    },

    async ledgerReasons(keys: string[]): Promise<Record<string, ShredReason>> {
      const rows = await this.ledger(keys);
      return Object.fromEntries(rows.map((row) => [row.blob_key, row.reason]));
    },

    async auditFor(mediaId: string) {
      return db
        .withTables<{ audit_events: AuditEventTable }>()
        .selectFrom('audit_events')
        .selectAll()
        .where('target_id', '=', mediaId)
        .orderBy('seq')
        .execute();
    },

    async close() {
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type LifecycleWorld = Awaited<ReturnType<typeof openLifecycleWorld>>;
