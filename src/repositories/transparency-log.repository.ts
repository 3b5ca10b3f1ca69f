import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AuditTables } from '../db/audit-schema.js';
import type { Database } from '../db/schema.js';
import { isUuid } from './is-uuid.js';
import type { StoredReport } from '../evidence/report-binding.js';
import type { LogLeafTable, LogTreeHeadTable, TransparencyLogTables } from '../db/transparency-log-schema.js';

export type LogLeafRecord = Selectable<LogLeafTable>;
export type NewLogLeaf = Insertable<LogLeafTable>;
export type TreeHeadRecord = Selectable<LogTreeHeadTable>;
export type NewTreeHead = Insertable<LogTreeHeadTable>;
export interface LogKeyRecord {
  key_id: string;
  public_key: string;
  created_at: Date;
  retired_at: Date | null;
}

/** What may run while the log lock is held: reads and appends on the lock holder's transaction. */
export interface LockedLog {
  size(): Promise<number>;
  leafHashes(from: number, to: number): Promise<Buffer[]>;
  findLeaf(analysisId: string): Promise<LogLeafRecord | null>;
  insertLeaf(leaf: NewLogLeaf): Promise<LogLeafRecord>;
  latestTreeHead(): Promise<TreeHeadRecord | null>;
  insertTreeHead(head: NewTreeHead): Promise<TreeHeadRecord>;
  /** The audit chain's last entry, to anchor it in the tree head. */
  auditHead(): Promise<{ seq: number; hash: string } | null>;
  /** Database clock, truncated to milliseconds (the precision that is signed). */
  now(): Promise<Date>;
}

export interface TransparencyLogRepository {
  /** Runs `work` in one transaction holding the log lock, so appends from every process form one log. */
  withLogLock<T>(work: (log: LockedLog) => Promise<T>): Promise<T>;
  size(): Promise<number>;
  /** Stored leaf hashes of leaves [from, to), in order. */
  leafHashes(from: number, to: number): Promise<Buffer[]>;
  findLeafByAnalysis(analysisId: string): Promise<LogLeafRecord | null>;
  /** Leaves with leaf_index ≥ fromIndex in stored order, as they are (the monitor checks them). */
  readLeaves(fromIndex: number, limit: number): Promise<LogLeafRecord[]>;
  latestTreeHead(): Promise<TreeHeadRecord | null>;
  /** Tree heads in the order they were written, id > afterId. */
  readTreeHeads(afterId: number, limit: number): Promise<TreeHeadRecord[]>;
  /** Registers the signing key (idempotent) and retires every other active key. */
  activateKey(key: { keyId: string; publicKey: string }): Promise<void>;
  listKeys(): Promise<LogKeyRecord[]>;
  /** Finished analyses without a leaf (a crash between the report and the statement, or older reports). */
  findDoneWithoutLeaf(limit: number): Promise<{ id: string }[]>;
  /** The stored reports of these analyses, as they are (the monitor checks them against their statements). */
  findReports(analysisIds: string[]): Promise<StoredReport[]>;
  /** The stored hashes of these audit entries, by seq (the monitor compares them with the tree heads' record). */
  auditHashes(seqs: number[]): Promise<Map<number, string>>;
}

// Transaction-scoped advisory lock ("tlog" in ASCII), released by commit or rollback; distinct from the audit key.
const logLockKey = 0x746c6f67n;

type LogDatabase = Database & TransparencyLogTables & AuditTables;

export function createTransparencyLogRepository(deps: { db: Kysely<Database> }): TransparencyLogRepository {
  const db = deps.db.withTables<TransparencyLogTables & AuditTables>();

  const sizeOn = async (executor: Kysely<LogDatabase>) => {
    const last = await executor
      .selectFrom('log_leaves')
      .select('leaf_index')
      .orderBy('leaf_index', 'desc')
      .limit(1)
      .executeTakeFirst();
    return last ? Number(last.leaf_index) + 1 : 0;
  };
  const leafHashesOn = async (executor: Kysely<LogDatabase>, from: number, to: number) => {
    if (to <= from) return [];
    const rows = await executor
      .selectFrom('log_leaves')
      .select(['leaf_index', 'leaf_hash'])
      .where('leaf_index', '>=', from)
      .where('leaf_index', '<', to)
      .orderBy('leaf_index')
      .execute();
    if (rows.length !== to - from || rows.some((row, i) => Number(row.leaf_index) !== from + i))
      throw new Error(`the log is missing leaves between ${from} and ${to}: run \`guardian log check\``);
    return rows.map((row) => Buffer.from(row.leaf_hash, 'hex'));
  };
  const findLeafOn = async (executor: Kysely<LogDatabase>, analysisId: string) =>
    (await executor
      .selectFrom('log_leaves')
      .selectAll()
      .where('analysis_id', '=', analysisId)
      .executeTakeFirst()) ?? null;
  const latestHeadOn = async (executor: Kysely<LogDatabase>) =>
    (await executor
      .selectFrom('log_tree_heads')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst()) ?? null;

  function locked(trx: Transaction<LogDatabase>): LockedLog {
    return {
      size: () => sizeOn(trx),
      leafHashes: (from, to) => leafHashesOn(trx, from, to),
      findLeaf: (analysisId) => findLeafOn(trx, analysisId),
      insertLeaf: (leaf) =>
        trx.insertInto('log_leaves').values(leaf).returningAll().executeTakeFirstOrThrow(),
      latestTreeHead: () => latestHeadOn(trx),
      insertTreeHead: (head) =>
        trx.insertInto('log_tree_heads').values(head).returningAll().executeTakeFirstOrThrow(),
      async auditHead() {
        const last = await trx
          .selectFrom('audit_events')
          .select(['seq', 'hash'])
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst();
        return last ? { seq: Number(last.seq), hash: last.hash } : null;
      },
      async now() {
        const { rows } = await sql<{
          now: Date;
        }>`select date_trunc('milliseconds', clock_timestamp()) as now`.execute(trx);
        if (!rows[0]) throw new Error('the clock query returned no row');
        return rows[0].now;
      },
    };
  }

  return {
    withLogLock: (work) =>
      db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${sql.lit(logLockKey)})`.execute(trx);
        return work(locked(trx));
      }),
    size: () => sizeOn(db),
    leafHashes: (from, to) => leafHashesOn(db, from, to),
    findLeafByAnalysis: (analysisId) => findLeafOn(db, analysisId),
    readLeaves: (fromIndex, limit) =>
      db
        .selectFrom('log_leaves')
        .selectAll()
        .where('leaf_index', '>=', fromIndex)
        .orderBy('leaf_index')
        .limit(limit)
        .execute(),
    latestTreeHead: () => latestHeadOn(db),
    readTreeHeads: (afterId, limit) =>
      db
        .selectFrom('log_tree_heads')
        .selectAll()
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute(),
    async activateKey(key) {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('log_keys')
          .values({ key_id: key.keyId, public_key: key.publicKey })
          .onConflict((oc) => oc.column('key_id').doNothing())
          .execute();
        await trx
          .updateTable('log_keys')
          .set({ retired_at: sql<Date>`now()` })
          .where('key_id', '<>', key.keyId)
          .where('retired_at', 'is', null)
          .execute();
      });
    },
    listKeys: () => db.selectFrom('log_keys').selectAll().orderBy('created_at').orderBy('key_id').execute(),
    async findReports(analysisIds) {
      // A leaf row's id that is not a uuid (edited) must not break the query: it simply has no report.
      const ids = analysisIds.filter(isUuid);
      if (ids.length === 0) return [];
      return db
        .selectFrom('analyses')
        .select(['id', 'org_id', 'status', 'band', 'report'])
        .where('id', 'in', ids)
        .execute();
    },
    async auditHashes(seqs) {
      if (seqs.length === 0) return new Map();
      const rows = await db
        .selectFrom('audit_events')
        .select(['seq', 'hash'])
        .where('seq', 'in', seqs)
        .execute();
      return new Map(rows.map((row) => [Number(row.seq), row.hash]));
    },
    findDoneWithoutLeaf: (limit) =>
      db
        .selectFrom('analyses')
        .leftJoin('log_leaves', 'log_leaves.analysis_id', 'analyses.id')
        .select('analyses.id')
        .where('analyses.status', '=', 'done')
        .where('log_leaves.leaf_index', 'is', null)
        .orderBy('analyses.finished_at')
        .limit(limit)
        .execute(),
  };
}
