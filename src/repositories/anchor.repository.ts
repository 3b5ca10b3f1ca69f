import type { Kysely, Selectable, Updateable } from 'kysely';
import type { AnchorTables, AnchorStatusName, LogAnchorTable } from '../db/anchor-schema.js';
import type { Executor } from '../db/executor.js';
import type { Database } from '../db/schema.js';
import type { TransparencyLogTables } from '../db/transparency-log-schema.js';
import type { AnchorKind } from '../evidence/anchors/anchor-status.js';
import type { TreeHeadRecord } from './transparency-log.repository.js';

export type AnchorRecord = Selectable<LogAnchorTable>;
export type AnchorTransition = Updateable<LogAnchorTable>;

export interface NewPendingAnchor {
  treeHead: TreeHeadRecord;
  treeHeadSha256: string;
  kind: AnchorKind;
  now: Date;
}

/** What the planner needs to decide whether the latest head gets an anchor of a kind now. */
export interface AnchorPlanFacts {
  latestHead: TreeHeadRecord | null;
  /** An anchor of this kind that is still pending (at most one exists). */
  pending: AnchorRecord | null;
  /** The newest anchor of this kind, whatever its status. */
  newest: AnchorRecord | null;
}

export interface AnchorListQuery {
  limit: number;
  /** Anchors with a smaller id (the previous page's last id). */
  beforeId?: number;
  kind?: AnchorKind;
  status?: AnchorStatusName;
}

export interface AnchorRepository {
  planFacts(kind: AnchorKind): Promise<AnchorPlanFacts>;
  /** Null when the head already has one of this kind, or another of this kind is pending. */
  insertPending(anchor: NewPendingAnchor): Promise<AnchorRecord | null>;
  /**
   * Takes the due pending anchor of a kind by moving its next attempt to `leaseUntil` (a pending → pending
   * transition), so no other worker attempts it meanwhile; a worker that dies leaves it due again then.
   */
  claimDue(kind: AnchorKind, now: Date, leaseUntil: Date): Promise<AnchorRecord | null>;
  /** Moves a pending anchor on, only if it is still pending after `attempts` attempts; null otherwise. */
  transition(
    id: number,
    attempts: number,
    change: AnchorTransition,
    executor?: Executor,
  ): Promise<AnchorRecord | null>;
  nextAttemptAt(kind: AnchorKind): Promise<Date | null>;
  list(query: AnchorListQuery): Promise<AnchorRecord[]>;
  forTreeHead(treeHeadId: number): Promise<AnchorRecord[]>;
  /** The newest head covering leaf `leafIndex` that has an anchor in this status. */
  newestCoveringHead(leafIndex: number, status: AnchorStatusName): Promise<TreeHeadRecord | null>;
}

export function createAnchorRepository(deps: { db: Kysely<Database> }): AnchorRepository {
  const db = deps.db.withTables<AnchorTables & TransparencyLogTables>();

  return {
    async planFacts(kind) {
      const [latestHead, pending, newest] = await Promise.all([
        db.selectFrom('log_tree_heads').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst(),
        db
          .selectFrom('log_anchors')
          .selectAll()
          .where('kind', '=', kind)
          .where('status', '=', 'pending')
          .executeTakeFirst(),
        db
          .selectFrom('log_anchors')
          .selectAll()
          .where('kind', '=', kind)
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst(),
      ]);
      return { latestHead: latestHead ?? null, pending: pending ?? null, newest: newest ?? null };
    },

    async insertPending({ treeHead, treeHeadSha256, kind, now }) {
      const row = await db
        .insertInto('log_anchors')
        .values({
          tree_head_id: Number(treeHead.id),
          tree_size: Number(treeHead.tree_size),
          tree_head_sha256: treeHeadSha256,
          kind,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      return row ?? null;
    },

    async claimDue(kind, now, leaseUntil) {
      const row = await db
        .updateTable('log_anchors')
        .set({ next_attempt_at: leaseUntil, updated_at: now })
        .where('id', '=', (eb) =>
          eb
            .selectFrom('log_anchors')
            .select('id')
            .where('kind', '=', kind)
            .where('status', '=', 'pending')
            .where('next_attempt_at', '<=', now)
            .limit(1)
            .forUpdate()
            .skipLocked(),
        )
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .returningAll()
        .executeTakeFirst();
      return row ?? null;
    },

    async transition(id, attempts, change, executor) {
      const on = (executor ?? deps.db).withTables<AnchorTables & TransparencyLogTables>();
      const row = await on
        .updateTable('log_anchors')
        .set(change)
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('attempts', '=', attempts)
        .returningAll()
        .executeTakeFirst();
      return row ?? null;
    },

    async nextAttemptAt(kind) {
      const row = await db
        .selectFrom('log_anchors')
        .select('next_attempt_at')
        .where('kind', '=', kind)
        .where('status', '=', 'pending')
        .orderBy('next_attempt_at')
        .limit(1)
        .executeTakeFirst();
      return row?.next_attempt_at ?? null;
    },

    list({ limit, beforeId, kind, status }) {
      let query = db.selectFrom('log_anchors').selectAll().orderBy('id', 'desc').limit(limit);
      if (beforeId !== undefined) query = query.where('id', '<', beforeId);
      if (kind) query = query.where('kind', '=', kind);
      if (status) query = query.where('status', '=', status);
      return query.execute();
    },

    forTreeHead: (treeHeadId) =>
      db
        .selectFrom('log_anchors')
        .selectAll()
        .where('tree_head_id', '=', treeHeadId)
        .orderBy('kind')
        .execute(),

    async newestCoveringHead(leafIndex, status) {
      const head = await db
        .selectFrom('log_tree_heads')
        .selectAll()
        .where('tree_size', '>', leafIndex)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('log_anchors')
              .select('log_anchors.id')
              .whereRef('log_anchors.tree_head_id', '=', 'log_tree_heads.id')
              .where('log_anchors.status', '=', status),
          ),
        )
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return head ?? null;
    },
  };
}
