import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStoredMediaService } from '../../src/services/stored-media.service.js';
import { HEADER_BYTES } from '../../src/storage/segmented-aead.js';
import {
  databaseImplementations,
  describeEachImplementation,
  testLogger,
  type TestDatabase,
} from '../helpers/databases.js';
import { openLifecycleWorld, type LifecycleWorld } from './lifecycle-world.js';

const log = testLogger();
const client = { ip: '192.0.2.1', userAgent: 'vitest' };

describeEachImplementation(
  'retention, legal hold and crypto-shredding',
  databaseImplementations(),
  (impl) => {
    let database: TestDatabase;
    let world: LifecycleWorld;

    beforeAll(async () => {
      database = await impl.open();
    });
    afterAll(async () => {
      await database.destroy();
    });
    beforeEach(async () => {
      await world?.close();
      world = await openLifecycleWorld(database, log);
      // Earlier tests' media must not be found by this test's retention runs.
      await database.db.updateTable('organisations').set({ media_retention_days: null }).execute();
      return () => world.close();
    });

    it('shreds media past the period (data key overwritten in place, file gone), with ledger and audit rows', async () => {
      const orgId = await world.organisation(30);
      const expired = await world.media(orgId, 31);
      const young = await world.media(orgId, 29);
      const keptForever = await world.media(await world.organisation(null), 4000);
      const before = await world.readFile(world.blobPath(expired.blobKey));
      const backupCopy = join(world.dataDir, 'backup-copy');
      await writeFile(backupCopy, before);
      // A second name for the inode: it sees what the shredder writes into the file before unlinking it.
      const inode = await world.hardLink(expired.blobKey, 'inode-of-expired');
      const artifactInode = await world.hardLink(expired.artifactKey, 'inode-of-artifact');

      expect(await world.retention.run()).toEqual({ shredded: 1, skipped: 0, more: false });

      expect(await world.exists(expired.blobKey)).toBe(false);
      expect(await world.exists(expired.artifactKey)).toBe(false);
      const after = await world.readFile(inode);
      expect(after.subarray(0, HEADER_BYTES).equals(before.subarray(0, HEADER_BYTES))).toBe(false);
      expect(after.subarray(HEADER_BYTES).equals(before.subarray(HEADER_BYTES))).toBe(true);
      await expect(world.decryptFile(inode, expired.blobKey)).rejects.toThrow();
      await expect(world.decryptFile(artifactInode, expired.artifactKey)).rejects.toThrow();
      // What a byte copy taken before (a backup) still holds, as docs/privacy.md says: readable with the KEK.
      expect(await world.decryptFile(backupCopy, expired.blobKey)).toEqual(expired.plaintext);

      const row = await world.mediaRow(expired.id);
      expect(row).toMatchObject({ status: 'deleted', original_filename: null });
      expect(row.deleted_at).not.toBeNull();
      expect(await world.ledgerReasons([expired.blobKey, expired.artifactKey])).toEqual({
        [expired.blobKey]: 'retention',
        [expired.artifactKey]: 'retention',
      });
      const [entry, ...others] = await world.auditFor(expired.id);
      expect(others).toEqual([]);
      expect(entry).toMatchObject({
        action: 'media.delete',
        actor_type: 'system',
        actor_id: null,
        org_id: orgId,
        details: expect.objectContaining({ reason: 'retention', retentionDays: 30, blobsShredded: 2 }),
      });

      for (const untouched of [young, keptForever]) {
        expect(await world.exists(untouched.blobKey)).toBe(true);
        expect((await world.mediaRow(untouched.id)).status).toBe('stored');
        expect(await world.ledger([untouched.blobKey])).toEqual([]);
      }
      expect(await world.audit.verify()).toMatchObject({ ok: true });
    });

    it('is a no-op when run again, and picks media up once the clock passes its period', async () => {
      const orgId = await world.organisation(10);
      const first = await world.media(orgId, 11);
      const later = await world.media(orgId, 9);
      expect((await world.retention.run()).shredded).toBe(1);
      const ledgerRows = await world.ledger([first.blobKey, first.artifactKey]);

      expect(await world.retention.run()).toEqual({ shredded: 0, skipped: 0, more: false });
      expect(await world.ledger([first.blobKey, first.artifactKey])).toEqual(ledgerRows);
      expect(await world.auditFor(first.id)).toHaveLength(1);

      world.clock.now = new Date(world.clock.now.getTime() + 2 * 86_400_000);
      expect((await world.retention.run()).shredded).toBe(1);
      expect(await world.exists(later.blobKey)).toBe(false);
    });

    it('finishes after a crash between shredding and the commit: the row stays stored until a re-run', async () => {
      const orgId = await world.organisation(5);
      const expired = await world.media(orgId, 6);
      world.failNextAuditAppend();
      await expect(world.retention.run()).rejects.toThrow('injected');
      // The transaction rolled back: blobs gone, row still stored and unheld, no ledger or audit row.
      expect(await world.exists(expired.blobKey)).toBe(false);
      expect((await world.mediaRow(expired.id)).status).toBe('stored');
      expect(await world.ledger([expired.blobKey])).toEqual([]);
      expect(await world.auditFor(expired.id)).toEqual([]);

      expect(await world.retention.run()).toEqual({ shredded: 1, skipped: 0, more: false });
      expect((await world.mediaRow(expired.id)).status).toBe('deleted');
      expect(await world.ledgerReasons([expired.blobKey])).toEqual({ [expired.blobKey]: 'retention' });
      expect(await world.auditFor(expired.id)).toHaveLength(1);
    });

    it('works through more media than one batch, oldest first', async () => {
      const orgId = await world.organisation(1);
      const many = [];
      for (let age = 2; age < 7; age += 1) many.push(await world.media(orgId, age));
      expect((await world.retention.run()).shredded).toBe(5);
      for (const media of many) expect(await world.exists(media.blobKey)).toBe(false);
    });

    describe('legal hold', () => {
      it('keeps held media through the retention job, then lets it go once released', async () => {
        const orgId = await world.organisation(1);
        const held = await world.media(orgId, 400);
        await world.hold(orgId, held.id);
        expect(await world.retention.run()).toEqual({ shredded: 0, skipped: 0, more: false });
        expect(await world.exists(held.blobKey)).toBe(true);
        expect(await world.exists(held.artifactKey)).toBe(true);
        expect((await world.mediaRow(held.id)).status).toBe('stored');
        expect(await world.ledger([held.blobKey, held.artifactKey])).toEqual([]);

        await world.retentionRepository.clearHold(database.db, orgId, held.id);
        expect((await world.retention.run()).shredded).toBe(1);
        expect(await world.exists(held.blobKey)).toBe(false);
      });

      it('refuses a user DELETE with 409 legal-hold and touches nothing', async () => {
        const orgId = await world.organisation(null);
        const held = await world.media(orgId, 1);
        await world.hold(orgId, held.id);
        const stored = createStoredMediaService({
          db: database.db,
          media: (await import('../../src/repositories/media.repository.js')).createMediaRepository({
            db: database.db,
          }),
          blobStore: world.blobStore,
          artifacts: { shredForMedia: async () => 0 },
          audit: world.audit,
          shredder: world.shredder,
          log,
        });
        const principal = {
          orgId,
          orgName: 'x',
          role: 'admin' as const,
          actor: { type: 'user' as const, userId: randomUUID(), sessionId: randomUUID() },
        };
        await expect(stored.delete(principal, held.id, client)).rejects.toMatchObject({
          status: 409,
          code: 'legal-hold',
        });
        expect(await world.exists(held.blobKey)).toBe(true);
        expect(await world.exists(held.artifactKey)).toBe(true);
        expect(await world.auditFor(held.id)).toEqual([]);

        // Once released, the user deletion goes through and is recorded as such.
        await world.retentionRepository.clearHold(database.db, orgId, held.id);
        await stored.delete(principal, held.id, client);
        expect(await world.exists(held.blobKey)).toBe(false);
        expect(await world.ledgerReasons([held.blobKey, held.artifactKey])).toEqual({
          [held.blobKey]: 'user-deletion',
          [held.artifactKey]: 'user-deletion',
        });
        expect(await world.auditFor(held.id)).toEqual([
          expect.objectContaining({
            action: 'media.delete',
            actor_type: 'user',
            details: expect.objectContaining({ reason: 'user-deletion' }),
          }),
        ]);
      });

      it('is enforced by the database too: a held row cannot become a tombstone', async () => {
        const orgId = await world.organisation(null);
        const held = await world.media(orgId, 1);
        await world.hold(orgId, held.id);
        await expect(
          database.db
            .updateTable('media')
            .set({ status: 'deleted', deleted_at: new Date(), original_filename: null })
            .where('id', '=', held.id)
            .execute(),
        ).rejects.toThrow(/media_legal_hold_check/);
      });
    });
  },
);
