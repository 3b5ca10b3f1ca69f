import { sql, type Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, Media, ShredReason } from '../db/schema.js';
import { isUuid } from './is-uuid.js';

export interface RetentionPolicyRecord {
  mediaRetentionDays: number | null;
  updatedAt: Date | null;
}

export interface LegalHoldRecord {
  reason: string;
  at: Date;
  by: string;
}

/** Stored media past its organisation's retention cutoff. */
export interface ExpiredMedia {
  orgId: string;
  id: string;
  retentionDays: number;
}

export interface RetentionRepository {
  getPolicy(orgId: string): Promise<RetentionPolicyRecord | null>;
  /** The policy before and after, in the caller's transaction; null when the organisation does not exist. */
  setPolicy(
    executor: Executor,
    orgId: string,
    mediaRetentionDays: number | null,
    at: Date,
  ): Promise<{ before: RetentionPolicyRecord; after: RetentionPolicyRecord } | null>;
  /**
   * Stored, unheld media uploaded more than its organisation's `media_retention_days` before `now`, oldest
   * first, at most `limit`; organisations without a policy contribute nothing.
   */
  findExpired(now: Date, limit: number): Promise<ExpiredMedia[]>;
  /** Any status, its row locked until the transaction ends; null when absent in this organisation. */
  lockMedia(executor: Executor, orgId: string, id: string): Promise<Media | null>;
  /** The hold on media of this organisation; null when it is not held (or absent). */
  findHold(orgId: string, id: string): Promise<LegalHoldRecord | null>;
  /** Sets (or replaces) the hold on stored media. */
  setHold(executor: Executor, orgId: string, id: string, hold: LegalHoldRecord): Promise<void>;
  clearHold(executor: Executor, orgId: string, id: string): Promise<void>;
  /** One shred-ledger row per blob; a key already recorded keeps its first row (re-runs are no-ops). */
  recordShredded(
    executor: Executor,
    rows: { blobKey: string; orgId: string | null; reason: ShredReason; at: Date }[],
  ): Promise<void>;
}

export const legalHoldOf = (media: Media): LegalHoldRecord | null =>
  media.legal_hold_reason !== null && media.legal_hold_at !== null && media.legal_hold_by !== null
    ? { reason: media.legal_hold_reason, at: media.legal_hold_at, by: media.legal_hold_by }
    : null;

export function createRetentionRepository(deps: { db: Kysely<Database> }): RetentionRepository {
  const { db } = deps;

  async function readPolicy(executor: Executor, orgId: string): Promise<RetentionPolicyRecord | null> {
    const row = await executor
      .selectFrom('organisations')
      .select(['media_retention_days', 'retention_updated_at'])
      .where('id', '=', orgId)
      .executeTakeFirst();
    return row ? { mediaRetentionDays: row.media_retention_days, updatedAt: row.retention_updated_at } : null;
  }

  return {
    getPolicy: (orgId) => (isUuid(orgId) ? readPolicy(db, orgId) : Promise.resolve(null)),

    async setPolicy(executor, orgId, mediaRetentionDays, at) {
      const before = await executor
        .selectFrom('organisations')
        .select(['media_retention_days', 'retention_updated_at'])
        .where('id', '=', orgId)
        .forUpdate()
        .executeTakeFirst();
      if (!before) return null;
      await executor
        .updateTable('organisations')
        .set({ media_retention_days: mediaRetentionDays, retention_updated_at: at })
        .where('id', '=', orgId)
        .execute();
      return {
        before: { mediaRetentionDays: before.media_retention_days, updatedAt: before.retention_updated_at },
        after: { mediaRetentionDays, updatedAt: at },
      };
    },

    async findExpired(now, limit) {
      return db
        .selectFrom('media as m')
        .innerJoin('organisations as o', 'o.id', 'm.org_id')
        .select(['m.org_id as orgId', 'm.id'])
        .select(sql<number>`o.media_retention_days`.as('retentionDays'))
        .where('o.media_retention_days', 'is not', null)
        .where('m.status', '=', 'stored')
        .where('m.legal_hold_reason', 'is', null)
        .where(
          'm.created_at',
          '<',
          sql<Date>`${now}::timestamptz - o.media_retention_days * interval '1 day'`,
        )
        .orderBy('m.created_at')
        .orderBy('m.id')
        .limit(limit)
        .execute();
    },

    async lockMedia(executor, orgId, id) {
      if (!isUuid(id)) return null;
      const found = await executor
        .selectFrom('media')
        .selectAll()
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .forUpdate()
        .executeTakeFirst();
      return found ?? null;
    },

    async findHold(orgId, id) {
      if (!isUuid(id)) return null;
      const row = await db
        .selectFrom('media')
        .select(['legal_hold_reason', 'legal_hold_at', 'legal_hold_by'])
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .executeTakeFirst();
      return row?.legal_hold_reason && row.legal_hold_at && row.legal_hold_by
        ? { reason: row.legal_hold_reason, at: row.legal_hold_at, by: row.legal_hold_by }
        : null;
    },

    async setHold(executor, orgId, id, hold) {
      await executor
        .updateTable('media')
        .set({ legal_hold_reason: hold.reason, legal_hold_at: hold.at, legal_hold_by: hold.by })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .where('status', '=', 'stored')
        .execute();
    },

    async clearHold(executor, orgId, id) {
      await executor
        .updateTable('media')
        .set({ legal_hold_reason: null, legal_hold_at: null, legal_hold_by: null })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .execute();
    },

    async recordShredded(executor, rows) {
      if (rows.length === 0) return;
      await executor
        .insertInto('shredded_blobs')
        .values(
          rows.map((row) => ({
            blob_key: row.blobKey,
            organisation_id: row.orgId,
            reason: row.reason,
            shredded_at: row.at,
          })),
        )
        .onConflict((oc) => oc.column('blob_key').doNothing())
        .execute();
    },
  };
}
