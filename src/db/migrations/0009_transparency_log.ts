import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('log_keys')
    .addColumn('key_id', 'text', (col) => col.primaryKey())
    .addColumn('public_key', 'text', (col) => col.notNull().unique())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('retired_at', 'timestamptz')
    .addCheckConstraint('log_keys_key_id_check', sql`key_id ~ '^[0-9a-f]{64}$'`)
    .execute();

  // leaf_index is assigned under the log lock, 0, 1, 2, … without gaps: a gap means a removed leaf.
  await db.schema
    .createTable('log_leaves')
    .addColumn('leaf_index', 'bigint', (col) => col.primaryKey())
    // No foreign keys: the record must outlive what it is about. Unique: one leaf per analysis, however
    // often its job runs.
    .addColumn('analysis_id', 'uuid', (col) => col.notNull().unique())
    .addColumn('org_id', 'uuid', (col) => col.notNull())
    .addColumn('statement', 'text', (col) => col.notNull())
    .addColumn('signature', 'text', (col) => col.notNull())
    .addColumn('key_id', 'text', (col) => col.notNull())
    .addColumn('leaf_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('log_leaves_index_check', sql`leaf_index >= 0`)
    .addCheckConstraint('log_leaves_hash_check', sql`leaf_hash ~ '^[0-9a-f]{64}$'`)
    .execute();

  // Several heads may share a size (re-signed later, with a newer audit head); two roots for one size is a fork.
  await db.schema
    .createTable('log_tree_heads')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('tree_size', 'bigint', (col) => col.notNull())
    .addColumn('root_hash', 'text', (col) => col.notNull())
    .addColumn('signed_at', 'timestamptz', (col) => col.notNull())
    .addColumn('audit_seq', 'bigint')
    .addColumn('audit_hash', 'text')
    .addColumn('key_id', 'text', (col) => col.notNull())
    .addColumn('signature', 'text', (col) => col.notNull())
    .addCheckConstraint('log_tree_heads_size_check', sql`tree_size >= 0`)
    .addCheckConstraint('log_tree_heads_audit_check', sql`(audit_seq is null) = (audit_hash is null)`)
    .execute();
  await db.schema.createIndex('log_tree_heads_size_idx').on('log_tree_heads').column('tree_size').execute();

  // Append-only for every role unless someone with ownership disables the triggers (as audit_events).
  await sql`
    create function transparency_log_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = '42501';
    end
    $$
  `.execute(db);
  for (const table of ['log_leaves', 'log_tree_heads']) {
    await sql`
      create trigger ${sql.id(`${table}_no_update_delete`)} before update or delete on ${sql.table(table)}
      for each row execute function transparency_log_refuse_change()
    `.execute(db);
    await sql`
      create trigger ${sql.id(`${table}_no_truncate`)} before truncate on ${sql.table(table)}
      for each statement execute function transparency_log_refuse_change()
    `.execute(db);
  }
  // A key is never removed (old bundles name it); the one change allowed is retiring it, once.
  await sql`
    create function log_keys_retire_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.retired_at is null and new.retired_at is not null
         and new.key_id = old.key_id and new.public_key = old.public_key and new.created_at = old.created_at then
        return new;
      end if;
      raise exception 'log_keys: only retiring a key is allowed, % refused', tg_op using errcode = '42501';
    end
    $$
  `.execute(db);
  await sql`
    create trigger log_keys_retire_only before update or delete on log_keys
    for each row execute function log_keys_retire_only()
  `.execute(db);
  await sql`
    create trigger log_keys_no_truncate before truncate on log_keys
    for each statement execute function transparency_log_refuse_change()
  `.execute(db);
}
