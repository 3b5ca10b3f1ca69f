import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media').addColumn('deleted_at', 'timestamptz').execute();
  // Rows marked deleted before this migration keep nothing of the file either.
  await sql`update media set deleted_at = now(), original_filename = null, probe = '{}'::jsonb
            where status = 'deleted'`.execute(db);
  // A deleted row is a tombstone for the audit trail: when, but no name of the file that was shredded.
  await db.schema
    .alterTable('media')
    .addCheckConstraint(
      'media_deleted_check',
      sql`(status = 'stored' and deleted_at is null)
          or (status = 'deleted' and deleted_at is not null and original_filename is null)`,
    )
    .execute();
}
