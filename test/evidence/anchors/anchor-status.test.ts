import { describe, expect, it } from 'vitest';
import {
  anchorAttemptFailed,
  pendingAnchor,
  solanaAnchored,
  timestampAnchored,
  type PendingAnchor,
} from '../../../src/evidence/anchors/anchor-status.js';
import { nextRetryDelayMs, type RetryPolicy } from '../../../src/evidence/anchors/retry-policy.js';
import { TimestampRequestError } from '../../../src/evidence/anchors/rfc3161/timestamp-errors.js';
import { SolanaAnchorError } from '../../../src/evidence/anchors/solana/solana-anchor-errors.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 5_000, factor: 2 };
const t0 = new Date('2026-01-01T00:00:00Z');

describe('nextRetryDelayMs', () => {
  it('doubles from the base delay, caps at the maximum, and stops after the last attempt', () => {
    expect([1, 2, 3, 4].map((attempts) => nextRetryDelayMs(policy, attempts))).toEqual([
      1_000, 2_000, 4_000, 5_000,
    ]);
    expect(nextRetryDelayMs(policy, 5)).toBeNull();
    expect(nextRetryDelayMs(policy, 9)).toBeNull();
  });

  it('allows no retry when one attempt is all there is', () => {
    expect(nextRetryDelayMs({ ...policy, maxAttempts: 1 }, 1)).toBeNull();
  });

  it.each([
    { ...policy, maxAttempts: 0 },
    { ...policy, maxAttempts: 2.5 },
    { ...policy, factor: 0.5 },
    { ...policy, maxDelayMs: 10 },
  ])('refuses a policy that cannot bound its retries: %o', (invalid) => {
    expect(() => nextRetryDelayMs(invalid, 1)).toThrow(RangeError);
  });
});

describe('anchor status', () => {
  const network = new TimestampRequestError('network', 'TSA could not be reached: ECONNREFUSED');

  it('stays pending after a transient failure, with the reason and the next attempt time', () => {
    const next = anchorAttemptFailed(pendingAnchor('rfc3161', t0), network, policy, t0);
    expect(next).toEqual({
      kind: 'rfc3161',
      status: 'pending',
      attempts: 1,
      reason: 'network: TSA could not be reached: ECONNREFUSED',
      nextAttemptAt: new Date(t0.getTime() + 1_000),
    });
  });

  it('fails for good once the attempts are used up, saying so', () => {
    let anchor: PendingAnchor = pendingAnchor('rfc3161', t0);
    const delays: number[] = [];
    for (;;) {
      const next = anchorAttemptFailed(anchor, network, policy, t0);
      if (next.status === 'failed') {
        expect(next.attempts).toBe(5);
        expect(next.reason).toMatch(/\(gave up after 5 attempts\)$/);
        break;
      }
      delays.push(next.nextAttemptAt.getTime() - t0.getTime());
      anchor = next;
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 5_000]);
  });

  it.each([
    new SolanaAnchorError('keypair-missing', 'Solana keypair file x cannot be read (ENOENT)'),
    new TimestampRequestError('rejected', 'TSA refused the request: status rejection'),
  ])('fails at once when retrying cannot help: $reason', (error) => {
    const next = anchorAttemptFailed(pendingAnchor('solana', t0), error, policy, t0);
    expect(next).toMatchObject({
      status: 'failed',
      attempts: 1,
      reason: `${error.reason}: ${error.message}`,
    });
  });

  it('retries an unfunded Solana payer, since an operator can fund it', () => {
    const error = new SolanaAnchorError('insufficient-funds', 'fee payer cannot pay');
    expect(anchorAttemptFailed(pendingAnchor('solana', t0), error, policy, t0).status).toBe('pending');
  });

  it('records the proof and the attempt that succeeded', () => {
    const retried = anchorAttemptFailed(pendingAnchor('rfc3161', t0), network, policy, t0) as PendingAnchor;
    const token = new Uint8Array([1, 2, 3]);
    const anchored = timestampAnchored(
      retried,
      { token, genTime: t0, serialNumberHex: '01', tsaName: 'CN=TSA', nonce: 5n },
      t0,
    );
    expect(anchored).toEqual({
      kind: 'rfc3161',
      status: 'anchored',
      attempts: 2,
      anchoredAt: t0,
      token,
      genTime: t0,
      serialNumberHex: '01',
      tsaName: 'CN=TSA',
    });
    const receipt = { signature: 'sig', slot: 9n, memo: 'guardian-tree-head:00', feePayer: 'payer' };
    expect(solanaAnchored(pendingAnchor('solana', t0), receipt, t0)).toEqual({
      kind: 'solana',
      status: 'anchored',
      attempts: 1,
      anchoredAt: t0,
      ...receipt,
    });
  });
});
