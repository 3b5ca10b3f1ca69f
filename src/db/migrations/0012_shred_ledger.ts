import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Every blob whose data key was destroyed: a restore from an older backup re-applies this list.
  await db.schema
    .createTable('shredded_blobs')
    .addColumn('blob_key', 'text', (col) => col.primaryKey())
    .addColumn('organisation_id', 'uuid')
    .addColumn('reason', 'text', (col) => col.notNull())
    .addColumn('shredded_at', 'timestamptz', (col) => col.notNull())
    .addCheckConstraint(
      'shredded_blobs_reason_check',
      sql`reason in ('user-deletion', 'retention', 'erasure-request', 'organisation-deletion')`,
    )
    .execute();
}
