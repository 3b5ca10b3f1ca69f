import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per master key rotation: its progress survives a crash, so a rerun resumes it.
  await db.schema
    .createTable('key_rotations')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('to_kek_id', 'text', (col) => col.notNull())
    .addColumn('to_kek_version', 'integer', (col) => col.notNull())
    .addColumn('from_kek_ids', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('phase', 'text')
    .addColumn('objects_done', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('objects_skipped', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_key', 'text')
    .addColumn('last_error', 'text')
    .addColumn('owner', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addCheckConstraint('key_rotations_status_check', sql`status in ('running', 'finished', 'superseded')`)
    .execute();
  // At most one rotation runs at a time, across every process sharing the database.
  await sql`create unique index key_rotations_one_running on key_rotations ((true)) where status = 'running'`.execute(
    db,
  );
  // Master keys taken out of service: configuring one again is refused (current) or warned about (previous).
  await db.schema
    .createTable('retired_master_keys')
    .addColumn('kek_id', 'text', (col) => col.notNull())
    .addColumn('kek_version', 'integer', (col) => col.notNull())
    .addColumn('rotation_id', 'uuid')
    .addColumn('retired_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('retired_master_keys_pkey', ['kek_id', 'kek_version'])
    .execute();
}
