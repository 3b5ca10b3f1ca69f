import type { Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('login_throttle')
    // `account:<sha-256 of the normalised email>` or `ip:<address or /64>`: never a readable email.
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('state', 'text', (col) => col.notNull())
    .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
    .execute();
  await db.schema
    .createIndex('login_throttle_expires_at_idx')
    .on('login_throttle')
    .column('expires_at')
    .execute();
}
