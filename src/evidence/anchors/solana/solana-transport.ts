import type { Blockhash, Transaction } from '@solana/kit';

export interface RecentBlockhash {
  blockhash: Blockhash;
  lastValidBlockHeight: bigint;
}

/** Where a signed memo transaction goes: a cluster through RPC, or an in-process VM in tests. */
export interface SolanaTransport {
  latestBlockhash(): Promise<RecentBlockhash>;
  /** Sends and waits until the transaction is confirmed; throws SolanaAnchorError otherwise. */
  sendAndConfirm(transaction: Transaction, feePayer: string): Promise<{ slot: bigint }>;
}
