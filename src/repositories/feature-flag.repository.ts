import type { JsonValue } from '@openfeature/server-sdk';
import type { Kysely, Selectable } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, FeatureFlagTable } from '../db/schema.js';
import type { FeatureFlag, FlagDefinition } from '../flags/feature-flag.js';
import { isUuid } from './is-uuid.js';

export type FlagChanges = Partial<Omit<FlagDefinition, 'key' | 'type'>>;

export interface FeatureFlagRepository {
  /** Every flag with its overrides, by key. */
  list(executor?: Executor): Promise<FeatureFlag[]>;
  /** With `lock`, the row is held for the caller's transaction (a read-validate-write change). */
  find(key: string, executor?: Executor, options?: { lock?: boolean }): Promise<FeatureFlag | null>;
  /** Null when a flag with that key exists. */
  create(flag: FlagDefinition, at: Date, executor?: Executor): Promise<FeatureFlag | null>;
  /** Null when there is no such flag. */
  update(key: string, changes: FlagChanges, at: Date, executor?: Executor): Promise<FeatureFlag | null>;
  /** Deletes the flag and its overrides; false when there was none. */
  delete(key: string, executor?: Executor): Promise<boolean>;
  setOverride(key: string, orgId: string, variant: string, at: Date, executor?: Executor): Promise<void>;
  /** False when the organisation had no override. */
  clearOverride(key: string, orgId: string, executor?: Executor): Promise<boolean>;
  /** Overrides pointing at a variant, e.g. before that variant is removed. */
  overridesOf(key: string, executor?: Executor): Promise<{ orgId: string; variant: string }[]>;
}

export function createFeatureFlagRepository(deps: { db: Kysely<Database> }): FeatureFlagRepository {
  const { db } = deps;

  async function overridesByFlag(executor: Executor, keys?: string[]) {
    let query = executor
      .selectFrom('feature_flag_overrides')
      .select(['flag_key', 'organisation_id', 'variant'])
      .orderBy('flag_key')
      .orderBy('organisation_id');
    if (keys) query = query.where('flag_key', 'in', keys);
    const grouped = new Map<string, { orgId: string; variant: string }[]>();
    for (const row of await query.execute()) {
      const list = grouped.get(row.flag_key) ?? [];
      list.push({ orgId: row.organisation_id, variant: row.variant });
      grouped.set(row.flag_key, list);
    }
    return grouped;
  }

  const repository: FeatureFlagRepository = {
    async list(executor = db) {
      const rows = await executor.selectFrom('feature_flags').selectAll().orderBy('key').execute();
      if (rows.length === 0) return [];
      const overrides = await overridesByFlag(executor);
      return rows.map((row) => toFlag(row, overrides.get(row.key) ?? []));
    },

    async find(key, executor = db, options = {}) {
      const query = executor.selectFrom('feature_flags').selectAll().where('key', '=', key);
      const row = await (options.lock ? query.forUpdate() : query).executeTakeFirst();
      if (!row) return null;
      const overrides = await overridesByFlag(executor, [key]);
      return toFlag(row, overrides.get(key) ?? []);
    },

    async create(flag, at, executor = db) {
      // ON CONFLICT rather than catching the violation: a caller's transaction stays usable.
      const row = await executor
        .insertInto('feature_flags')
        .values({
          key: flag.key,
          type: flag.type,
          description: flag.description,
          enabled: flag.enabled,
          variants: JSON.stringify(flag.variants),
          default_variant: flag.defaultVariant,
          rollout: flag.rollout ? JSON.stringify(flag.rollout) : null,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .returningAll()
        .executeTakeFirst();
      return row ? toFlag(row, []) : null;
    },

    async update(key, changes, at, executor = db) {
      const row = await executor
        .updateTable('feature_flags')
        .set({
          updated_at: at,
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
          ...(changes.variants !== undefined ? { variants: JSON.stringify(changes.variants) } : {}),
          ...(changes.defaultVariant !== undefined ? { default_variant: changes.defaultVariant } : {}),
          ...(changes.rollout !== undefined
            ? { rollout: changes.rollout ? JSON.stringify(changes.rollout) : null }
            : {}),
        })
        .where('key', '=', key)
        .returningAll()
        .executeTakeFirst();
      if (!row) return null;
      const overrides = await overridesByFlag(executor, [key]);
      return toFlag(row, overrides.get(key) ?? []);
    },

    async delete(key, executor = db) {
      const result = await executor.deleteFrom('feature_flags').where('key', '=', key).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async setOverride(key, orgId, variant, at, executor = db) {
      await executor
        .insertInto('feature_flag_overrides')
        .values({ flag_key: key, organisation_id: orgId, variant, updated_at: at })
        .onConflict((oc) =>
          oc.columns(['flag_key', 'organisation_id']).doUpdateSet({ variant, updated_at: at }),
        )
        .execute();
    },

    async clearOverride(key, orgId, executor = db) {
      if (!isUuid(orgId)) return false;
      const result = await executor
        .deleteFrom('feature_flag_overrides')
        .where('flag_key', '=', key)
        .where('organisation_id', '=', orgId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async overridesOf(key, executor = db) {
      return (await overridesByFlag(executor, [key])).get(key) ?? [];
    },
  };
  return repository;
}

function toFlag(
  row: Selectable<FeatureFlagTable>,
  overrides: { orgId: string; variant: string }[],
): FeatureFlag {
  return {
    key: row.key,
    type: row.type,
    description: row.description,
    enabled: row.enabled,
    variants: row.variants as Record<string, JsonValue>,
    defaultVariant: row.default_variant,
    rollout: row.rollout,
    overrides,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
