export type SolanaAnchorFailureReason =
  'keypair-missing' | 'keypair-invalid' | 'insufficient-funds' | 'transaction-failed' | 'expired' | 'rpc';

/** A memo anchor that did not land; `reason` is stable, the message says what happened. */
export class SolanaAnchorError extends Error {
  constructor(
    readonly reason: SolanaAnchorFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SolanaAnchorError';
  }
}

// Transaction errors (Solana's TransactionError names) that mean the fee payer cannot pay.
const UNFUNDED_PAYER_ERRORS = new Set([
  'AccountNotFound',
  'InsufficientFundsForFee',
  'InsufficientFundsForRent',
]);

/** Classifies a failed transaction by its Solana TransactionError name. */
export function transactionFailure(errorName: string, feePayer: string): SolanaAnchorError {
  if (UNFUNDED_PAYER_ERRORS.has(errorName)) {
    return new SolanaAnchorError(
      'insufficient-funds',
      `fee payer ${feePayer} cannot pay for the memo transaction (${errorName}): fund it with SOL`,
    );
  }
  return new SolanaAnchorError('transaction-failed', `memo transaction failed: ${errorName}`);
}
