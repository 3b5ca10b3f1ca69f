import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { ApiKey, ApiKeyRole, Database } from '../db/schema.js';
import { conflict } from '../services/errors.js';
import { isUuid } from './is-uuid.js';

export interface NewApiKeyInput {
  orgId: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  keyHash: string;
  expiresAt: Date | null;
}

export type UsableApiKey = ApiKey & { org_name: string };
/** Listings never carry the hash. */
export type ApiKeySummary = Omit<ApiKey, 'key_hash'>;

export interface ApiKeyRepository {
  create(input: NewApiKeyInput, executor?: Executor): Promise<ApiKey>;
  /** A key that is neither revoked nor expired at `now`, with its organisation's name. */
  findUsableByHash(keyHash: string, now: Date): Promise<UsableApiKey | null>;
  /** Only moves last_used_at forward; callers throttle how often they call it. */
  touchLastUsed(id: string, at: Date): Promise<void>;
  /** True when this call revoked the key; false when it is unknown, another org's, or already revoked. */
  revoke(orgId: string, id: string): Promise<boolean>;
  listByOrg(orgId: string): Promise<ApiKeySummary[]>;
}

export function createApiKeyRepository(deps: { db: Kysely<Database> }): ApiKeyRepository {
  const { db } = deps;
  return {
    async create(input, executor = db) {
      const created = await executor
        .insertInto('api_keys')
        .values({
          id: randomUUID(),
          org_id: input.orgId,
          name: input.name,
          role: input.role,
          prefix: input.prefix,
          key_hash: input.keyHash,
          expires_at: input.expiresAt,
        })
        .onConflict((oc) => oc.column('key_hash').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!created) throw conflict('an API key with this hash already exists');
      return created;
    },

    async findUsableByHash(keyHash, now) {
      const found = await db
        .selectFrom('api_keys')
        .innerJoin('organisations', 'organisations.id', 'api_keys.org_id')
        .selectAll('api_keys')
        .select('organisations.name as org_name')
        .where('api_keys.key_hash', '=', keyHash)
        .where('api_keys.revoked_at', 'is', null)
        .where((eb) => eb.or([eb('api_keys.expires_at', 'is', null), eb('api_keys.expires_at', '>', now)]))
        .executeTakeFirst();
      return found ?? null;
    },

    async touchLastUsed(id, at) {
      await db
        .updateTable('api_keys')
        .set({ last_used_at: at })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
        .execute();
    },

    async revoke(orgId, id) {
      if (!isUuid(id)) return false;
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: new Date() })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    listByOrg: (orgId) =>
      db
        .selectFrom('api_keys')
        .select([
          'id',
          'org_id',
          'name',
          'prefix',
          'role',
          'created_at',
          'last_used_at',
          'expires_at',
          'revoked_at',
        ])
        .where('org_id', '=', orgId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute(),
  };
}
