import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AuditEventTable, AuditTables } from '../db/audit-schema.js';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import { isUuid } from './is-uuid.js';

export type AuditEventRecord = Selectable<AuditEventTable>;
export type NewAuditEventRecord = Insertable<AuditEventTable>;

/** An entry as the verifier reads it. */
export type ChainRecord = AuditEventRecord & {
  /** True when `at` carries microseconds: appends store whole milliseconds, so only an edit adds them. */
  at_has_sub_ms: boolean;
};

/** The last entry, if any, and the database clock, read under the chain lock. */
export interface ChainTip {
  last: { seq: number; hash: string } | null;
  /** Truncated to milliseconds, the precision that is hashed. */
  now: Date;
}

export interface AuditRepository {
  /**
   * Appends one entry: takes the chain lock, reads the tip, inserts what `build` returns, all in one
   * transaction (the caller's, when `executor` is one), so appends from any number of processes form one
   * chain.
   */
  append(build: (tip: ChainTip) => NewAuditEventRecord, executor?: Executor): Promise<AuditEventRecord>;
  /** An organisation's entries, newest first, strictly before `beforeSeq` when given. */
  listByOrg(orgId: string, page: { beforeSeq?: number; limit: number }): Promise<AuditEventRecord[]>;
  /** The seq of an organisation's entry, or null when the id is unknown or another organisation's. */
  findSeq(orgId: string, id: string): Promise<number | null>;
  /** Entries in chain order with seq > afterSeq. */
  readChain(afterSeq: number, limit: number): Promise<ChainRecord[]>;
}

// Transaction-scoped advisory lock: released by commit or rollback, so a crash can never leave it held.
// The key is arbitrary but fixed ("audit" in ASCII); nothing else in the schema uses advisory locks.
const chainLockKey = 0x6175646974n;

export function createAuditRepository(deps: { db: Kysely<Database> }): AuditRepository {
  const db = deps.db.withTables<AuditTables>();

  async function appendWithin(
    trx: Transaction<Database & AuditTables>,
    build: (tip: ChainTip) => NewAuditEventRecord,
  ): Promise<AuditEventRecord> {
    await sql`select pg_advisory_xact_lock(${sql.lit(chainLockKey)})`.execute(trx);
    const { rows } = await sql<{ seq: number | null; hash: string | null; now: Date }>`
      select last.seq, last.hash, date_trunc('milliseconds', clock_timestamp()) as now
      from (select 1) as one
      left join (select seq, hash from audit_events order by seq desc limit 1) as last on true
    `.execute(trx);
    const row = rows[0];
    if (!row) throw new Error('the chain tip query returned no row');
    const last = row.seq === null || row.hash === null ? null : { seq: Number(row.seq), hash: row.hash };
    return trx
      .insertInto('audit_events')
      .values(build({ last, now: row.now }))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  return {
    async append(build, executor) {
      if (executor?.isTransaction) {
        return appendWithin((executor as Transaction<Database>).withTables<AuditTables>(), build);
      }
      return db.transaction().execute((trx) => appendWithin(trx, build));
    },

    listByOrg(orgId, page) {
      let query = db
        .selectFrom('audit_events')
        .selectAll()
        .where('org_id', '=', orgId)
        .orderBy('seq', 'desc')
        .limit(page.limit);
      if (page.beforeSeq !== undefined) query = query.where('seq', '<', page.beforeSeq);
      return query.execute();
    },

    async findSeq(orgId, id) {
      if (!isUuid(id)) return null;
      const found = await db
        .selectFrom('audit_events')
        .select('seq')
        .where('id', '=', id)
        .where('org_id', '=', orgId)
        .executeTakeFirst();
      return found ? Number(found.seq) : null;
    },

    readChain: (afterSeq, limit) =>
      db
        .selectFrom('audit_events')
        .selectAll()
        .select(sql<boolean>`at <> date_trunc('milliseconds', at)`.as('at_has_sub_ms'))
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute(),
  };
}
