import type { Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, Media, NewMedia } from '../db/schema.js';
import { isUuid } from './is-uuid.js';

export interface MediaRepository {
  insert(executor: Executor, media: NewMedia): Promise<Media>;
  /** Any status: callers check `status` (a worker must tell "deleted" from "never existed"). */
  findById(orgId: string, id: string): Promise<Media | null>;
  /** Returns the row it marked (the caller then deletes the blob), or null when not stored in this org. */
  markDeleted(orgId: string, id: string): Promise<Media | null>;
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

    async markDeleted(orgId, id) {
      if (!isUuid(id)) return null;
      const marked = await db
        .updateTable('media')
        .set({ status: 'deleted' })
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .where('status', '=', 'stored')
        .returningAll()
        .executeTakeFirst();
      return marked ?? null;
    },
  };
}
