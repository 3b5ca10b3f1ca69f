import type { ColumnType } from 'kysely';

/** A column that can be written once, on insert, and never updated (the table is append-only). */
type Immutable<T> = ColumnType<T, T, never>;

export type AuditActorType = 'user' | 'api-key' | 'cli' | 'anonymous' | 'system';
export type AuditDetailValue = string | number | boolean | null;

/** Migration 0004. One global hash chain in `seq` order; see docs/audit-log.md for the format. */
export interface AuditEventTable {
  /** 1, 2, 3, … without gaps: assigned under the chain lock, so a gap means a removed entry. */
  seq: Immutable<number>;
  id: Immutable<string>;
  /** Database clock, truncated to milliseconds (the precision that is hashed). */
  at: Immutable<Date>;
  org_id: Immutable<string | null>;
  actor_type: Immutable<AuditActorType>;
  actor_id: Immutable<string | null>;
  action: Immutable<string>;
  outcome: Immutable<'success' | 'failure'>;
  target_type: Immutable<string | null>;
  target_id: Immutable<string | null>;
  ip: Immutable<string | null>;
  user_agent: Immutable<string | null>;
  details: ColumnType<Record<string, AuditDetailValue>, string, never>;
  /** SHA-256 (hex) of the previous entry; 64 zeros for the first. */
  prev_hash: Immutable<string>;
  /** SHA-256 (hex) of this entry's canonical form (src/services/audit-chain.ts). */
  hash: Immutable<string>;
}

/** Joined onto the main schema with `db.withTables<AuditTables>()` (a type alias: Kysely needs an index signature). */
export type AuditTables = {
  audit_events: AuditEventTable;
};
