import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, KeyRotation } from '../db/schema.js';
import type { KekRef } from '../storage/master-key.js';

export interface RotationProgress {
  phase: string;
  objectsDone: number;
  objectsSkipped: number;
  lastKey: string | null;
}

export interface RetiredKek extends KekRef {
  retiredAt: Date;
  rotationId: string | null;
}

export interface KeyRotationRepository {
  /**
   * Takes the running rotation to `to` (resuming it) or starts one; a running rotation to another key is
   * superseded. Throws `RotationBusy` while another live process holds the lease.
   */
  claim(input: {
    to: KekRef;
    fromKekIds: readonly string[];
    owner: string;
    leaseUntil: Date;
    now: Date;
    /** Whether a lease still in force may be taken anyway (its owner process is known to be gone). */
    ownerGone(owner: string): boolean;
  }): Promise<{ rotation: KeyRotation; resumed: boolean }>;
  /** Records progress and extends the lease; false when this owner no longer holds it. */
  checkpoint(
    id: string,
    owner: string,
    progress: RotationProgress & { leaseUntil: Date; now: Date },
  ): Promise<boolean>;
  /** Gives the lease up after a failure, keeping the progress and the error for `keys status`. */
  release(
    id: string,
    owner: string,
    progress: RotationProgress & { lastError: string; now: Date },
  ): Promise<void>;
  finish(id: string, owner: string, progress: RotationProgress & { now: Date }): Promise<void>;
  latest(): Promise<KeyRotation | null>;
  retire(keks: readonly KekRef[], rotationId: string | null, now: Date): Promise<void>;
  listRetired(): Promise<RetiredKek[]>;
}

export class RotationBusy extends Error {
  constructor(readonly rotation: KeyRotation) {
    super(`a key rotation is running in ${rotation.owner ?? 'another process'}`);
    this.name = 'RotationBusy';
  }
}

export function createKeyRotationRepository(deps: { db: Kysely<Database> }): KeyRotationRepository {
  const { db } = deps;
  const progressColumns = (progress: RotationProgress) => ({
    phase: progress.phase,
    objects_done: progress.objectsDone,
    objects_skipped: progress.objectsSkipped,
    last_key: progress.lastKey,
  });
  return {
    async claim({ to, fromKekIds, owner, leaseUntil, now, ownerGone }) {
      return db.transaction().execute(async (trx) => {
        const running = await trx
          .selectFrom('key_rotations')
          .selectAll()
          .where('status', '=', 'running')
          .forUpdate()
          .executeTakeFirst();
        if (running) {
          const leased = running.lease_until !== null && running.lease_until > now;
          if (leased && running.owner !== owner && !ownerGone(running.owner ?? ''))
            throw new RotationBusy(running);
          if (running.to_kek_id === to.id && running.to_kek_version === to.version) {
            const rotation = await trx
              .updateTable('key_rotations')
              .set({ owner, lease_until: leaseUntil, last_error: null, updated_at: now })
              .where('id', '=', running.id)
              .returningAll()
              .executeTakeFirstOrThrow();
            return { rotation, resumed: true };
          }
          await trx
            .updateTable('key_rotations')
            .set({ status: 'superseded', owner: null, lease_until: null, updated_at: now, finished_at: now })
            .where('id', '=', running.id)
            .execute();
        }
        const rotation = await trx
          .insertInto('key_rotations')
          .values({
            id: randomUUID(),
            to_kek_id: to.id,
            to_kek_version: to.version,
            from_kek_ids: fromKekIds.join(','),
            status: 'running',
            phase: null,
            objects_done: 0,
            objects_skipped: 0,
            last_key: null,
            last_error: null,
            owner,
            lease_until: leaseUntil,
            started_at: now,
            updated_at: now,
            finished_at: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return { rotation, resumed: false };
      });
    },

    async checkpoint(id, owner, progress) {
      const result = await db
        .updateTable('key_rotations')
        .set({ ...progressColumns(progress), lease_until: progress.leaseUntil, updated_at: progress.now })
        .where('id', '=', id)
        .where('owner', '=', owner)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async release(id, owner, progress) {
      await db
        .updateTable('key_rotations')
        .set({
          ...progressColumns(progress),
          last_error: progress.lastError,
          owner: null,
          lease_until: null,
          updated_at: progress.now,
        })
        .where('id', '=', id)
        .where('owner', '=', owner)
        .execute();
    },

    async finish(id, owner, progress) {
      await db
        .updateTable('key_rotations')
        .set({
          ...progressColumns(progress),
          status: 'finished',
          owner: null,
          lease_until: null,
          last_error: null,
          updated_at: progress.now,
          finished_at: progress.now,
        })
        .where('id', '=', id)
        .where('owner', '=', owner)
        .execute();
    },

    async latest() {
      const found = await db
        .selectFrom('key_rotations')
        .selectAll()
        .orderBy('started_at', 'desc')
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      return found ?? null;
    },

    async retire(keks, rotationId, now) {
      if (keks.length === 0) return;
      await db
        .insertInto('retired_master_keys')
        .values(
          keks.map((kek) => ({
            kek_id: kek.id,
            kek_version: kek.version,
            rotation_id: rotationId,
            retired_at: now,
          })),
        )
        .onConflict((oc) => oc.columns(['kek_id', 'kek_version']).doNothing())
        .execute();
    },

    async listRetired() {
      const rows = await db.selectFrom('retired_master_keys').selectAll().orderBy('retired_at').execute();
      return rows.map((row) => ({
        id: row.kek_id,
        version: row.kek_version,
        retiredAt: row.retired_at,
        rotationId: row.rotation_id,
      }));
    },
  };
}
