import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/evaluation/roc-auc.js';

describe('rocAuc', () => {
  it('is 1 when every positive outranks every negative, 0 when none does', () => {
    expect(rocAuc([3, 4, 5], [0, 1, 2])).toBe(1);
    expect(rocAuc([0, 1], [2, 3, 4])).toBe(0);
  });

  it('counts ties as one half', () => {
    expect(rocAuc([1, 1], [1, 1, 1])).toBe(0.5);
    // Pairs: (2>1) (2=2) (2<3), (3>1) (3>2) (3=3): 3 wins + 2 ties of 6.
    expect(rocAuc([2, 3], [1, 2, 3])).toBeCloseTo(4 / 6, 12);
  });

  it('matches a pairwise count on a known example', () => {
    // Positives 0.8, 0.6, 0.4; negatives 0.5, 0.3, 0.6: wins 3 + 2 + 1 = 6, one tie (0.6 = 0.6).
    expect(rocAuc([0.8, 0.6, 0.4], [0.5, 0.3, 0.6])).toBeCloseTo(6.5 / 9, 12);
  });

  it('agrees with counting every pair', () => {
    let state = 7;
    const next = () => (state = (state * 48271) % 2147483647) % 11;
    const positives = Array.from({ length: 37 }, () => next() + 2);
    const negatives = Array.from({ length: 23 }, () => next());
    let wins = 0;
    for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
    expect(rocAuc(positives, negatives)).toBeCloseTo(wins / (positives.length * negatives.length), 12);
  });

  it('works on band ranks with many ties', () => {
    // Bands as ranks 0 < 1 < 2: positives [2, 2, 1], negatives [0, 1, 0, 0].
    // Pairs: 2 beats all 4 twice (8), 1 beats the three 0s and ties the 1 (3.5): 11.5 of 12.
    expect(rocAuc([2, 2, 1], [0, 1, 0, 0])).toBeCloseTo(11.5 / 12, 12);
  });

  it('is null without both classes', () => {
    expect(rocAuc([], [1])).toBeNull();
    expect(rocAuc([1], [])).toBeNull();
  });
});
