import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // What the outbox API shows: the body with its one-time tokens replaced, so no admin reads a live link.
  await db.schema
    .alterTable('outbox_messages')
    .addColumn('body_redacted', 'text', (col) => col.notNull().defaultTo(''))
    .execute();
  // Messages written before this migration carry their tokens only in `#token=…` links.
  await sql`
    update outbox_messages
    set body_redacted = regexp_replace(body_text, '#token=[A-Za-z0-9_-]+', '#token=[redacted]', 'g')
  `.execute(db);
  await db.schema
    .alterTable('outbox_messages')
    .alterColumn('body_redacted', (col) => col.dropDefault())
    .execute();
}
