import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, UserTotp } from '../db/schema.js';

export interface TotpRepository {
  find(userId: string): Promise<UserTotp | null>;
  /** Stores a new unconfirmed secret, replacing an unconfirmed one; false when a confirmed one exists. */
  putUnconfirmed(userId: string, secretSealed: Buffer): Promise<boolean>;
  /**
   * Records `step` as used on a confirmed secret unless it is not after the last used one (a replay, or a
   * concurrent request with the same code); true when this call consumed it.
   */
  consumeStep(userId: string, step: number): Promise<boolean>;
  /** Consumes `step` on an unconfirmed secret, confirms it and stores the first recovery codes, atomically. */
  confirm(
    userId: string,
    input: { step: number; at: Date; recoveryCodeHashes: readonly string[] },
  ): Promise<boolean>;
  /** Removes the secret and every recovery code; false when there was no secret. */
  remove(userId: string): Promise<boolean>;
  /** Replaces every recovery code of the user with these hashes. */
  replaceRecoveryCodes(userId: string, codeHashes: readonly string[], at: Date): Promise<void>;
  /** Marks the code used; true when this call did (unknown, another user's, or used codes: false). */
  useRecoveryCode(userId: string, codeHash: string, at: Date): Promise<boolean>;
  countUnusedRecoveryCodes(userId: string): Promise<number>;
  /** Whether the user has a confirmed secret. */
  isConfirmed(userId: string): Promise<boolean>;
}

export function createTotpRepository(deps: { db: Kysely<Database> }): TotpRepository {
  const { db } = deps;
  return {
    async find(userId) {
      const found = await db
        .selectFrom('user_totp')
        .selectAll()
        .where('user_id', '=', userId)
        .executeTakeFirst();
      // PGlite returns bytea as a Uint8Array, pg as a Buffer.
      return found ? { ...found, secret_sealed: Buffer.from(found.secret_sealed) } : null;
    },

    async putUnconfirmed(userId, secretSealed) {
      const stored = await db
        .insertInto('user_totp')
        .values({ user_id: userId, secret_sealed: secretSealed })
        .onConflict((oc) =>
          oc
            .column('user_id')
            .doUpdateSet({ secret_sealed: secretSealed, last_used_step: null, created_at: new Date() })
            .where('user_totp.confirmed_at', 'is', null),
        )
        .returning('user_id')
        .executeTakeFirst();
      return stored !== undefined;
    },

    async consumeStep(userId, step) {
      const result = await db
        .updateTable('user_totp')
        .set({ last_used_step: step })
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is not', null)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async confirm(userId, { step, at, recoveryCodeHashes }) {
      return db.transaction().execute(async (trx) => {
        const confirmed = await trx
          .updateTable('user_totp')
          .set({ last_used_step: step, confirmed_at: at })
          .where('user_id', '=', userId)
          .where('confirmed_at', 'is', null)
          .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
          .executeTakeFirst();
        if (confirmed.numUpdatedRows === 0n) return false;
        await insertRecoveryCodes(trx, userId, recoveryCodeHashes, at);
        return true;
      });
    },

    async remove(userId) {
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        const removed = await trx.deleteFrom('user_totp').where('user_id', '=', userId).executeTakeFirst();
        return removed.numDeletedRows > 0n;
      });
    },

    async replaceRecoveryCodes(userId, codeHashes, at) {
      await db.transaction().execute((trx) => insertRecoveryCodes(trx, userId, codeHashes, at));
    },

    async useRecoveryCode(userId, codeHash, at) {
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: at })
        .where('user_id', '=', userId)
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async countUnusedRecoveryCodes(userId) {
      const { count } = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(count);
    },

    async isConfirmed(userId) {
      const found = await db
        .selectFrom('user_totp')
        .select('user_id')
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is not', null)
        .executeTakeFirst();
      return found !== undefined;
    },
  };
}

async function insertRecoveryCodes(
  trx: Transaction<Database>,
  userId: string,
  codeHashes: readonly string[],
  at: Date,
): Promise<void> {
  await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await trx
    .insertInto('recovery_codes')
    .values(
      codeHashes.map((codeHash) => ({
        id: randomUUID(),
        user_id: userId,
        code_hash: codeHash,
        created_at: at,
      })),
    )
    .execute();
}
