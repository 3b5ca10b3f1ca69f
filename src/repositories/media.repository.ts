import { sql, type Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, Media, NewMedia } from '../db/schema.js';
import { isUuid } from './is-uuid.js';

export interface MediaRepository {
  insert(executor: Executor, media: NewMedia): Promise<Media>;
  /** Any status: callers check `status` (a worker must tell "deleted" from "never existed"). */
  findById(orgId: string, id: string): Promise<Media | null>;
  /** The stored media, its row locked until the transaction ends (serialises re-runs); null when not stored. */
  lockStored(executor: Executor, orgId: string, id: string): Promise<Media | null>;
  /**
   * Marks stored media deleted and clears what it kept of the file (name, probe); the row stays for the
   * audit trail. Returns the row it marked, or null when it is not stored in this organisation.
   */
  markDeleted(executor: Executor, orgId: string, id: string): Promise<Media | null>;
}

export function createMediaRepository(deps: { db: Kysely<Database> }): MediaRepository {
  const { db } = deps;
  return {
    insert: (executor, media) =>
      executor.insertInto('media').values(media).returningAll().executeTakeFirstOrThrow(),

    async findById(orgId, id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('media')
        .selectAll()
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .executeTakeFirst();
      return found ?? null;
    },

    async lockStored(executor, orgId, id) {
      if (!isUuid(id)) return null;
      const found = await executor
        .selectFrom('media')
        .selectAll()
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .where('status', '=', 'stored')
        .forUpdate()
        .executeTakeFirst();
      return found ?? null;
    },

    async markDeleted(executor, orgId, id) {
      if (!isUuid(id)) return null;
      const marked = await executor
        .updateTable('media')
        .set({ status: 'deleted', deleted_at: sql<Date>`now()`, original_filename: null, probe: '{}' })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .where('status', '=', 'stored')
        .returningAll()
        .executeTakeFirst();
      return marked ?? null;
    },
  };
}
