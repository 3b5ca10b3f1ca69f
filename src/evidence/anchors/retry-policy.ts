export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Each wait is this many times the previous one. */
  factor: number;
}

/** 12 attempts, waiting 1 min, 2, 4 … capped at 1 h: about 6 hours from first to last. */
export const DEFAULT_ANCHOR_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 12,
  baseDelayMs: 60_000,
  maxDelayMs: 3_600_000,
  factor: 2,
};

/** Wait before the next attempt after `attemptsMade` failures, or null when no attempt is left. */
export function nextRetryDelayMs(policy: RetryPolicy, attemptsMade: number): number | null {
  assertValidPolicy(policy);
  if (attemptsMade >= policy.maxAttempts) return null;
  const exponent = Math.max(0, attemptsMade - 1);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** exponent);
}

function assertValidPolicy(policy: RetryPolicy): void {
  const valid =
    Number.isInteger(policy.maxAttempts) &&
    policy.maxAttempts >= 1 &&
    policy.baseDelayMs >= 0 &&
    policy.maxDelayMs >= policy.baseDelayMs &&
    policy.factor >= 1;
  if (!valid) throw new RangeError(`invalid retry policy ${JSON.stringify(policy)}`);
}
