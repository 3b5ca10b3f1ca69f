import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // seq is assigned by the appender under the chain lock, not by a sequence: a sequence leaves gaps on
  // rollback, and here a gap must mean exactly one thing, a removed entry.
  await db.schema
    .createTable('audit_events')
    .addColumn('seq', 'bigint', (col) => col.primaryKey())
    .addColumn('id', 'uuid', (col) => col.notNull().unique())
    .addColumn('at', 'timestamptz', (col) => col.notNull())
    // No foreign key: the record of what happened must outlive the organisation it happened in.
    .addColumn('org_id', 'uuid')
    .addColumn('actor_type', 'text', (col) => col.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (col) => col.notNull())
    .addColumn('outcome', 'text', (col) => col.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('details', 'jsonb', (col) => col.notNull())
    .addColumn('prev_hash', 'text', (col) => col.notNull().unique())
    .addColumn('hash', 'text', (col) => col.notNull().unique())
    .addCheckConstraint('audit_events_seq_check', sql`seq >= 1`)
    .addCheckConstraint(
      'audit_events_actor_check',
      sql`actor_type in ('user', 'api-key', 'cli', 'anonymous')
        and (actor_type in ('cli', 'anonymous')) = (actor_id is null)`,
    )
    .addCheckConstraint('audit_events_outcome_check', sql`outcome in ('success', 'failure')`)
    .addCheckConstraint('audit_events_target_check', sql`(target_type is null) = (target_id is null)`)
    .addCheckConstraint('audit_events_details_check', sql`jsonb_typeof(details) = 'object'`)
    .addCheckConstraint(
      'audit_events_hashes_check',
      sql`prev_hash ~ '^[0-9a-f]{64}$' and hash ~ '^[0-9a-f]{64}$'`,
    )
    .execute();
  await db.schema
    .createIndex('audit_events_org_id_seq_idx')
    .on('audit_events')
    .columns(['org_id', 'seq desc'])
    .execute();

  // Append-only for every role, superusers included, unless someone with ownership disables the trigger;
  // PostgreSQL deployments also REVOKE UPDATE, DELETE, TRUNCATE from the application role (docs/audit-log.md).
  await sql`
    create function audit_events_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_events is append-only: % refused', tg_op using errcode = '42501';
    end
    $$
  `.execute(db);
  await sql`
    create trigger audit_events_no_update_delete before update or delete on audit_events
    for each row execute function audit_events_refuse_change()
  `.execute(db);
  await sql`
    create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_refuse_change()
  `.execute(db);

  // The database itself refuses a fork or a gap: each entry must name the hash of the entry just before it.
  await sql`
    create function audit_events_check_link() returns trigger language plpgsql as $$
    begin
      if new.seq = 1 then
        if new.prev_hash <> repeat('0', 64) then
          raise exception 'audit_events: the first entry must have the genesis prev_hash' using errcode = '23514';
        end if;
      elsif not exists (select 1 from audit_events where seq = new.seq - 1 and hash = new.prev_hash) then
        raise exception 'audit_events: entry % does not extend the chain', new.seq using errcode = '23514';
      end if;
      return new;
    end
    $$
  `.execute(db);
  await sql`
    create trigger audit_events_link before insert on audit_events
    for each row execute function audit_events_check_link()
  `.execute(db);
}
