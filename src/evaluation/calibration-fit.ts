import type { IsotonicFit, PlattFit } from '../pipeline/calibration.js';

/** Score-to-probability maps fitted on labelled scores (1 = manipulated, 0 = authentic). */

export interface LabelledScore {
  score: number;
  manipulated: boolean;
}

/**
 * Platt scaling: a logistic curve fitted by Newton's method with a backtracking line search, on the
 * smoothed targets (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2) that keep it finite on separable data (Lin, Lin & Weng 2007).
 */
export function fitPlatt(samples: readonly LabelledScore[]): PlattFit {
  const positives = samples.filter((sample) => sample.manipulated).length;
  const negatives = samples.length - positives;
  if (positives === 0 || negatives === 0)
    throw new Error('Platt scaling needs manipulated and authentic scores');
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (negatives + 2);
  const targets = samples.map((sample) => (sample.manipulated ? high : low));
  const scores = samples.map((sample) => sample.score);
  // Parameters of f = A·score + B with p = 1 / (1 + exp(f)) as in Platt's paper; a = −A, b = −B below.
  let A = 0;
  let B = Math.log((negatives + 1) / (positives + 1));
  const objective = (a: number, b: number) =>
    scores.reduce((sum, score, i) => {
      const f = score * a + b;
      const t = targets[i]!;
      return sum + (f >= 0 ? t * f + Math.log1p(Math.exp(-f)) : (t - 1) * f + Math.log1p(Math.exp(f)));
    }, 0);
  let value = objective(A, B);
  for (let iteration = 0; iteration < 100; iteration++) {
    let h11 = 1e-12;
    let h22 = 1e-12;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (const [i, score] of scores.entries()) {
      const f = score * A + B;
      const p = f >= 0 ? Math.exp(-f) / (1 + Math.exp(-f)) : 1 / (1 + Math.exp(f));
      const q = 1 - p;
      const d2 = p * q;
      h11 += score * score * d2;
      h22 += d2;
      h21 += score * d2;
      const d1 = targets[i]! - p;
      g1 += score * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < 1e-7 && Math.abs(g2) < 1e-7) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    let improved = false;
    while (step >= 1e-10) {
      const next = objective(A + step * dA, B + step * dB);
      if (next < value + 1e-4 * step * gd) {
        A += step * dA;
        B += step * dB;
        value = next;
        improved = true;
        break;
      }
      step /= 2;
    }
    if (!improved) break;
  }
  return { method: 'platt', a: -A, b: -B };
}

/** Isotonic regression by pool-adjacent-violators: the non-decreasing step fit of the labels in score order. */
export function fitIsotonic(samples: readonly LabelledScore[]): IsotonicFit {
  if (samples.length === 0) throw new Error('isotonic calibration needs scores');
  const sorted = [...samples].sort((a, b) => a.score - b.score);
  const blocks: { scoreSum: number; labelSum: number; count: number }[] = [];
  for (const sample of sorted) {
    blocks.push({ scoreSum: sample.score, labelSum: sample.manipulated ? 1 : 0, count: 1 });
    // Merge while the last block's mean label falls below the one before it (or ties its score).
    while (blocks.length > 1) {
      const last = blocks[blocks.length - 1]!;
      const before = blocks[blocks.length - 2]!;
      const violates = before.labelSum / before.count >= last.labelSum / last.count;
      const sameScore = before.scoreSum / before.count === last.scoreSum / last.count;
      if (!violates && !sameScore) break;
      before.scoreSum += last.scoreSum;
      before.labelSum += last.labelSum;
      before.count += last.count;
      blocks.pop();
    }
  }
  return {
    method: 'isotonic',
    scores: blocks.map((block) => block.scoreSum / block.count),
    probabilities: blocks.map((block) => block.labelSum / block.count),
  };
}
