import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('log_anchors')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('tree_head_id', 'bigint', (col) => col.notNull().references('log_tree_heads.id'))
    .addColumn('tree_size', 'bigint', (col) => col.notNull())
    // SHA-256 of the signed head's RFC 8785 form: what the TSA timestamps and the memo carries.
    .addColumn('tree_head_sha256', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('reason', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('anchored_at', 'timestamptz')
    .addColumn('failed_at', 'timestamptz')
    .addColumn('tsa_token', 'bytea')
    .addColumn('tsa_gen_time', 'timestamptz')
    .addColumn('tsa_serial_hex', 'text')
    .addColumn('tsa_name', 'text')
    .addColumn('solana_cluster', 'text')
    .addColumn('solana_signature', 'text')
    .addColumn('solana_slot', 'bigint')
    .addColumn('solana_memo', 'text')
    .addColumn('solana_fee_payer', 'text')
    .addUniqueConstraint('log_anchors_head_kind_key', ['tree_head_id', 'kind'])
    .addCheckConstraint('log_anchors_kind_check', sql`kind in ('rfc3161', 'solana')`)
    .addCheckConstraint('log_anchors_status_check', sql`status in ('pending', 'anchored', 'failed')`)
    .addCheckConstraint('log_anchors_digest_check', sql`tree_head_sha256 ~ '^[0-9a-f]{64}$'`)
    .addCheckConstraint('log_anchors_attempts_check', sql`attempts >= 0`)
    .addCheckConstraint(
      'log_anchors_pending_check',
      sql`status <> 'pending' or (next_attempt_at is not null and anchored_at is null and failed_at is null)`,
    )
    .addCheckConstraint(
      'log_anchors_failed_check',
      sql`status <> 'failed' or (failed_at is not null and reason is not null and anchored_at is null)`,
    )
    // Anchored data exists exactly when the anchor is anchored, complete for its kind.
    .addCheckConstraint(
      'log_anchors_anchored_check',
      sql`(status = 'anchored') = (anchored_at is not null)
        and (status = 'anchored' and kind = 'rfc3161') = (tsa_token is not null)
        and (tsa_token is null) = (tsa_gen_time is null) and (tsa_token is null) = (tsa_serial_hex is null)
        and (tsa_token is not null or tsa_name is null)
        and (status = 'anchored' and kind = 'solana') = (solana_signature is not null)
        and (solana_signature is null) = (solana_slot is null)
        and (solana_signature is null) = (solana_memo is null)
        and (solana_signature is null) = (solana_fee_payer is null)
        and (solana_signature is null) = (solana_cluster is null)`,
    )
    .execute();
  // At most one anchor of a kind in flight: what makes concurrent planners (several processes) agree.
  await db.schema
    .createIndex('log_anchors_one_pending_idx')
    .on('log_anchors')
    .column('kind')
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('log_anchors_status_idx')
    .on('log_anchors')
    .columns(['status', 'tree_head_id'])
    .execute();

  // A pending anchor moves on (pending again, anchored or failed); nothing else changes, nothing is removed.
  await sql`
    create function log_anchors_transition_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and old.status = 'pending' and new.status in ('pending', 'anchored', 'failed')
         and new.id = old.id and new.tree_head_id = old.tree_head_id and new.tree_size = old.tree_size
         and new.tree_head_sha256 = old.tree_head_sha256 and new.kind = old.kind
         and new.created_at = old.created_at and new.attempts >= old.attempts then
        return new;
      end if;
      raise exception 'log_anchors: only a pending anchor may move on, % refused', tg_op using errcode = '42501';
    end
    $$
  `.execute(db);
  await sql`
    create trigger log_anchors_transition_only before update or delete on log_anchors
    for each row execute function log_anchors_transition_only()
  `.execute(db);
  await sql`
    create trigger log_anchors_no_truncate before truncate on log_anchors
    for each statement execute function transparency_log_refuse_change()
  `.execute(db);
}
