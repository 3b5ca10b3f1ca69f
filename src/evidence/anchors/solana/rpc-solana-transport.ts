import {
  createSolanaRpc,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  isSolanaError,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE,
  type Signature,
  type Transaction,
} from '@solana/kit';
import type { FetchedMemoTransaction } from './memo-check.js';
import { SolanaAnchorError, transactionFailure } from './solana-anchor-errors.js';
import type { RecentBlockhash, SendContext, SolanaTransport } from './solana-transport.js';

export interface RpcSolanaTransportOptions {
  rpcUrl: string;
  pollIntervalMs?: number;
  /** Gives up waiting for confirmation after this long even if the blockhash is still valid. */
  confirmTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RpcSolanaTransport extends SolanaTransport {
  fetchTransaction(signature: string): Promise<FetchedMemoTransaction | null>;
}

const COMMITMENT = 'confirmed';

/**
 * Sends through a cluster's JSON-RPC over HTTP and confirms by polling signature statuses, so no websocket
 * endpoint is needed; gives up once the blockhash has expired (the transaction can then never land).
 */
export function createRpcSolanaTransport(options: RpcSolanaTransportOptions): RpcSolanaTransport {
  const rpc = createSolanaRpc(options.rpcUrl);
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 90_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function latestBlockhash(): Promise<RecentBlockhash> {
    const { value } = await rpcCall(() => rpc.getLatestBlockhash({ commitment: COMMITMENT }).send());
    return value;
  }

  async function sendAndConfirm(transaction: Transaction, context: SendContext): Promise<{ slot: bigint }> {
    const { feePayer, lastValidBlockHeight } = context;
    const signature = getSignatureFromTransaction(transaction);
    const wire = getBase64EncodedWireTransaction(transaction);
    try {
      await rpc.sendTransaction(wire, { encoding: 'base64', preflightCommitment: COMMITMENT }).send();
    } catch (error) {
      throw preflightFailure(error, feePayer);
    }
    const deadline = Date.now() + confirmTimeoutMs;
    for (;;) {
      const { value } = await rpcCall(() => rpc.getSignatureStatuses([signature]).send());
      const status = value[0];
      if (status?.err) throw transactionFailure(errorName(status.err), feePayer);
      if (
        status &&
        (status.confirmationStatus === 'confirmed' || status.confirmationStatus === 'finalized')
      ) {
        return { slot: status.slot };
      }
      const height = await rpcCall(() => rpc.getBlockHeight({ commitment: COMMITMENT }).send());
      if (height > lastValidBlockHeight || Date.now() > deadline) {
        throw new SolanaAnchorError(
          'expired',
          `memo transaction ${signature} was not confirmed before expiry`,
        );
      }
      await sleep(pollIntervalMs);
    }
  }

  async function fetchTransaction(signature: string): Promise<FetchedMemoTransaction | null> {
    const fetched = await rpcCall(() =>
      rpc
        .getTransaction(signature as Signature, {
          encoding: 'base64',
          maxSupportedTransactionVersion: 0,
          commitment: COMMITMENT,
        })
        .send(),
    );
    return fetched && { slot: fetched.slot, transaction: fetched.transaction, meta: fetched.meta };
  }

  return { latestBlockhash, sendAndConfirm, fetchTransaction };
}

async function rpcCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new SolanaAnchorError('rpc', `Solana RPC failed: ${describe(error)}`, { cause: error });
  }
}

function preflightFailure(error: unknown, feePayer: string): SolanaAnchorError {
  if (isSolanaError(error, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) {
    const cause = error.cause;
    if (isSolanaError(cause, SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND)) {
      return transactionFailure('AccountNotFound', feePayer);
    }
    if (isSolanaError(cause, SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE)) {
      return transactionFailure('InsufficientFundsForFee', feePayer);
    }
    return new SolanaAnchorError(
      'transaction-failed',
      `memo transaction refused in preflight: ${describe(cause)}`,
    );
  }
  return new SolanaAnchorError('rpc', `Solana RPC failed: ${describe(error)}`, { cause: error });
}

// A TransactionError from RPC is a bare name ("AccountNotFound") or an object keyed by its name.
function errorName(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') return Object.keys(error)[0] ?? 'unknown error';
  return String(error);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
