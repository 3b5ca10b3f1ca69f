import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Read-only links to one report: only the SHA-256 of the 256-bit token is kept, the token is shown once.
  await db.schema
    .createTable('report_shares')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('organisation_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    .addColumn('analysis_id', 'uuid', (col) => col.notNull().references('analyses.id'))
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('label', 'text')
    // The media file and the artifacts drawn from it (face crops, maps) go along only when asked for.
    .addColumn('include_media', 'boolean', (col) => col.notNull().defaultTo(false))
    .addColumn('created_by_type', 'text', (col) => col.notNull())
    .addColumn('created_by', 'uuid', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by_type', 'text')
    .addColumn('revoked_by', 'uuid')
    .addColumn('first_used_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('use_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addCheckConstraint('report_shares_token_hash_check', sql`token_hash ~ '^[0-9a-f]{64}$'`)
    .addCheckConstraint('report_shares_created_by_type_check', sql`created_by_type in ('user', 'api-key')`)
    .addCheckConstraint(
      'report_shares_revoked_check',
      sql`(revoked_at is null and revoked_by_type is null and revoked_by is null)
          or (revoked_at is not null and revoked_by_type in ('user', 'api-key') and revoked_by is not null)`,
    )
    .addCheckConstraint('report_shares_expiry_check', sql`expires_at > created_at`)
    .addCheckConstraint('report_shares_label_check', sql`label is null or char_length(label) <= 200`)
    .execute();
  await db.schema
    .createIndex('report_shares_organisation_id_analysis_id_idx')
    .on('report_shares')
    .columns(['organisation_id', 'analysis_id'])
    .execute();
}
