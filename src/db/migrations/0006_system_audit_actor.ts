import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // `system`: events the platform records on its own (a worker finding a tampered blob), with no actor id.
  await db.schema.alterTable('audit_events').dropConstraint('audit_events_actor_check').execute();
  await db.schema
    .alterTable('audit_events')
    .addCheckConstraint(
      'audit_events_actor_check',
      sql`actor_type in ('user', 'api-key', 'cli', 'anonymous', 'system')
        and (actor_type in ('cli', 'anonymous', 'system')) = (actor_id is null)`,
    )
    .execute();
}
