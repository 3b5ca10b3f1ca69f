import type { ColumnType } from 'kysely';
import type { AnchorKind } from '../evidence/anchors/anchor-status.js';

/** Written once, on insert. */
type Immutable<T> = ColumnType<T, T, never>;
/** Empty until the anchor's one transition to anchored or failed sets it. */
type SetOnce<T> = ColumnType<T | null, never, T>;

export type AnchorStatusName = 'pending' | 'anchored' | 'failed';

/** Migration 0010: one anchor of a kind per anchored tree head; a trigger allows only status transitions. */
export interface LogAnchorTable {
  id: ColumnType<number, never, never>;
  tree_head_id: Immutable<number>;
  tree_size: Immutable<number>;
  tree_head_sha256: Immutable<string>;
  kind: Immutable<AnchorKind>;
  status: ColumnType<AnchorStatusName, AnchorStatusName, AnchorStatusName>;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: ColumnType<Date | null, Date, Date | null>;
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Immutable<Date>;
  updated_at: ColumnType<Date, Date, Date>;
  anchored_at: SetOnce<Date>;
  failed_at: SetOnce<Date>;
  tsa_token: SetOnce<Uint8Array>;
  tsa_gen_time: SetOnce<Date>;
  tsa_serial_hex: SetOnce<string>;
  tsa_name: SetOnce<string | null>;
  solana_cluster: SetOnce<string>;
  solana_signature: SetOnce<string>;
  solana_slot: SetOnce<number | bigint>;
  solana_memo: SetOnce<string>;
  solana_fee_payer: SetOnce<string>;
}

/** Joined onto the main schema with `db.withTables<AnchorTables>()`. */
export type AnchorTables = { log_anchors: LogAnchorTable };
