import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, ReportShare, UploaderType } from '../db/schema.js';
import { isUuid } from './is-uuid.js';

export interface NewReportShare {
  orgId: string;
  analysisId: string;
  tokenHash: string;
  label: string | null;
  includeMedia: boolean;
  createdBy: { type: UploaderType; id: string };
  createdAt: Date;
  expiresAt: Date;
}

export interface ReportShareRepository {
  create(input: NewReportShare, executor?: Executor): Promise<ReportShare>;
  findByTokenHash(tokenHash: string): Promise<ReportShare | null>;
  findById(orgId: string, id: string): Promise<ReportShare | null>;
  /** Newest first. */
  listForAnalysis(orgId: string, analysisId: string): Promise<ReportShare[]>;
  /** Revokes it unless already revoked; the row when this call did. */
  revoke(
    orgId: string,
    id: string,
    by: { type: UploaderType; id: string; at: Date },
    executor?: Executor,
  ): Promise<ReportShare | null>;
  /** Counts one use; `first` is true for the use that set `first_used_at` (exactly one caller sees it). */
  recordUse(id: string, at: Date): Promise<{ first: boolean }>;
}

export function createReportShareRepository(deps: { db: Kysely<Database> }): ReportShareRepository {
  const { db } = deps;
  return {
    async create(input, executor = db) {
      return executor
        .insertInto('report_shares')
        .values({
          id: randomUUID(),
          organisation_id: input.orgId,
          analysis_id: input.analysisId,
          token_hash: input.tokenHash,
          label: input.label,
          include_media: input.includeMedia,
          created_by_type: input.createdBy.type,
          created_by: input.createdBy.id,
          created_at: input.createdAt,
          expires_at: input.expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async findByTokenHash(tokenHash) {
      const found = await db
        .selectFrom('report_shares')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return found ?? null;
    },

    async findById(orgId, id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('report_shares')
        .selectAll()
        .where('organisation_id', '=', orgId)
        .where('id', '=', id)
        .executeTakeFirst();
      return found ?? null;
    },

    async listForAnalysis(orgId, analysisId) {
      if (!isUuid(analysisId)) return [];
      return db
        .selectFrom('report_shares')
        .selectAll()
        .where('organisation_id', '=', orgId)
        .where('analysis_id', '=', analysisId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
    },

    async revoke(orgId, id, by, executor = db) {
      if (!isUuid(id)) return null;
      const row = await executor
        .updateTable('report_shares')
        .set({ revoked_at: by.at, revoked_by_type: by.type, revoked_by: by.id })
        .where('organisation_id', '=', orgId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row ?? null;
    },

    async recordUse(id, at) {
      const row = await db
        .updateTable('report_shares')
        .set({
          first_used_at: sql<Date>`coalesce(first_used_at, ${at})`,
          last_used_at: at,
          use_count: sql<number>`use_count + 1`,
        })
        .where('id', '=', id)
        .returning('use_count')
        .executeTakeFirst();
      return { first: Number(row?.use_count ?? 0) === 1 };
    },
  };
}
