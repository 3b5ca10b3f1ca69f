import { describe, expect, it } from 'vitest';
import { fitIsotonic, fitPlatt, type LabelledScore } from '../../src/evaluation/calibration-fit.js';
import { applyFit } from '../../src/pipeline/calibration.js';

const labelled = (manipulated: boolean, ...scores: number[]): LabelledScore[] =>
  scores.map((score) => ({ score, manipulated }));

describe('fitIsotonic', () => {
  it('pools adjacent violators into their mean', () => {
    // Labels in score order 0 1 0 1 1: the 1 at 0.2 and the 0 at 0.3 violate and pool to 0.5.
    const fit = fitIsotonic([...labelled(false, 0.1, 0.3), ...labelled(true, 0.2, 0.4, 0.5)]);
    expect(fit.scores).toEqual([0.1, 0.25, 0.45]);
    expect(fit.probabilities).toEqual([0, 0.5, 1]);
  });

  it('interpolates between block centres and holds the ends', () => {
    const fit = fitIsotonic([...labelled(false, 0.1, 0.3), ...labelled(true, 0.2, 0.4, 0.5)]);
    expect(applyFit(fit, 0)).toBe(0);
    expect(applyFit(fit, 0.35)).toBeCloseTo(0.75, 12);
    expect(applyFit(fit, 0.9)).toBe(1);
  });

  it('pools equal scores whatever their labels', () => {
    const fit = fitIsotonic([...labelled(false, 0.5, 0.5, 0.5), ...labelled(true, 0.5)]);
    expect(fit).toEqual({ method: 'isotonic', scores: [0.5], probabilities: [0.25] });
  });
});

describe('fitPlatt', () => {
  it('rises with the score and stays inside (0, 1) on separable data', () => {
    const fit = fitPlatt([...labelled(false, 0.05, 0.1, 0.15, 0.2), ...labelled(true, 0.7, 0.8, 0.85, 0.9)]);
    expect(fit.a).toBeGreaterThan(0);
    const low = applyFit(fit, 0.1);
    const high = applyFit(fit, 0.8);
    expect(low).toBeGreaterThan(0);
    expect(low).toBeLessThan(0.25);
    expect(high).toBeGreaterThan(0.75);
    expect(high).toBeLessThan(1);
  });

  it('recovers a known logistic curve from its own probabilities', () => {
    // Scores on a grid with label shares following p = 1 / (1 + exp(−(8s − 4))): the fit lands near a = 8, b = −4.
    const samples: LabelledScore[] = [];
    for (let step = 0; step <= 20; step++) {
      const score = step / 20;
      const positives = Math.round(400 / (1 + Math.exp(-(8 * score - 4))));
      samples.push(
        ...labelled(true, ...Array(positives).fill(score)),
        ...labelled(false, ...Array(400 - positives).fill(score)),
      );
    }
    const fit = fitPlatt(samples);
    expect(fit.a).toBeCloseTo(8, 0);
    expect(fit.b).toBeCloseTo(-4, 0);
  });

  it('refuses one-class data', () => {
    expect(() => fitPlatt(labelled(false, 0.1, 0.2))).toThrow(/manipulated and authentic/);
  });
});
