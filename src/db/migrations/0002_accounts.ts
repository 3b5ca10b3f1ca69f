import { sql, type Kysely } from 'kysely';

const now = sql`now()`;

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('organisations')
    .addColumn('require_admin_2fa', 'boolean', (col) => col.notNull().defaultTo(false))
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('org_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    // One account per address across the deployment: login takes an email, not an organisation.
    .addColumn('email', 'text', (col) => col.notNull().unique())
    .addColumn('password_hash', 'text', (col) => col.notNull())
    .addColumn('role', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull().defaultTo('active'))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('password_changed_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    // Target of the sessions (user_id, org_id) key: a session can only carry its user's organisation.
    .addUniqueConstraint('users_id_org_id_key', ['id', 'org_id'])
    .addCheckConstraint('users_email_check', sql`email = lower(email) and length(email) between 3 and 254`)
    .addCheckConstraint('users_role_check', sql`role in ('admin', 'analyst', 'viewer', 'auditor')`)
    .addCheckConstraint('users_status_check', sql`status in ('active', 'disabled')`)
    .execute();
  await db.schema.createIndex('users_org_id_idx').on('users').column('org_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('user_id', 'uuid', (col) => col.notNull())
    .addColumn('org_id', 'uuid', (col) => col.notNull())
    // SHA-256 of the 256-bit cookie token; the token itself is never stored.
    .addColumn('token_hash', 'text', (col) => col.notNull().unique())
    // Per-session key of the CSRF token (HMAC of the cookie token): neither alone yields the CSRF token.
    .addColumn('csrf_secret', 'text', (col) => col.notNull())
    // 'second-factor': password accepted, TOTP pending; such a session authorises only the second step.
    .addColumn('stage', 'text', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('last_seen_at', 'timestamptz', (col) => col.notNull().defaultTo(now))
    .addColumn('absolute_expires_at', 'timestamptz', (col) => col.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addForeignKeyConstraint('sessions_user_fkey', ['user_id', 'org_id'], 'users', ['id', 'org_id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addCheckConstraint('sessions_token_hash_check', sql`token_hash ~ '^[0-9a-f]{64}$'`)
    .addCheckConstraint('sessions_stage_check', sql`stage in ('second-factor', 'complete')`)
    .execute();
  await db.schema.createIndex('sessions_user_id_idx').on('sessions').column('user_id').execute();
}
