import { createHash } from 'node:crypto';
import { normalizeIP } from '@fastify/rate-limit';
import type { ThrottleStore } from '../repositories/throttle-store.js';
import type { LoginThrottle, ThrottleDecision } from './login-throttle.js';

export interface LoginThrottlePolicy {
  /** Consecutive failures after which each further attempt waits `backoffBaseMs · 2^(failures − this)`. */
  backoffAfterFailures: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Consecutive failures that lock the account for `lockMs`; every failure past it locks it again. */
  lockAfterFailures: number;
  lockMs: number;
  /** Failures in any rolling hour, successes notwithstanding. */
  maxFailuresPerHour: number;
  /** Attempts per client address (IPv6: per /64) in a fixed window, across accounts. */
  ipMaxAttempts: number;
  ipWindowMs: number;
  /** How long an attempt that never reported its outcome keeps concurrent attempts on its account waiting. */
  attemptLeaseMs: number;
}

export const defaultLoginThrottlePolicy: LoginThrottlePolicy = {
  backoffAfterFailures: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  lockAfterFailures: 10,
  lockMs: 15 * 60_000,
  maxFailuresPerHour: 100,
  ipMaxAttempts: 20,
  ipWindowMs: 5 * 60_000,
  attemptLeaseMs: 10_000,
};

const hourMs = 3_600_000;

interface AccountState {
  /** Failures since the last success. */
  consecutive: number;
  /** Times of the failures of the last hour, oldest first, at most `maxFailuresPerHour` of them. */
  failures: number[];
  lockedUntil: number | null;
  /** Set by an admitted attempt until it reports its outcome: attempts on one account run one at a time. */
  attemptUntil: number | null;
}

interface IpState {
  windowStart: number;
  attempts: number;
}

const allowed: ThrottleDecision = { allowed: true };

/** The same key for `Alice@Example.com ` and `alice@example.com`, whether or not such an account exists. */
export function normaliseAccountKey(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

/**
 * LoginThrottle over a ThrottleStore. `check` admits one attempt at a time per account (a concurrent one is
 * told to back off) and counts it against the client address; the caller must then report the outcome with
 * `recordFailure` or `recordSuccess`. Accounts are stored under a hash of the normalised email.
 */
export function createLoginThrottle(deps: {
  store: ThrottleStore;
  now: () => Date;
  policy?: Partial<LoginThrottlePolicy>;
}): LoginThrottle {
  const { store } = deps;
  const policy = { ...defaultLoginThrottlePolicy, ...deps.policy };
  const clock = () => deps.now().getTime();

  function ipStep(now: number) {
    return (current: IpState | null) => {
      const state = current ?? { windowStart: now, attempts: 0 };
      const windowEnd = state.windowStart + policy.ipWindowMs;
      if (state.attempts >= policy.ipMaxAttempts) return { result: refuse('ip-limit', windowEnd - now) };
      return {
        next: { state: { ...state, attempts: state.attempts + 1 }, expiresAt: windowEnd },
        result: allowed,
      };
    };
  }

  function accountRefusal(state: AccountState, now: number): ThrottleDecision | null {
    if (state.lockedUntil !== null && state.lockedUntil > now)
      return refuse('locked', state.lockedUntil - now);
    const recent = state.failures.filter((at) => at > now - hourMs);
    const oldestCounted = recent[recent.length - policy.maxFailuresPerHour];
    if (oldestCounted !== undefined) return refuse('hourly-limit', oldestCounted + hourMs - now);
    const lastFailure = state.failures.at(-1);
    if (state.consecutive >= policy.backoffAfterFailures && lastFailure !== undefined) {
      const exponent = state.consecutive - policy.backoffAfterFailures;
      const delay = Math.min(policy.backoffBaseMs * 2 ** exponent, policy.backoffMaxMs);
      if (lastFailure + delay > now) return refuse('backoff', lastFailure + delay - now);
    }
    if (state.attemptUntil !== null && state.attemptUntil > now) return refuse('backoff', 1_000);
    return null;
  }

  function entry(state: AccountState) {
    const lastFailure = state.failures.at(-1);
    const expiresAt = Math.max(
      lastFailure === undefined ? 0 : lastFailure + hourMs,
      state.lockedUntil ?? 0,
      state.attemptUntil ?? 0,
    );
    return { state, expiresAt };
  }

  return {
    async check(attempt) {
      const now = clock();
      const byIp = await store.update(ipKey(attempt.ip), now, ipStep(now));
      if (!byIp.allowed) return byIp;
      return store.update(accountKey(attempt.accountKey), now, (current: AccountState | null) => {
        const state = current ?? { consecutive: 0, failures: [], lockedUntil: null, attemptUntil: null };
        const refusal = accountRefusal(state, now);
        if (refusal) return { result: refusal };
        return { next: entry({ ...state, attemptUntil: now + policy.attemptLeaseMs }), result: allowed };
      });
    },

    async recordFailure(attempt) {
      const now = clock();
      await store.update(accountKey(attempt.accountKey), now, (current: AccountState | null) => {
        const consecutive = (current?.consecutive ?? 0) + 1;
        const failures = [...(current?.failures ?? []).filter((at) => at > now - hourMs), now];
        const state: AccountState = {
          consecutive,
          failures: failures.slice(-policy.maxFailuresPerHour),
          lockedUntil:
            consecutive >= policy.lockAfterFailures ? now + policy.lockMs : (current?.lockedUntil ?? null),
          attemptUntil: null,
        };
        return { next: entry(state), result: undefined };
      });
    },

    async recordSuccess(attempt) {
      const now = clock();
      await store.update(accountKey(attempt.accountKey), now, (current: AccountState | null) => {
        const failures = (current?.failures ?? []).filter((at) => at > now - hourMs);
        // The hourly count stays: a success in between must not open a new series of 100 guesses.
        const state: AccountState = { consecutive: 0, failures, lockedUntil: null, attemptUntil: null };
        return { next: failures.length > 0 ? entry(state) : null, result: undefined };
      });
    },
  };
}

function refuse(
  reason: 'backoff' | 'locked' | 'hourly-limit' | 'ip-limit',
  waitMs: number,
): ThrottleDecision {
  return { allowed: false, reason, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

function accountKey(email: string): string {
  return `account:${createHash('sha256').update(normaliseAccountKey(email)).digest('hex')}`;
}

function ipKey(ip: string): string {
  return `ip:${normalizeIP(ip)}`;
}
