import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Who uploaded: a person or an API key of the media's organisation; null for media stored before this.
  await db.schema
    .alterTable('media')
    .addColumn('uploader_type', 'text')
    .addColumn('uploader_id', 'uuid')
    .execute();
  await db.schema
    .alterTable('media')
    .addCheckConstraint(
      'media_uploader_check',
      sql`(uploader_type is null and uploader_id is null)
          or (uploader_type in ('user', 'api-key') and uploader_id is not null)`,
    )
    .execute();

  // History pages walk (created_at, id) inside one organisation, newest first.
  await db.schema.dropIndex('media_org_id_created_at_idx').execute();
  await db.schema
    .createIndex('media_org_id_created_at_id_idx')
    .on('media')
    .columns(['org_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('media_org_id_uploader_idx')
    .on('media')
    .columns(['org_id', 'uploader_id'])
    .execute();

  // A re-run at the same pipeline version is a new analysis (the earlier one and its signed report stay):
  // the idempotency key becomes media × pipeline version × run.
  await db.schema
    .alterTable('analyses')
    .addColumn('run', 'integer', (col) => col.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('analyses').dropConstraint('analyses_media_id_pipeline_version_key').execute();
  await db.schema
    .alterTable('analyses')
    .addUniqueConstraint('analyses_media_id_pipeline_version_run_key', [
      'media_id',
      'pipeline_version',
      'run',
    ])
    .execute();
  await db.schema
    .alterTable('analyses')
    .addCheckConstraint('analyses_run_check', sql`run >= 1`)
    .execute();

  await db.schema.dropIndex('analyses_org_id_idx').execute();
  await db.schema
    .createIndex('analyses_org_id_created_at_id_idx')
    .on('analyses')
    .columns(['org_id', 'created_at', 'id'])
    .execute();
  // The latest analysis of each media (history rows, the media view).
  await db.schema
    .createIndex('analyses_media_id_created_at_id_idx')
    .on('analyses')
    .columns(['media_id', 'created_at', 'id'])
    .execute();
}
