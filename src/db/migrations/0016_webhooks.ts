import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Signing secrets are sealed under the master keyring (object key `webhook-endpoint:<id>`), never plaintext.
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('organisation_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('description', 'text')
    // Comma-separated event type names (portable across PGlite and pg, and few).
    .addColumn('event_types', 'text', (col) => col.notNull())
    .addColumn('secret_sealed', 'bytea', (col) => col.notNull())
    // During a rotation the previous secret also signs, until it expires (space-separated signatures).
    .addColumn('previous_secret_sealed', 'bytea')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .addColumn('enabled', 'boolean', (col) => col.notNull().defaultTo(true))
    .addColumn('disabled_reason', 'text')
    .addColumn('consecutive_failures', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_by_type', 'text', (col) => col.notNull())
    .addColumn('created_by', 'uuid', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addCheckConstraint('webhook_endpoints_url_check', sql`char_length(url) <= 2048`)
    .addCheckConstraint(
      'webhook_endpoints_description_check',
      sql`description is null or char_length(description) <= 500`,
    )
    .addCheckConstraint(
      'webhook_endpoints_created_by_type_check',
      sql`created_by_type in ('user', 'api-key')`,
    )
    .addCheckConstraint(
      'webhook_endpoints_previous_secret_check',
      sql`(previous_secret_sealed is null) = (previous_secret_expires_at is null)`,
    )
    .execute();
  await db.schema
    .createIndex('webhook_endpoints_organisation_id_idx')
    .on('webhook_endpoints')
    .column('organisation_id')
    .execute();

  // One event to one endpoint. The payload is what was signed and sent (ids, band, links: no media, no secrets).
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'uuid', (col) => col.primaryKey())
    .addColumn('organisation_id', 'uuid', (col) => col.notNull().references('organisations.id'))
    .addColumn('endpoint_id', 'uuid', (col) =>
      col.notNull().references('webhook_endpoints.id').onDelete('cascade'),
    )
    // The `webhook-id` header: the same on every attempt and on a manual redelivery, so receivers can dedupe.
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('event_type', 'text', (col) => col.notNull())
    .addColumn('payload', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempt_count', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('last_response_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('redelivery_of', 'uuid')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addCheckConstraint('webhook_deliveries_status_check', sql`status in ('pending', 'succeeded', 'failed')`)
    .addCheckConstraint('webhook_deliveries_payload_check', sql`char_length(payload) <= 65536`)
    .addCheckConstraint(
      'webhook_deliveries_last_error_check',
      sql`last_error is null or char_length(last_error) <= 500`,
    )
    .addCheckConstraint(
      'webhook_deliveries_next_attempt_check',
      sql`(status = 'pending') = (next_attempt_at is not null)`,
    )
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_endpoint_id_created_at_idx')
    .on('webhook_deliveries')
    .columns(['endpoint_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due_idx')
    .on('webhook_deliveries')
    .column('next_attempt_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();

  // Each HTTP attempt of a delivery: the delivery log. Response bodies only as a short excerpt.
  await db.schema
    .createTable('webhook_delivery_attempts')
    .addColumn('delivery_id', 'uuid', (col) =>
      col.notNull().references('webhook_deliveries.id').onDelete('cascade'),
    )
    .addColumn('attempt', 'integer', (col) => col.notNull())
    .addColumn('started_at', 'timestamptz', (col) => col.notNull())
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    .addColumn('response_code', 'integer')
    .addColumn('response_excerpt', 'text')
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('webhook_delivery_attempts_pkey', ['delivery_id', 'attempt'])
    .addCheckConstraint(
      'webhook_delivery_attempts_excerpt_check',
      sql`response_excerpt is null or char_length(response_excerpt) <= 500`,
    )
    .addCheckConstraint(
      'webhook_delivery_attempts_error_check',
      sql`error is null or char_length(error) <= 500`,
    )
    .execute();
}
