import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Executor } from '../db/executor.js';
import type { Database, OneTimeToken, OneTimeTokenPurpose, Role } from '../db/schema.js';

export interface NewOneTimeToken {
  purpose: OneTimeTokenPurpose;
  tokenHash: string;
  orgId: string;
  userId: string | null;
  email: string;
  role: Role | null;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface OneTimeTokenRepository {
  create(input: NewOneTimeToken, executor?: Executor): Promise<OneTimeToken>;
  findByHash(purpose: OneTimeTokenPurpose, tokenHash: string): Promise<OneTimeToken | null>;
  /** Marks the token used if it is neither used nor expired at `at`; true when this call did. */
  consume(id: string, at: Date, executor?: Executor): Promise<boolean>;
  /** Marks every outstanding token of this purpose for the user, or for the organisation + email, as used. */
  retireOutstanding(
    target:
      { purpose: 'password_reset'; userId: string } | { purpose: 'invite'; orgId: string; email: string },
    at: Date,
    executor?: Executor,
  ): Promise<number>;
  /**
   * Creates a password-reset token unless the user got one after `notBefore`; null when refused. The user's
   * row is locked meanwhile, so concurrent requests cannot both pass the check.
   */
  createResetUnlessRecent(
    input: NewOneTimeToken & { purpose: 'password_reset'; userId: string },
    notBefore: Date,
  ): Promise<OneTimeToken | null>;
}

export function createOneTimeTokenRepository(deps: { db: Kysely<Database> }): OneTimeTokenRepository {
  const { db } = deps;
  return {
    create: (input, executor = db) => insertToken(executor, input),

    async findByHash(purpose, tokenHash) {
      const found = await db
        .selectFrom('one_time_tokens')
        .selectAll()
        .where('purpose', '=', purpose)
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
      return found ?? null;
    },

    async consume(id, at, executor = db) {
      const result = await executor
        .updateTable('one_time_tokens')
        .set({ used_at: at })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async retireOutstanding(target, at, executor = db) {
      let query = executor
        .updateTable('one_time_tokens')
        .set({ used_at: at })
        .where('purpose', '=', target.purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at);
      query =
        target.purpose === 'password_reset'
          ? query.where('user_id', '=', target.userId)
          : query.where('org_id', '=', target.orgId).where('email', '=', target.email);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    createResetUnlessRecent(input, notBefore) {
      return db.transaction().execute(async (trx) => {
        await trx.selectFrom('users').select('id').where('id', '=', input.userId).forUpdate().execute();
        const recent = await trx
          .selectFrom('one_time_tokens')
          .select('id')
          .where('purpose', '=', 'password_reset')
          .where('user_id', '=', input.userId)
          .where('created_at', '>', notBefore)
          .executeTakeFirst();
        return recent ? null : insertToken(trx, input);
      });
    },
  };
}

function insertToken(executor: Executor, input: NewOneTimeToken): Promise<OneTimeToken> {
  return executor
    .insertInto('one_time_tokens')
    .values({
      id: randomUUID(),
      purpose: input.purpose,
      token_hash: input.tokenHash,
      org_id: input.orgId,
      user_id: input.userId,
      email: input.email,
      role: input.role,
      created_by: input.createdBy,
      created_at: input.createdAt,
      expires_at: input.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
