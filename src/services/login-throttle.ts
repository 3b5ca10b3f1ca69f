export type ThrottleDecision =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number; reason: 'backoff' | 'locked' | 'hourly-limit' | 'ip-limit' };

/**
 * Guards password (and second-factor) attempts: backoff after 5 failures, a temporary lock after 10,
 * at most 100 failures an hour per account, and a per-IP limit. The account key is the normalised email,
 * whether or not such an account exists, so answers do not reveal which accounts exist.
 */
export interface LoginThrottle {
  check(attempt: { accountKey: string; ip: string }): Promise<ThrottleDecision>;
  recordFailure(attempt: { accountKey: string; ip: string }): Promise<void>;
  recordSuccess(attempt: { accountKey: string }): Promise<void>;
}
