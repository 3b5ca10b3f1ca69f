import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Media is crypto-shredded this many days after upload; null keeps it until someone deletes it.
  await db.schema
    .alterTable('organisations')
    .addColumn('media_retention_days', 'integer')
    .addColumn('retention_updated_at', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('organisations')
    .addCheckConstraint(
      'organisations_media_retention_days_check',
      sql`media_retention_days is null or media_retention_days between 1 and 36500`,
    )
    .execute();

  // A legal hold: the reason, when and by whom. Held media can be neither deleted nor tombstoned.
  await db.schema
    .alterTable('media')
    .addColumn('legal_hold_reason', 'text')
    .addColumn('legal_hold_at', 'timestamptz')
    .addColumn('legal_hold_by', 'text')
    .execute();
  await db.schema
    .alterTable('media')
    .addCheckConstraint(
      'media_legal_hold_check',
      sql`((legal_hold_reason is null) = (legal_hold_at is null))
          and ((legal_hold_reason is null) = (legal_hold_by is null))
          and (legal_hold_reason is null or status = 'stored')`,
    )
    .execute();
  // The retention job looks for stored, unheld media past its organisation's cutoff.
  await db.schema
    .createIndex('media_retention_idx')
    .on('media')
    .columns(['org_id', 'created_at'])
    .where(sql.ref('status'), '=', 'stored')
    .execute();
}
