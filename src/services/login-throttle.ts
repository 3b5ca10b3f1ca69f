import type { AuditEvent, AuditLog } from './audit-log.js';
import { AppError } from './errors.js';

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

export const tooManyAttempts = (retryAfterSeconds: number) =>
  new AppError(
    429,
    'too-many-attempts',
    'Too many attempts',
    `too many sign-in attempts; try again in ${retryAfterSeconds} s`,
    { retryAfterSeconds },
  );

/**
 * The gate in front of every password or second-factor check: a refused attempt is audited and answered 429.
 * An admitted attempt must be followed by recordFailure or recordSuccess.
 */
export async function admitAttempt(
  deps: { throttle: LoginThrottle; audit: AuditLog },
  attempt: { accountKey: string; ip: string },
  event: Omit<AuditEvent, 'outcome'>,
): Promise<void> {
  const decision = await deps.throttle.check(attempt);
  if (decision.allowed) return;
  await deps.audit.append({
    ...event,
    outcome: 'failure',
    details: { reason: `throttled-${decision.reason}` },
  });
  throw tooManyAttempts(Math.max(1, Math.ceil(decision.retryAfterSeconds)));
}
