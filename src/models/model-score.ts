import type { Aggregation, Calibration, ModelOutputSpec } from './model-card.js';

export function sigmoid(x: number): number {
  // Written two ways so exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function softmax(values: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number);
  const exps = Array.from(values, (value) => Math.exp(value - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

/**
 * The model's own score that the media is manipulated, 0–1, from its raw output (batch of one, flattened):
 * sigmoid of the logit, the softmax share, or the probability at `manipulatedIndex`.
 */
export function manipulatedScore(output: ArrayLike<number>, spec: ModelOutputSpec): number {
  if (spec.manipulatedIndex >= output.length) {
    throw new Error(
      `output ${spec.name} has ${output.length} values; manipulatedIndex is ${spec.manipulatedIndex}`,
    );
  }
  const value = output[spec.manipulatedIndex] as number;
  if (!Number.isFinite(value)) throw new Error(`output ${spec.name} is not a finite number (${value})`);
  if (spec.kind === 'logit') return sigmoid(value);
  if (spec.kind === 'softmax') return softmax(output)[spec.manipulatedIndex] as number;
  // Float rounding may put a probability a hair outside 0–1; anything further is a wrong card.
  if (value < -1e-6 || value > 1 + 1e-6) {
    throw new Error(`output ${spec.name} is declared a probability but is ${value}`);
  }
  return Math.min(1, Math.max(0, value));
}

/**
 * Maps the model's score s (0–1) through the card's calibration. Platt uses the convention of Platt (1999)
 * and scikit-learn: 1 / (1 + exp(a·s + b)). Isotonic interpolates linearly between the points, flat beyond them.
 */
export function calibrate(score: number, calibration: Calibration | undefined): number {
  if (!calibration) return score;
  if (calibration.method === 'platt') return sigmoid(-(calibration.a * score + calibration.b));
  const { points } = calibration;
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return score;
  if (score <= first[0]) return first[1];
  if (score >= last[0]) return last[1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i] as [number, number];
    const [x0, y0] = points[i - 1] as [number, number];
    if (score <= x1) return y0 + ((score - x0) / (x1 - x0)) * (y1 - y0);
  }
  return last[1];
}

/** Share of scores dropped at each end by 'trimmed-mean'. */
export const trimmedShare = 0.1;

/** One score for the media from the per-frame (or per-face) scores. */
export function aggregateScores(scores: readonly number[], rule: Aggregation): number {
  if (scores.length === 0) throw new Error('no scores to aggregate');
  const sorted = [...scores].sort((a, b) => a - b);
  const meanOf = (values: number[]) => values.reduce((total, value) => total + value, 0) / values.length;
  switch (rule) {
    case 'mean':
      return meanOf(sorted);
    case 'max':
      return sorted[sorted.length - 1] as number;
    case 'median': {
      const middle = sorted.length >> 1;
      return sorted.length % 2 === 1
        ? (sorted[middle] as number)
        : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
    }
    case 'trimmed-mean': {
      const trim = Math.floor(sorted.length * trimmedShare);
      return meanOf(sorted.slice(trim, sorted.length - trim));
    }
  }
}
