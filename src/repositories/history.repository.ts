import { sql, type ExpressionBuilder, type Kysely, type SqlBool, type Expression } from 'kysely';
import type { AnalysisStatus, Database, UploaderType } from '../db/schema.js';
import type { Band } from '../pipeline/report.js';

/** Where a page starts: the (created_at, id) of the last row of the previous page, exact to the microsecond. */
export interface PagePosition {
  /** UTC, microsecond precision (`2025-01-02T03:04:05.123456Z`): a JS Date would lose the microseconds. */
  createdAt: string;
  id: string;
}

export interface HistoryQuery {
  orgId: string;
  /** Of the analysis (for media: of its latest analysis). */
  band?: Band;
  status?: AnalysisStatus;
  /** Created at or after (inclusive). */
  from?: Date;
  /** Created before (exclusive). */
  to?: Date;
  /** Id of the person (or API key) who uploaded the media. */
  uploaderId?: string;
  /** Case-insensitive substring of the media's file name; matched literally (`%`, `_`, `\` included). */
  q?: string;
  after?: PagePosition;
  limit: number;
}

export interface Uploader {
  type: UploaderType;
  id: string;
  /** The person's email or the API key's name; null when the account or key no longer exists. */
  label: string | null;
}

export interface MediaHistoryRow {
  id: string;
  sha256: string;
  sizeBytes: number;
  mimeType: string;
  originalFilename: string | null;
  createdAt: Date;
  uploader: Uploader | null;
  /** On legal hold: no deletion path may shred it. */
  legalHold: boolean;
  latestAnalysis: { id: string; status: AnalysisStatus; band: Band | null } | null;
  position: PagePosition;
}

export interface AnalysisHistoryRow {
  id: string;
  mediaId: string;
  status: AnalysisStatus;
  band: Band | null;
  progress: number;
  stage: string | null;
  pipelineVersion: string;
  run: number;
  errorCode: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  media: {
    originalFilename: string | null;
    mimeType: string;
    sizeBytes: number;
    uploader: Uploader | null;
    deleted: boolean;
  };
  position: PagePosition;
}

export interface HistoryRepository {
  /** Stored media of one organisation, newest first; `limit + 1` rows at most (the extra one says "more"). */
  listMedia(query: HistoryQuery): Promise<MediaHistoryRow[]>;
  /** Analyses of one organisation (those of deleted media too: their reports stay), newest first. */
  listAnalyses(query: HistoryQuery): Promise<AnalysisHistoryRow[]>;
}

/** `%`, `_` and the escape character itself match only themselves. */
export function likeSubstring(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** The exact position of a row, as text: timestamptz keeps microseconds that a JS Date cannot hold. */
const positionOf = (column: 'm.created_at' | 'a.created_at') =>
  sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Rows strictly after the position in newest-first order: the (created_at, id) index serves it. */
const before = (column: 'm' | 'a', position: PagePosition) =>
  sql<SqlBool>`(${sql.ref(`${column}.created_at`)}, ${sql.ref(`${column}.id`)}) < (${position.createdAt}::timestamptz, ${position.id}::uuid)`;

type Row = ExpressionBuilder<
  Database & { m: Database['media']; u: Database['users']; k: Database['api_keys'] },
  'm' | 'u' | 'k'
>;

function mediaConditions(eb: Row, query: HistoryQuery): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  if (query.uploaderId !== undefined) conditions.push(eb('m.uploader_id', '=', query.uploaderId));
  if (query.q !== undefined && query.q !== '')
    conditions.push(
      sql<SqlBool>`${sql.ref('m.original_filename')} ilike ${likeSubstring(query.q)} escape '\\'`,
    );
  return conditions;
}

function uploaderOf(row: {
  uploader_type: UploaderType | null;
  uploader_id: string | null;
  uploader_label: string | null;
}): Uploader | null {
  if (row.uploader_type === null || row.uploader_id === null) return null;
  return { type: row.uploader_type, id: row.uploader_id, label: row.uploader_label };
}

export function createHistoryRepository(deps: { db: Kysely<Database> }): HistoryRepository {
  const { db } = deps;

  // The uploader's email or key name, only within the media's own organisation.
  const mediaWithUploader = () =>
    db
      .selectFrom('media as m')
      .leftJoin('users as u', (join) =>
        join
          .on('m.uploader_type', '=', 'user')
          .onRef('u.id', '=', 'm.uploader_id')
          .onRef('u.org_id', '=', 'm.org_id'),
      )
      .leftJoin('api_keys as k', (join) =>
        join
          .on('m.uploader_type', '=', 'api-key')
          .onRef('k.id', '=', 'm.uploader_id')
          .onRef('k.org_id', '=', 'm.org_id'),
      );

  return {
    async listMedia(query) {
      let select = mediaWithUploader()
        .leftJoinLateral(
          (eb) =>
            eb
              .selectFrom('analyses as la')
              .select(['la.id', 'la.status', 'la.band'])
              .whereRef('la.media_id', '=', 'm.id')
              .whereRef('la.org_id', '=', 'm.org_id')
              .orderBy('la.created_at', 'desc')
              .orderBy('la.id', 'desc')
              .limit(1)
              .as('latest'),
          (join) => join.onTrue(),
        )
        .select([
          'm.id',
          'm.sha256',
          'm.size_bytes',
          'm.mime_type',
          'm.original_filename',
          'm.created_at',
          'm.uploader_type',
          'm.uploader_id',
          'm.legal_hold_reason',
          'latest.id as analysis_id',
          'latest.status as analysis_status',
          'latest.band as analysis_band',
        ])
        .select((eb) => [
          eb.fn.coalesce('u.email', 'k.name').as('uploader_label'),
          positionOf('m.created_at').as('position'),
        ])
        .where('m.org_id', '=', query.orgId)
        .where('m.status', '=', 'stored')
        .where((eb) => eb.and(mediaConditions(eb as unknown as Row, query)));
      if (query.status !== undefined) select = select.where('latest.status', '=', query.status);
      if (query.band !== undefined) select = select.where('latest.band', '=', query.band);
      if (query.from !== undefined) select = select.where('m.created_at', '>=', query.from);
      if (query.to !== undefined) select = select.where('m.created_at', '<', query.to);
      if (query.after !== undefined) select = select.where(before('m', query.after));
      const rows = await select
        .orderBy('m.created_at', 'desc')
        .orderBy('m.id', 'desc')
        .limit(query.limit + 1)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        sha256: row.sha256,
        sizeBytes: Number(row.size_bytes),
        mimeType: row.mime_type,
        originalFilename: row.original_filename,
        createdAt: row.created_at,
        uploader: uploaderOf(row),
        legalHold: row.legal_hold_reason !== null,
        latestAnalysis:
          row.analysis_id !== null && row.analysis_status !== null
            ? { id: row.analysis_id, status: row.analysis_status, band: row.analysis_band }
            : null,
        position: { createdAt: row.position, id: row.id },
      }));
    },

    async listAnalyses(query) {
      let select = mediaWithUploader()
        .innerJoin('analyses as a', (join) =>
          join.onRef('a.media_id', '=', 'm.id').onRef('a.org_id', '=', 'm.org_id'),
        )
        .select([
          'a.id',
          'a.media_id',
          'a.status',
          'a.band',
          'a.progress',
          'a.stage',
          'a.pipeline_version',
          'a.run',
          'a.error_code',
          'a.created_at',
          'a.started_at',
          'a.finished_at',
          'm.original_filename',
          'm.mime_type',
          'm.size_bytes',
          'm.status as media_status',
          'm.uploader_type',
          'm.uploader_id',
        ])
        .select((eb) => [
          eb.fn.coalesce('u.email', 'k.name').as('uploader_label'),
          positionOf('a.created_at').as('position'),
        ])
        .where('a.org_id', '=', query.orgId)
        .where((eb) => eb.and(mediaConditions(eb as unknown as Row, query)));
      if (query.status !== undefined) select = select.where('a.status', '=', query.status);
      if (query.band !== undefined) select = select.where('a.band', '=', query.band);
      if (query.from !== undefined) select = select.where('a.created_at', '>=', query.from);
      if (query.to !== undefined) select = select.where('a.created_at', '<', query.to);
      if (query.after !== undefined) select = select.where(before('a', query.after));
      const rows = await select
        .orderBy('a.created_at', 'desc')
        .orderBy('a.id', 'desc')
        .limit(query.limit + 1)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        mediaId: row.media_id,
        status: row.status,
        band: row.band,
        progress: row.progress,
        stage: row.stage,
        pipelineVersion: row.pipeline_version,
        run: row.run,
        errorCode: row.error_code,
        createdAt: row.created_at,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        media: {
          originalFilename: row.original_filename,
          mimeType: row.mime_type,
          sizeBytes: Number(row.size_bytes),
          uploader: uploaderOf(row),
          deleted: row.media_status !== 'stored',
        },
        position: { createdAt: row.position, id: row.id },
      }));
    },
  };
}
