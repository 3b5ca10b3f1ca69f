import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** The sealed TOTP secrets as key rotation sees them: ids in pages, one sealed value, compare-and-set. */
export interface SealedTotpRepository {
  /** User ids holding a secret, in id order, after `afterUserId`. */
  listUserIds(afterUserId: string | null, limit: number): Promise<string[]>;
  findSealed(userId: string): Promise<Buffer | null>;
  /** Replaces the sealed value only if it is still `expected` (a re-enrolment meanwhile wins); true if replaced. */
  replaceSealed(userId: string, expected: Buffer, next: Buffer): Promise<boolean>;
}

export function createSealedTotpRepository(deps: { db: Kysely<Database> }): SealedTotpRepository {
  const { db } = deps;
  return {
    async listUserIds(afterUserId, limit) {
      let query = db.selectFrom('user_totp').select('user_id').orderBy('user_id').limit(limit);
      if (afterUserId !== null) query = query.where('user_id', '>', afterUserId);
      return (await query.execute()).map((row) => row.user_id);
    },

    async findSealed(userId) {
      const found = await db
        .selectFrom('user_totp')
        .select('secret_sealed')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      // PGlite returns bytea as a Uint8Array, pg as a Buffer.
      return found ? Buffer.from(found.secret_sealed) : null;
    },

    async replaceSealed(userId, expected, next) {
      const result = await db
        .updateTable('user_totp')
        .set({ secret_sealed: next })
        .where('user_id', '=', userId)
        .where('secret_sealed', '=', expected)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}
