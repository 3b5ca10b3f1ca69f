import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Analysis, Database } from '../db/schema.js';
import type { Band } from '../pipeline/report.js';
import { isUuid } from './is-uuid.js';

const now = sql<Date>`now()`;
const maxErrorDetailLength = 2_000;

export interface AnalysisRepository {
  /** The one analysis of this media at this pipeline version, created when missing (never two rows). */
  createOrGet(
    executor: Executor,
    key: { orgId: string; mediaId: string; pipelineVersion: string },
  ): Promise<Analysis>;
  /** A further analysis of the media at this pipeline version, numbered after the last run (a re-run). */
  createRun(
    executor: Executor,
    key: { orgId: string; mediaId: string; pipelineVersion: string },
  ): Promise<Analysis>;
  /** The media's queued or running analysis, if any (newest first). */
  findLiveForMedia(executor: Executor, orgId: string, mediaId: string): Promise<Analysis | null>;
  findById(orgId: string, id: string): Promise<Analysis | null>;
  findLatestForMedia(orgId: string, mediaId: string): Promise<Analysis | null>;
  /** Ids of every analysis of the media, whatever its state (to shred what they stored with it). */
  findIdsForMedia(orgId: string, mediaId: string): Promise<string[]>;
  /** For workers only: the job carries the org id and the worker checks it against the row. */
  findByIdUnscoped(id: string): Promise<Analysis | null>;
  /** queued|running → running with one more attempt (attempts counts every run started); null when it is done or failed. */
  markRunning(id: string): Promise<Analysis | null>;
  /** Gives back the attempt of a run that was handed back on shutdown (it did not fail). */
  releaseAttempt(id: string): Promise<void>;
  updateProgress(id: string, stage: string, progress: number): Promise<void>;
  /** True only for the call that wrote the report: a job that runs twice leaves one report. */
  complete(id: string, result: { band: Band; report: unknown }, executor?: Executor): Promise<boolean>;
  /** queued|running → failed; false when it has already ended (the first reason given is kept). */
  fail(id: string, error: { code: string; detail: string }, executor?: Executor): Promise<boolean>;
  /** Back to queued (reconciler, re-analysis); false when it is already done. */
  requeue(id: string): Promise<boolean>;
  /** queued or running and untouched since before `olderThan`, oldest first. */
  findStale(query: { olderThan: Date; limit: number }): Promise<Analysis[]>;
}

export function createAnalysisRepository(deps: { db: Kysely<Database> }): AnalysisRepository {
  const { db } = deps;

  // Every state change refreshes updated_at: the reconciler reads an old updated_at as "nobody is on it".
  const updateTouching = (executor: Executor = db) =>
    executor.updateTable('analyses').set({ updated_at: now });

  async function findOne(query: { id: string; orgId?: string }): Promise<Analysis | null> {
    if (!isUuid(query.id)) return null;
    let select = db.selectFrom('analyses').selectAll().where('id', '=', query.id);
    if (query.orgId !== undefined) select = select.where('org_id', '=', query.orgId);
    return (await select.executeTakeFirst()) ?? null;
  }

  return {
    async createOrGet(executor, key) {
      await executor
        .insertInto('analyses')
        .values({
          id: randomUUID(),
          org_id: key.orgId,
          media_id: key.mediaId,
          pipeline_version: key.pipelineVersion,
          status: 'queued',
          progress: 0,
          attempts: 0,
        })
        .onConflict((oc) => oc.columns(['media_id', 'pipeline_version', 'run']).doNothing())
        .execute();
      return executor
        .selectFrom('analyses')
        .selectAll()
        .where('media_id', '=', key.mediaId)
        .where('pipeline_version', '=', key.pipelineVersion)
        .where('run', '=', 1)
        .where('org_id', '=', key.orgId)
        .executeTakeFirstOrThrow();
    },

    async createRun(executor, key) {
      const last = await executor
        .selectFrom('analyses')
        .select((eb) => eb.fn.max('run').as('run'))
        .where('media_id', '=', key.mediaId)
        .where('pipeline_version', '=', key.pipelineVersion)
        .where('org_id', '=', key.orgId)
        .executeTakeFirst();
      return executor
        .insertInto('analyses')
        .values({
          id: randomUUID(),
          org_id: key.orgId,
          media_id: key.mediaId,
          pipeline_version: key.pipelineVersion,
          status: 'queued',
          progress: 0,
          attempts: 0,
          run: (last?.run ?? 0) + 1,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async findLiveForMedia(executor, orgId, mediaId) {
      if (!isUuid(mediaId)) return null;
      const found = await executor
        .selectFrom('analyses')
        .selectAll()
        .where('media_id', '=', mediaId)
        .where('org_id', '=', orgId)
        .where('status', 'in', ['queued', 'running'])
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return found ?? null;
    },

    findById: (orgId, id) => findOne({ id, orgId }),
    findByIdUnscoped: (id) => findOne({ id }),

    async findLatestForMedia(orgId, mediaId) {
      if (!isUuid(mediaId)) return null;
      const found = await db
        .selectFrom('analyses')
        .selectAll()
        .where('media_id', '=', mediaId)
        .where('org_id', '=', orgId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      return found ?? null;
    },

    async findIdsForMedia(orgId, mediaId) {
      if (!isUuid(mediaId)) return [];
      const rows = await db
        .selectFrom('analyses')
        .select('id')
        .where('media_id', '=', mediaId)
        .where('org_id', '=', orgId)
        .orderBy('id')
        .execute();
      return rows.map((row) => row.id);
    },

    async markRunning(id) {
      const running = await updateTouching()
        .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), started_at: now }))
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .returningAll()
        .executeTakeFirst();
      return running ?? null;
    },

    async releaseAttempt(id) {
      await updateTouching()
        .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('attempts', '>', 0)
        .execute();
    },

    async updateProgress(id, stage, progress) {
      await updateTouching()
        .set({ stage, progress: Math.min(1, Math.max(0, progress)) })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .execute();
    },

    async complete(id, result, executor) {
      const written = await updateTouching(executor)
        .set({
          status: 'done',
          band: result.band,
          report: JSON.stringify(result.report),
          progress: 1,
          error_code: null,
          error_detail: null,
          finished_at: now,
        })
        .where('id', '=', id)
        .where('status', '<>', 'done')
        .executeTakeFirst();
      return written.numUpdatedRows > 0n;
    },

    async fail(id, error, executor) {
      const written = await updateTouching(executor)
        .set({
          status: 'failed',
          error_code: error.code,
          error_detail: error.detail.slice(0, maxErrorDetailLength),
          finished_at: now,
        })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      return written.numUpdatedRows > 0n;
    },

    async requeue(id) {
      const written = await updateTouching()
        .set({
          status: 'queued',
          progress: 0,
          stage: null,
          error_code: null,
          error_detail: null,
          finished_at: null,
        })
        .where('id', '=', id)
        .where('status', '<>', 'done')
        .executeTakeFirst();
      return written.numUpdatedRows > 0n;
    },

    findStale: ({ olderThan, limit }) =>
      db
        .selectFrom('analyses')
        .selectAll()
        .where('status', 'in', ['queued', 'running'])
        .where('updated_at', '<', olderThan)
        .orderBy('updated_at')
        .limit(limit)
        .execute(),
  };
}
