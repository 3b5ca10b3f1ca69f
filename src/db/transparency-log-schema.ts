import type { ColumnType } from 'kysely';

/** A column that can be written once, on insert, and never updated (the table is append-only). */
type Immutable<T> = ColumnType<T, T, never>;

/** Migration 0009: the log's keys; retired keys stay for verifying what they signed. */
export interface LogKeyTable {
  key_id: Immutable<string>;
  /** The 32 raw bytes of the Ed25519 public key, base64. */
  public_key: Immutable<string>;
  created_at: ColumnType<Date, never, never>;
  retired_at: ColumnType<Date | null, never, Date>;
}

/** One leaf per finished analysis, in log order. */
export interface LogLeafTable {
  leaf_index: Immutable<number>;
  analysis_id: Immutable<string>;
  org_id: Immutable<string>;
  /** The statement's RFC 8785 text: exactly the signed bytes and the leaf. */
  statement: Immutable<string>;
  signature: Immutable<string>;
  key_id: Immutable<string>;
  /** Hex RFC 9162 leaf hash of `statement`. */
  leaf_hash: Immutable<string>;
  created_at: ColumnType<Date, never, never>;
}

export interface LogTreeHeadTable {
  id: ColumnType<number, never, never>;
  tree_size: Immutable<number>;
  root_hash: Immutable<string>;
  /** Truncated to milliseconds: the precision that is signed. */
  signed_at: Immutable<Date>;
  audit_seq: Immutable<number | null>;
  audit_hash: Immutable<string | null>;
  key_id: Immutable<string>;
  signature: Immutable<string>;
}

/** Joined onto the main schema with `db.withTables<TransparencyLogTables>()`. */
export type TransparencyLogTables = {
  log_keys: LogKeyTable;
  log_leaves: LogLeafTable;
  log_tree_heads: LogTreeHeadTable;
};
