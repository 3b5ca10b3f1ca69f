import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ThrottleEntry, ThrottleStep, ThrottleStore } from './throttle-store.js';

const purgeIntervalMs = 60_000;
// Losing an insert race to a concurrent first write of the same key means: read again and redo the step.
const maxInsertRaces = 5;

/** Deletes throttle rows past their expiry (the store on use, housekeeping on its schedule). */
export async function purgeExpiredThrottleRows(db: Kysely<Database>, at: Date): Promise<number> {
  const result = await db.deleteFrom('login_throttle').where('expires_at', '<=', at).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Throttle state in the `login_throttle` table; a row lock serialises updates of one key across processes. */
export function createDatabaseThrottleStore(deps: { db: Kysely<Database> }): ThrottleStore {
  const { db } = deps;
  let lastPurge = Number.NEGATIVE_INFINITY;

  async function purgeExpired(now: number): Promise<void> {
    if (now - lastPurge < purgeIntervalMs) return;
    lastPurge = now;
    await purgeExpiredThrottleRows(db, new Date(now));
  }

  return {
    async update<S, R>(
      key: string,
      now: number,
      step: (current: S | null) => ThrottleStep<S, R>,
    ): Promise<R> {
      await purgeExpired(now);
      for (let race = 0; race < maxInsertRaces; race += 1) {
        const outcome = await db.transaction().execute(async (trx) => {
          const row = await trx
            .selectFrom('login_throttle')
            .select(['state', 'expires_at'])
            .where('key', '=', key)
            .forUpdate()
            .executeTakeFirst();
          const current = row && row.expires_at.getTime() > now ? (JSON.parse(row.state) as S) : null;
          const { next, result } = step(current);
          if (next === undefined) return { done: true, result };
          if (next === null) {
            if (row) await trx.deleteFrom('login_throttle').where('key', '=', key).execute();
            return { done: true, result };
          }
          const values = toRow(next);
          if (row) {
            await trx.updateTable('login_throttle').set(values).where('key', '=', key).execute();
            return { done: true, result };
          }
          const inserted = await trx
            .insertInto('login_throttle')
            .values({ key, ...values })
            .onConflict((oc) => oc.column('key').doNothing())
            .executeTakeFirst();
          return { done: (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n, result };
        });
        if (outcome.done) return outcome.result;
      }
      throw new Error('throttle store: too many concurrent first writes of one key');
    },
  };
}

function toRow(entry: ThrottleEntry<unknown>) {
  return { state: JSON.stringify(entry.state), expires_at: new Date(entry.expiresAt) };
}
