import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Media } from '../../src/db/schema.js';
import {
  createAnalysisRepository,
  type AnalysisRepository,
} from '../../src/repositories/analysis.repository.js';
import { createApiKeyRepository, type ApiKeyRepository } from '../../src/repositories/api-key.repository.js';
import { createMediaRepository, type MediaRepository } from '../../src/repositories/media.repository.js';
import {
  createOrganisationRepository,
  type OrganisationRepository,
} from '../../src/repositories/organisation.repository.js';
import { AppError } from '../../src/services/errors.js';
import {
  databaseImplementations,
  describeEachImplementation,
  type TestDatabase,
} from '../helpers/databases.js';

const report = { schemaVersion: 1, band: 'inconclusive' };

describeEachImplementation('repositories', databaseImplementations(), (implementation) => {
  let database: TestDatabase;
  let organisations: OrganisationRepository;
  let apiKeys: ApiKeyRepository;
  let media: MediaRepository;
  let analyses: AnalysisRepository;

  beforeAll(async () => {
    database = await implementation.open();
    const deps = { db: database.db };
    organisations = createOrganisationRepository(deps);
    apiKeys = createApiKeyRepository(deps);
    media = createMediaRepository(deps);
    analyses = createAnalysisRepository(deps);
  });

  afterAll(async () => {
    await database?.destroy();
  });

  const newOrg = () => organisations.create(`org-${randomUUID()}`);
  const newMedia = (orgId: string): Promise<Media> =>
    media.insert(database.db, {
      id: randomUUID(),
      org_id: orgId,
      sha256: randomUUID().replaceAll('-', '').repeat(2),
      size_bytes: 5 * 2 ** 32,
      mime_type: 'video/mp4',
      original_filename: 'clip.mp4',
      blob_key: `media-${randomUUID()}`,
      status: 'stored',
      probe: JSON.stringify({ streams: [] }),
    });
  const newAnalysis = async () => {
    const org = await newOrg();
    const stored = await newMedia(org.id);
    return analyses.createOrGet(database.db, { orgId: org.id, mediaId: stored.id, pipelineVersion: '1.0.0' });
  };

  describe('organisations', () => {
    it('creates, finds by name and id, and lists', async () => {
      const created = await newOrg();
      expect(await organisations.findByName(created.name)).toEqual(created);
      expect(await organisations.findById(created.id)).toEqual(created);
      expect(await organisations.list()).toContainEqual(created);
      expect(created.created_at).toBeInstanceOf(Date);
    });

    it('refuses a duplicate name with a conflict, inside a transaction too', async () => {
      const created = await newOrg();
      await expect(organisations.create(created.name)).rejects.toMatchObject({
        status: 409,
        code: 'conflict',
      });
      const error = await database.db
        .transaction()
        .execute((trx) => organisations.create(created.name, trx))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
    });

    it('answers null for unknown and malformed ids', async () => {
      expect(await organisations.findById(randomUUID())).toBeNull();
      expect(await organisations.findById('not-a-uuid')).toBeNull();
      expect(await organisations.findByName(`missing-${randomUUID()}`)).toBeNull();
    });
  });

  describe('API keys', () => {
    const keyInput = (orgId: string, expiresAt: Date | null = null) => ({
      orgId,
      name: 'ci',
      role: 'analyst' as const,
      prefix: 'sag_abcdefgh',
      keyHash: randomUUID(),
      expiresAt,
    });

    it('finds a usable key by hash with its organisation name', async () => {
      const org = await newOrg();
      const key = await apiKeys.create(keyInput(org.id));
      const found = await apiKeys.findUsableByHash(key.key_hash, new Date());
      expect(found).toMatchObject({ id: key.id, org_id: org.id, org_name: org.name, role: 'analyst' });
    });

    it('does not find expired or revoked keys', async () => {
      const org = await newOrg();
      const expired = await apiKeys.create(keyInput(org.id, new Date(Date.now() - 1_000)));
      expect(await apiKeys.findUsableByHash(expired.key_hash, new Date())).toBeNull();
      const revoked = await apiKeys.create(keyInput(org.id));
      expect(await apiKeys.revoke(org.id, revoked.id)).toBe(true);
      expect(await apiKeys.revoke(org.id, revoked.id)).toBe(false);
      expect(await apiKeys.findUsableByHash(revoked.key_hash, new Date())).toBeNull();
    });

    it('scopes revoke and listings to the organisation, and never lists hashes', async () => {
      const [owner, other] = [await newOrg(), await newOrg()];
      const key = await apiKeys.create(keyInput(owner.id));
      expect(await apiKeys.revoke(other.id, key.id)).toBe(false);
      expect(await apiKeys.listByOrg(other.id)).toEqual([]);
      const listed = await apiKeys.listByOrg(owner.id);
      expect(listed.map((row) => row.id)).toEqual([key.id]);
      expect(listed[0]).not.toHaveProperty('key_hash');
    });

    it('only moves last_used_at forward', async () => {
      const org = await newOrg();
      const key = await apiKeys.create(keyInput(org.id));
      const later = new Date(Date.now() + 60_000);
      await apiKeys.touchLastUsed(key.id, later);
      await apiKeys.touchLastUsed(key.id, new Date());
      const found = await apiKeys.findUsableByHash(key.key_hash, new Date());
      expect(found?.last_used_at?.getTime()).toBe(later.getTime());
    });
  });

  describe('media', () => {
    it('stores large sizes as numbers and scopes reads and deletes to the organisation', async () => {
      const [owner, other] = [await newOrg(), await newOrg()];
      const stored = await newMedia(owner.id);
      expect(stored.size_bytes).toBe(5 * 2 ** 32);
      expect(await media.findById(owner.id, stored.id)).toEqual(stored);
      expect(await media.findById(other.id, stored.id)).toBeNull();
      expect(await media.markDeleted(database.db, other.id, stored.id)).toBeNull();
      expect(await media.markDeleted(database.db, owner.id, stored.id)).toMatchObject({
        id: stored.id,
        status: 'deleted',
      });
      expect(await media.markDeleted(database.db, owner.id, stored.id)).toBeNull();
      expect(await media.findById(owner.id, stored.id)).toMatchObject({ status: 'deleted' });
    });

    it('keeps a deleted row as a tombstone: when, the hash and size, but no file name or probe', async () => {
      const org = await newOrg();
      const stored = await newMedia(org.id);
      expect(stored.deleted_at).toBeNull();
      const marked = await media.markDeleted(database.db, org.id, stored.id);
      expect(marked).toMatchObject({
        sha256: stored.sha256,
        size_bytes: stored.size_bytes,
        original_filename: null,
        probe: {},
        deleted_at: expect.any(Date),
      });
    });

    it('marks deleted inside a caller transaction that can still roll back', async () => {
      const org = await newOrg();
      const stored = await newMedia(org.id);
      await database.db
        .transaction()
        .execute(async (trx) => {
          expect(await media.markDeleted(trx, org.id, stored.id)).not.toBeNull();
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await media.findById(org.id, stored.id)).toEqual(stored);
    });

    it('refuses a deleted row that still names its file (the check constraint)', async () => {
      const org = await newOrg();
      const stored = await newMedia(org.id);
      await expect(
        database.db.updateTable('media').set({ status: 'deleted' }).where('id', '=', stored.id).execute(),
      ).rejects.toThrow(/media_deleted_check/);
    });

    it('inserts inside a caller transaction that can still roll back', async () => {
      const org = await newOrg();
      const id = randomUUID();
      await database.db
        .transaction()
        .execute(async (trx) => {
          await media.insert(trx, {
            id,
            org_id: org.id,
            sha256: 'b'.repeat(64),
            size_bytes: 1,
            mime_type: 'image/png',
            original_filename: null,
            blob_key: 'k',
            status: 'stored',
            probe: '{}',
          });
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await media.findById(org.id, id)).toBeNull();
    });
  });

  describe('analyses', () => {
    it('keeps one analysis per media and pipeline version under concurrent createOrGet', async () => {
      const org = await newOrg();
      const stored = await newMedia(org.id);
      const key = { orgId: org.id, mediaId: stored.id, pipelineVersion: '1.0.0' };
      const created = await Promise.all(
        Array.from({ length: 8 }, () =>
          database.db.transaction().execute((trx) => analyses.createOrGet(trx, key)),
        ),
      );
      expect(new Set(created.map((row) => row.id)).size).toBe(1);
      const rows = await database.db
        .selectFrom('analyses')
        .select('id')
        .where('media_id', '=', stored.id)
        .execute();
      expect(rows).toHaveLength(1);
      const next = await analyses.createOrGet(database.db, { ...key, pipelineVersion: '2.0.0' });
      expect(next.id).not.toBe(created[0]?.id);
      expect((await analyses.findLatestForMedia(org.id, stored.id))?.id).toBe(next.id);
    });

    it("lists the ids of every analysis of a media, whatever its state, only in the media's organisation", async () => {
      const first = await newAnalysis();
      const second = await analyses.createOrGet(database.db, {
        orgId: first.org_id,
        mediaId: first.media_id,
        pipelineVersion: '2.0.0',
      });
      await analyses.fail(second.id, { code: 'analysis-failed', detail: 'x' });
      await newAnalysis();
      expect(await analyses.findIdsForMedia(first.org_id, first.media_id)).toEqual(
        [first.id, second.id].sort(),
      );
      expect(await analyses.findIdsForMedia((await newOrg()).id, first.media_id)).toEqual([]);
      expect(await analyses.findIdsForMedia(first.org_id, 'not-a-uuid')).toEqual([]);
    });

    it('scopes reads to the organisation; the unscoped read is for workers', async () => {
      const analysis = await newAnalysis();
      const other = await newOrg();
      expect(await analyses.findById(analysis.org_id, analysis.id)).toEqual(analysis);
      expect(await analyses.findById(other.id, analysis.id)).toBeNull();
      expect(await analyses.findLatestForMedia(other.id, analysis.media_id)).toBeNull();
      expect(await analyses.findByIdUnscoped(analysis.id)).toEqual(analysis);
      expect(await analyses.findById(analysis.org_id, 'not-a-uuid')).toBeNull();
    });

    it('runs, reports progress and completes exactly once', async () => {
      const analysis = await newAnalysis();
      const running = await analyses.markRunning(analysis.id);
      expect(running).toMatchObject({ status: 'running', attempts: 1, started_at: expect.any(Date) });
      await analyses.updateProgress(analysis.id, 'faces', 0.5);
      expect(await analyses.findByIdUnscoped(analysis.id)).toMatchObject({ stage: 'faces', progress: 0.5 });
      const writes = await Promise.all([
        analyses.complete(analysis.id, { band: 'inconclusive', report }),
        analyses.complete(analysis.id, {
          band: 'no_indicators',
          report: { ...report, band: 'no_indicators' },
        }),
      ]);
      expect(writes.filter(Boolean)).toHaveLength(1);
      const done = await analyses.findByIdUnscoped(analysis.id);
      expect(done).toMatchObject({ status: 'done', progress: 1, finished_at: expect.any(Date) });
      expect((done?.report as { band: string }).band).toBe(done?.band);
      expect(await analyses.markRunning(analysis.id)).toBeNull();
      expect(await analyses.fail(analysis.id, { code: 'late', detail: 'too late' })).toBe(false);
      expect(await analyses.requeue(analysis.id)).toBe(false);
    });

    it('fails, bounds the detail, and can be requeued and run again', async () => {
      const analysis = await newAnalysis();
      await analyses.markRunning(analysis.id);
      expect(await analyses.fail(analysis.id, { code: 'analysis-failed', detail: 'x'.repeat(5_000) })).toBe(
        true,
      );
      const failed = await analyses.findByIdUnscoped(analysis.id);
      expect(failed).toMatchObject({ status: 'failed', error_code: 'analysis-failed' });
      expect(failed?.error_detail).toHaveLength(2_000);
      expect(await analyses.markRunning(analysis.id)).toBeNull();
      expect(await analyses.requeue(analysis.id)).toBe(true);
      expect(await analyses.findByIdUnscoped(analysis.id)).toMatchObject({
        status: 'queued',
        error_code: null,
      });
      expect(await analyses.markRunning(analysis.id)).toMatchObject({ status: 'running', attempts: 2 });
    });

    it('keeps the first failure reason, and gives back the attempt of a handed-back run', async () => {
      const analysis = await newAnalysis();
      await analyses.markRunning(analysis.id);
      await analyses.markRunning(analysis.id);
      await analyses.releaseAttempt(analysis.id);
      expect(await analyses.findByIdUnscoped(analysis.id)).toMatchObject({ status: 'running', attempts: 1 });
      expect(await analyses.fail(analysis.id, { code: 'blob-integrity', detail: 'tampered' })).toBe(true);
      expect(await analyses.fail(analysis.id, { code: 'worker-lost', detail: 'later' })).toBe(false);
      await analyses.releaseAttempt(analysis.id);
      expect(await analyses.findByIdUnscoped(analysis.id)).toMatchObject({
        status: 'failed',
        error_code: 'blob-integrity',
        attempts: 1,
      });
    });

    it('finds queued and running analyses untouched since a given time', async () => {
      const [queued, running, done] = [await newAnalysis(), await newAnalysis(), await newAnalysis()];
      await analyses.markRunning(running.id);
      await analyses.markRunning(done.id);
      await analyses.complete(done.id, { band: 'inconclusive', report });
      const stale = await analyses.findStale({ olderThan: new Date(Date.now() + 60_000), limit: 1_000 });
      const ids = stale.map((row) => row.id);
      expect(ids).toEqual(expect.arrayContaining([queued.id, running.id]));
      expect(ids).not.toContain(done.id);
      expect(await analyses.findStale({ olderThan: new Date(Date.now() - 60_000), limit: 1_000 })).toEqual(
        [],
      );
      expect(await analyses.findStale({ olderThan: new Date(Date.now() + 60_000), limit: 1 })).toHaveLength(
        1,
      );
    });
  });
});
