import { sql, type Kysely } from 'kysely';

const now = sql`now()`;

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('organisations')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('prefix', 'text', (col) => col.notNull())
    .addColumn('key_hash', 'text', (col) => col.notNull().unique())
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addCheckConstraint('api_keys_role_check', sql`role in ('admin', 'analyst', 'viewer', 'auditor')`)
    .execute();
  await db.schema.createIndex('api_keys_org_id_idx').on('api_keys').column('org_id').execute();

  await db.schema
    .createTable('media')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    .addColumn('sha256', 'text', (col) => col.notNull())
    .addColumn('size_bytes', 'bigint', (col) => col.notNull())
    .addColumn('mime_type', 'text', (col) => col.notNull())
    .addColumn('original_filename', 'text')
    .addColumn('blob_key', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('probe', 'jsonb', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    // Target of the analyses (media_id, org_id) key: an analysis can only belong to its media's organisation.
    .addUniqueConstraint('media_id_org_id_key', ['id', 'org_id'])
    .addCheckConstraint('media_status_check', sql`status in ('stored', 'deleted')`)
    .addCheckConstraint('media_size_bytes_check', sql`size_bytes >= 0`)
    .addCheckConstraint('media_sha256_check', sql`sha256 ~ '^[0-9a-f]{64}$'`)
    .execute();
  await db.schema
    .createIndex('media_org_id_created_at_idx')
    .on('media')
    .columns(['org_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('analyses')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    .addColumn('media_id', 'uuid', (col) => col.notNull())
    .addColumn('pipeline_version', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('progress', 'double precision', (col) => col.notNull().defaultTo(0))
    .addColumn('stage', 'text')
    .addColumn('band', 'text')
    .addColumn('report', 'jsonb')
    .addColumn('error_code', 'text')
    .addColumn('error_detail', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addForeignKeyConstraint('analyses_media_fkey', ['media_id', 'org_id'], 'media', ['id', 'org_id'])
    // One analysis per media and pipeline version: what makes re-runs and duplicate jobs idempotent.
    .addUniqueConstraint('analyses_media_id_pipeline_version_key', ['media_id', 'pipeline_version'])
    .addCheckConstraint('analyses_status_check', sql`status in ('queued', 'running', 'done', 'failed')`)
    .addCheckConstraint(
      'analyses_band_check',
      sql`band is null or band in ('indicators_found', 'inconclusive', 'no_indicators', 'not_analyzable')`,
    )
    .addCheckConstraint('analyses_progress_check', sql`progress >= 0 and progress <= 1`)
    .addCheckConstraint('analyses_done_has_report_check', sql`status <> 'done' or report is not null`)
    .execute();
  await db.schema
    .createIndex('analyses_status_updated_at_idx')
    .on('analyses')
    .columns(['status', 'updated_at'])
    .execute();
  await db.schema.createIndex('analyses_org_id_idx').on('analyses').column('org_id').execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('dedupe_key', 'text', (col) => col.notNull())
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (col) => col.notNull())
    .addColumn('run_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('progress', 'double precision', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addCheckConstraint('jobs_status_check', sql`status in ('waiting', 'active', 'done', 'failed')`)
    .addCheckConstraint('jobs_attempts_check', sql`attempts >= 0 and max_attempts >= 1`)
    .execute();
  // Deduplicates only live jobs: once a job is done or failed the same key may be enqueued again.
  await db.schema
    .createIndex('jobs_live_dedupe_key_idx')
    .on('jobs')
    .columns(['name', 'dedupe_key'])
    .unique()
    .where(sql.ref('status'), 'in', ['waiting', 'active'])
    .execute();
  await db.schema.createIndex('jobs_status_run_at_idx').on('jobs').columns(['status', 'run_at']).execute();
}
