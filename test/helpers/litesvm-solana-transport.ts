import { generateKeyPairSync } from 'node:crypto';
import { getBase64EncodedWireTransaction, getSignatureFromTransaction, type Transaction } from '@solana/kit';
import { FailedTransactionMetadata, type LiteSVM } from 'litesvm';
import type { FetchedMemoTransaction } from '../../src/evidence/anchors/solana/memo-check.js';
import { transactionFailure } from '../../src/evidence/anchors/solana/solana-anchor-errors.js';
import type { SendContext, SolanaTransport } from '../../src/evidence/anchors/solana/solana-transport.js';

// litesvm reports these TransactionError variants as numbers (its TransactionErrorFieldless enum).
const FIELDLESS_ERROR_NAMES: Record<number, string> = { 2: 'AccountNotFound', 4: 'InsufficientFundsForFee' };

export interface LiteSvmTransport extends SolanaTransport {
  /** The sent transaction in the shape `getTransaction(…, { encoding: 'base64' })` returns. */
  fetchTransaction(signature: string): FetchedMemoTransaction | null;
}

/** Sends into an in-process Solana VM; what it lands is kept so a test can fetch it back like from RPC. */
export function createLiteSvmTransport(svm: LiteSVM): LiteSvmTransport {
  const landed = new Map<string, FetchedMemoTransaction>();
  return {
    latestBlockhash: () =>
      Promise.resolve({ blockhash: svm.latestBlockhash(), lastValidBlockHeight: svm.getClock().slot + 150n }),
    sendAndConfirm: (transaction: Transaction, { feePayer }: SendContext) => {
      const result = svm.sendTransaction(transaction);
      if (result instanceof FailedTransactionMetadata) {
        const error = result.err();
        const name =
          typeof error === 'number' ? (FIELDLESS_ERROR_NAMES[error] ?? `error ${error}`) : result.toString();
        return Promise.reject(transactionFailure(name, feePayer));
      }
      const slot = svm.getClock().slot;
      landed.set(getSignatureFromTransaction(transaction), {
        slot,
        transaction: [getBase64EncodedWireTransaction(transaction), 'base64'],
        meta: { err: null },
      });
      return Promise.resolve({ slot });
    },
    fetchTransaction: (signature) => landed.get(signature) ?? null,
  };
}

/** A fresh Ed25519 keypair as `solana-keygen` writes it: JSON array of secret key then public key. */
export function solanaKeypairFileText(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const secret = Buffer.from(jwk.d ?? '', 'base64url');
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url');
  return JSON.stringify([...secret, ...publicKey]);
}
