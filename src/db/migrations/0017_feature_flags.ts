import { sql, type Kysely } from 'kysely';

// Typed as Kysely<unknown>: a migration is frozen in time and must not follow later schema.ts changes.
export async function up(db: Kysely<unknown>): Promise<void> {
  // Deployment-wide flags: named variants of one type, a default variant, an optional weighted split.
  await db.schema
    .createTable('feature_flags')
    .addColumn('key', 'text', (col) => col.primaryKey())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('description', 'text', (col) => col.notNull().defaultTo(''))
    .addColumn('enabled', 'boolean', (col) => col.notNull().defaultTo(true))
    // {"on": true, "off": false}: variant name -> value of the flag's type.
    .addColumn('variants', 'jsonb', (col) => col.notNull())
    .addColumn('default_variant', 'text', (col) => col.notNull())
    // [{"variant": "on", "weight": 10}, ...] or null: no percentage rollout.
    .addColumn('rollout', 'jsonb')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addCheckConstraint(
      'feature_flags_key_check',
      sql`char_length(key) <= 100 and key ~ '^[a-z][a-z0-9]*([._-][a-z0-9]+)*$'`,
    )
    .addCheckConstraint('feature_flags_type_check', sql`type in ('boolean', 'string', 'number', 'object')`)
    .addCheckConstraint('feature_flags_description_check', sql`char_length(description) <= 500`)
    .addCheckConstraint('feature_flags_variants_check', sql`jsonb_typeof(variants) = 'object'`)
    .addCheckConstraint(
      'feature_flags_rollout_check',
      sql`rollout is null or jsonb_typeof(rollout) = 'array'`,
    )
    .execute();
  // One organisation pinned to one variant, whatever the rollout says.
  await db.schema
    .createTable('feature_flag_overrides')
    .addColumn('flag_key', 'text', (col) => col.notNull().references('feature_flags.key').onDelete('cascade'))
    .addColumn('organisation_id', 'uuid', (col) =>
      col.notNull().references('organisations.id').onDelete('cascade'),
    )
    .addColumn('variant', 'text', (col) => col.notNull())
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('feature_flag_overrides_pkey', ['flag_key', 'organisation_id'])
    .execute();
}
