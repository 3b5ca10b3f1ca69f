import { TimestampRequestError } from './rfc3161/timestamp-errors.js';
import type { TimestampResult } from './rfc3161/tsa-client.js';
import { nextRetryDelayMs, type RetryPolicy } from './retry-policy.js';
import type { SolanaAnchorReceipt } from './solana/anchor-on-solana.js';
import { SolanaAnchorError } from './solana/solana-anchor-errors.js';

export type AnchorKind = 'rfc3161' | 'solana';

interface AnchorAttempts {
  kind: AnchorKind;
  /** Attempts made so far. */
  attempts: number;
}

export interface PendingAnchor extends AnchorAttempts {
  status: 'pending';
  /** Why the last attempt failed, if one did. */
  reason?: string;
  nextAttemptAt: Date;
}

export interface FailedAnchor extends AnchorAttempts {
  status: 'failed';
  reason: string;
  failedAt: Date;
}

export interface AnchoredTimestamp extends AnchorAttempts {
  kind: 'rfc3161';
  status: 'anchored';
  anchoredAt: Date;
  token: Uint8Array;
  genTime: Date;
  serialNumberHex: string;
  tsaName: string | null;
}

export interface AnchoredSolanaMemo extends AnchorAttempts {
  kind: 'solana';
  status: 'anchored';
  anchoredAt: Date;
  signature: string;
  slot: bigint;
  memo: string;
  feePayer: string;
}

export type Anchor = PendingAnchor | FailedAnchor | AnchoredTimestamp | AnchoredSolanaMemo;

export function pendingAnchor(kind: AnchorKind, now: Date): PendingAnchor {
  return { kind, status: 'pending', attempts: 0, nextAttemptAt: now };
}

export function timestampAnchored(
  anchor: PendingAnchor,
  result: TimestampResult,
  now: Date,
): AnchoredTimestamp {
  const { token, genTime, serialNumberHex, tsaName } = result;
  return {
    kind: 'rfc3161',
    status: 'anchored',
    attempts: anchor.attempts + 1,
    anchoredAt: now,
    token,
    genTime,
    serialNumberHex,
    tsaName,
  };
}

export function solanaAnchored(
  anchor: PendingAnchor,
  receipt: SolanaAnchorReceipt,
  now: Date,
): AnchoredSolanaMemo {
  const { signature, slot, memo, feePayer } = receipt;
  return {
    kind: 'solana',
    status: 'anchored',
    attempts: anchor.attempts + 1,
    anchoredAt: now,
    signature,
    slot,
    memo,
    feePayer,
  };
}

/** After a failed attempt: pending again with a later time, or failed for good when retrying cannot help. */
export function anchorAttemptFailed(
  anchor: PendingAnchor,
  error: unknown,
  policy: RetryPolicy,
  now: Date,
): PendingAnchor | FailedAnchor {
  const attempts = anchor.attempts + 1;
  const { reason, retryable } = describeAnchorFailure(error);
  const delay = retryable ? nextRetryDelayMs(policy, attempts) : null;
  if (delay === null) {
    const why = retryable ? `${reason} (gave up after ${attempts} attempts)` : reason;
    return { kind: anchor.kind, status: 'failed', attempts, reason: why, failedAt: now };
  }
  return {
    kind: anchor.kind,
    status: 'pending',
    attempts,
    reason,
    nextAttemptAt: new Date(now.getTime() + delay),
  };
}

// Failures that repeat identically until an operator changes configuration are not retried.
const PERMANENT_REASONS = new Set([
  'rejected',
  'untrusted-token',
  'keypair-missing',
  'keypair-invalid',
  'transaction-failed',
]);

export function describeAnchorFailure(error: unknown): { reason: string; retryable: boolean } {
  if (error instanceof TimestampRequestError || error instanceof SolanaAnchorError) {
    return { reason: `${error.reason}: ${error.message}`, retryable: !PERMANENT_REASONS.has(error.reason) };
  }
  return { reason: error instanceof Error ? error.message : String(error), retryable: true };
}
