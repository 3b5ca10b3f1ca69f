import {
  appendTransactionMessageInstruction,
  createTransactionMessage,
  getSignatureFromTransaction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type KeyPairSigner,
} from '@solana/kit';
import { createMemoInstruction, treeHeadMemoText } from './memo-instruction.js';
import type { SolanaTransport } from './solana-transport.js';

export interface SolanaAnchorOptions {
  transport: SolanaTransport;
  /** Pays the fee and signs the memo; load it with loadKeypairSignerFromFile. */
  signer: KeyPairSigner;
  /** SHA-256 of a signed tree head. */
  digest: Uint8Array;
}

export interface SolanaAnchorReceipt {
  signature: string;
  slot: bigint;
  memo: string;
  feePayer: string;
}

/** Writes `guardian-tree-head:<hex digest>` in a Memo transaction and waits for its confirmation. */
export async function anchorOnSolana(options: SolanaAnchorOptions): Promise<SolanaAnchorReceipt> {
  const memo = treeHeadMemoText(options.digest);
  const { signer, transport } = options;
  const lifetime = await transport.latestBlockhash();
  const transaction = await pipe(
    createTransactionMessage({ version: 0 }),
    (message) => setTransactionMessageFeePayerSigner(signer, message),
    (message) => setTransactionMessageLifetimeUsingBlockhash(lifetime, message),
    (message) => appendTransactionMessageInstruction(createMemoInstruction(signer, memo), message),
    (message) => signTransactionMessageWithSigners(message),
  );
  const { slot } = await transport.sendAndConfirm(transaction, {
    feePayer: signer.address,
    lastValidBlockHeight: lifetime.lastValidBlockHeight,
  });
  return { signature: getSignatureFromTransaction(transaction), slot, memo, feePayer: signer.address };
}
