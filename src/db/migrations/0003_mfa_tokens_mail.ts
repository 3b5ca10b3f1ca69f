import { sql, type Kysely } from 'kysely';

const now = sql`now()`;

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('user_totp')
    .addColumn('user_id', 'uuid', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
    // The base32 secret sealed with the master keyring (AEAD bound to the user id); never stored in clear.
    .addColumn('secret_sealed', 'bytea', (col) => col.notNull())
    .addColumn('confirmed_at', 'timestamptz')
    // Last accepted RFC 6238 time step: a code of this step or an earlier one is refused (replay).
    .addColumn('last_used_step', 'bigint')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addCheckConstraint('user_totp_last_used_step_check', sql`last_used_step is null or last_used_step >= 0`)
    .execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull().references('users.id').onDelete('cascade'))
    // SHA-256 of an 80-bit random code: too much entropy to guess offline, so no slow hash is needed.
    .addColumn('code_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('used_at', 'timestamptz')
    .addUniqueConstraint('recovery_codes_user_id_code_hash_key', ['user_id', 'code_hash'])
    .addCheckConstraint('recovery_codes_code_hash_check', sql`code_hash ~ '^[0-9a-f]{64}$'`)
    .execute();

  await db.schema
    .createTable('one_time_tokens')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('purpose', 'text', (col) => col.notNull())
    // SHA-256 of a 256-bit random token; the token itself exists only in the mail.
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    .addColumn('user_id', 'uuid', (col) => col.references('users.id').onDelete('cascade'))
    .addColumn('email', 'text', (col) => col.notNull())
    .addColumn('role', 'text')
    .addColumn('created_by', 'uuid', (col) => col.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('used_at', 'timestamptz')
    .addCheckConstraint('one_time_tokens_purpose_check', sql`purpose in ('invite', 'password_reset')`)
    .addCheckConstraint('one_time_tokens_token_hash_check', sql`token_hash ~ '^[0-9a-f]{64}$'`)
    .addCheckConstraint(
      'one_time_tokens_role_check',
      sql`role is null or role in ('admin', 'analyst', 'viewer', 'auditor')`,
    )
    // An invite names the role it grants; a reset names the account it resets.
    .addCheckConstraint(
      'one_time_tokens_purpose_fields_check',
      sql`(purpose = 'invite' and role is not null) or (purpose = 'password_reset' and user_id is not null)`,
    )
    .execute();
  await db.schema
    .createIndex('one_time_tokens_user_id_purpose_idx')
    .on('one_time_tokens')
    .columns(['user_id', 'purpose'])
    .execute();
  await db.schema
    .createIndex('one_time_tokens_org_id_email_idx')
    .on('one_time_tokens')
    .columns(['org_id', 'email'])
    .execute();

  await db.schema
    .createTable('outbox_messages')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('org_id', 'uuid', (col) => col.references('organisations.id'))
    .addColumn('to_address', 'text', (col) => col.notNull())
    .addColumn('subject', 'text', (col) => col.notNull())
    // Emptied once SMTP has accepted the message, so links in it do not stay at rest.
    .addColumn('body_text', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('error', 'text')
    .addColumn('attempts', 'integer', (col) => col.notNull().defaultTo(0))
    // Also the lease of a delivery in progress: a crashed sender's claim runs out and the message is retried.
    .addColumn('next_attempt_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addCheckConstraint('outbox_messages_attempts_check', sql`attempts >= 0`)
    .execute();
  await db.schema
    .createIndex('outbox_messages_org_id_created_at_idx')
    .on('outbox_messages')
    .columns(['org_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('outbox_messages_due_idx')
    .on('outbox_messages')
    .column('next_attempt_at')
    .where(sql.ref('sent_at'), 'is', null)
    .execute();
}
