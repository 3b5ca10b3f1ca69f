import { sql, type Kysely } from 'kysely';
import type { AnchorTables } from '../db/anchor-schema.js';
import type { Database } from '../db/schema.js';

/** One anchor kind's standing: how many of its anchors are in each status, and its oldest and newest moments. */
export interface AnchorKindStatus {
  kind: string;
  pending: number;
  failed: number;
  anchored: number;
  /** Creation time of the oldest anchor still pending; null when none is. */
  oldestPendingAt: Date | null;
  /** When the newest successful anchor was made; null before the first. */
  lastAnchoredAt: Date | null;
}

/** Aggregates over log_anchors for metrics; one grouped query on a table of a few rows a day. */
export function createAnchorStatusRepository(deps: { db: Kysely<Database> }) {
  return {
    async byKind(): Promise<AnchorKindStatus[]> {
      const rows = await deps.db
        .withTables<AnchorTables>()
        .selectFrom('log_anchors')
        .select([
          'kind',
          sql<string>`count(*) filter (where status = 'pending')`.as('pending'),
          sql<string>`count(*) filter (where status = 'failed')`.as('failed'),
          sql<string>`count(*) filter (where status = 'anchored')`.as('anchored'),
          sql<Date | null>`min(created_at) filter (where status = 'pending')`.as('oldest_pending_at'),
          sql<Date | null>`max(anchored_at)`.as('last_anchored_at'),
        ])
        .groupBy('kind')
        .execute();
      return rows.map((row) => ({
        kind: row.kind,
        pending: Number(row.pending),
        failed: Number(row.failed),
        anchored: Number(row.anchored),
        oldestPendingAt: row.oldest_pending_at && new Date(row.oldest_pending_at),
        lastAnchoredAt: row.last_anchored_at && new Date(row.last_anchored_at),
      }));
    },
  };
}

export type AnchorStatusRepository = ReturnType<typeof createAnchorStatusRepository>;
