import type { Blockhash, Transaction } from '@solana/kit';

export interface RecentBlockhash {
  blockhash: Blockhash;
  lastValidBlockHeight: bigint;
}

export interface SendContext {
  feePayer: string;
  /** The transaction can no longer land once the chain is past this height. */
  lastValidBlockHeight: bigint;
}

/** Where a signed memo transaction goes: a cluster through RPC, or an in-process VM in tests. */
export interface SolanaTransport {
  latestBlockhash(): Promise<RecentBlockhash>;
  /** Sends and waits until the transaction is confirmed; throws SolanaAnchorError otherwise. */
  sendAndConfirm(transaction: Transaction, context: SendContext): Promise<{ slot: bigint }>;
}
