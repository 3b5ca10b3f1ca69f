import { describe, expect, it } from 'vitest';
import { isFinalClose, reconnectDelayMs } from '../../web/src/live/reconnect-backoff.js';

describe('the live-progress socket reconnect backoff', () => {
  it('doubles from 500 ms and stops growing at 15 s', () => {
    const noJitter = () => 1;
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => reconnectDelayMs(attempt, noJitter))).toEqual([
      500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000,
    ]);
  });

  it('jitters each delay down to half, never below', () => {
    expect(reconnectDelayMs(3, () => 0)).toBe(2000);
    expect(reconnectDelayMs(3, () => 0.5)).toBe(3000);
    expect(reconnectDelayMs(-2, () => 1)).toBe(500);
  });

  it('gives up only on close codes that name a refusal (4000 + 401, 403, 404)', () => {
    expect([4400, 4401, 4403, 4404, 4499].every(isFinalClose)).toBe(true);
    expect([1000, 1001, 1006, 1011, 4500].some(isFinalClose)).toBe(false);
  });
});
