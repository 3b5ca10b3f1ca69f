import { describe, expect, it } from 'vitest';
import { faceCropRect, imageTensor, resizeBilinear, type RgbImage } from '../../src/models/image-tensor.js';
import type { ModelInputSpec } from '../../src/models/model-card.js';
import {
  aggregateScores,
  calibrate,
  manipulatedScore,
  sigmoid,
  softmax,
} from '../../src/models/model-score.js';

const output = (kind: 'logit' | 'softmax' | 'probability', manipulatedIndex = 0) => ({
  name: 'out',
  kind,
  manipulatedIndex,
});

describe('output to score', () => {
  it('sigmoid and softmax give the textbook values without overflow', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2)).toBeCloseTo(0.880797, 6);
    expect(sigmoid(-2)).toBeCloseTo(0.119203, 6);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-800)).toBe(0);
    const shares = softmax([1, 2, 3]);
    expect(shares[0]).toBeCloseTo(0.0900306, 7);
    expect(shares[1]).toBeCloseTo(0.2447285, 7);
    expect(shares[2]).toBeCloseTo(0.665241, 6);
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]);
  });

  it('reads the manipulated index as a logit, a softmax share or a probability', () => {
    expect(manipulatedScore([0, 2], output('logit', 1))).toBeCloseTo(0.880797, 6);
    expect(manipulatedScore([1, 2, 3], output('softmax', 2))).toBeCloseTo(0.665241, 6);
    expect(manipulatedScore([0.3, 0.7], output('probability', 1))).toBeCloseTo(0.7, 6);
    expect(manipulatedScore([1.0000001], output('probability'))).toBe(1);
    expect(() => manipulatedScore([1.5], output('probability'))).toThrow(/declared a probability but is 1.5/);
    expect(() => manipulatedScore([0.5], output('logit', 1))).toThrow(/has 1 values; manipulatedIndex is 1/);
    expect(() => manipulatedScore([Number.NaN], output('logit'))).toThrow(/not a finite number/);
  });
});

describe('calibration', () => {
  it('Platt: 1 / (1 + exp(a·s + b))', () => {
    const platt = { method: 'platt' as const, a: -4, b: 2 };
    expect(calibrate(0.5, platt)).toBe(0.5);
    expect(calibrate(1, platt)).toBeCloseTo(0.880797, 6);
    expect(calibrate(0, platt)).toBeCloseTo(0.119203, 6);
  });

  it('isotonic: linear between the points, flat beyond them', () => {
    const isotonic = {
      method: 'isotonic' as const,
      points: [
        [0.2, 0.1],
        [0.5, 0.2],
        [0.8, 0.9],
      ] as [number, number][],
    };
    expect(calibrate(0.35, isotonic)).toBeCloseTo(0.15, 9);
    expect(calibrate(0.65, isotonic)).toBeCloseTo(0.55, 9);
    expect(calibrate(0.5, isotonic)).toBe(0.2);
    expect(calibrate(0.05, isotonic)).toBe(0.1);
    expect(calibrate(0.95, isotonic)).toBe(0.9);
    expect(calibrate(0.42, undefined)).toBe(0.42);
  });
});

describe('aggregation', () => {
  it('mean, median, max and a 10 % trimmed mean', () => {
    const scores = [0.1, 0.2, 0.9];
    expect(aggregateScores(scores, 'mean')).toBeCloseTo(0.4, 12);
    expect(aggregateScores(scores, 'median')).toBe(0.2);
    expect(aggregateScores([0.4, 0.1, 0.3, 0.2], 'median')).toBeCloseTo(0.25, 12);
    expect(aggregateScores(scores, 'max')).toBe(0.9);
    // Ten scores: the lowest and highest are dropped.
    const ten = [0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1];
    expect(aggregateScores([...ten.slice(0, 9), 0.95], 'trimmed-mean')).toBeCloseTo(0.5, 12);
    // Fewer than ten: nothing to trim, the plain mean.
    expect(aggregateScores(scores, 'trimmed-mean')).toBeCloseTo(0.4, 12);
    expect(() => aggregateScores([], 'mean')).toThrow(/no scores/);
  });
});

const image = (width: number, height: number, data: number[]): RgbImage => ({
  width,
  height,
  data: Uint8Array.from(data),
});

describe('preprocessing', () => {
  it('grows the face box by the margin, rounds outwards and clamps to the frame', () => {
    expect(faceCropRect([20, 10, 16, 16], 0.25, 64, 48)).toEqual([16, 6, 24, 24]);
    expect(faceCropRect([10.5, 10.5, 10, 10], 0.1, 64, 48)).toEqual([9, 9, 13, 13]);
    expect(faceCropRect([0, 2, 16, 16], 0.25, 64, 48)).toEqual([0, 0, 20, 22]);
    expect(faceCropRect([56, 40, 16, 16], 0.5, 64, 48)).toEqual([48, 32, 16, 16]);
    expect(faceCropRect([70, 10, 5, 5], 0.1, 64, 48)).toBeNull();
  });

  it('resizes bilinearly with half-pixel centres (OpenCV INTER_LINEAR)', () => {
    // 2×1 → 4×1: sample points −0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    const up = resizeBilinear(image(2, 1, [0, 0, 0, 100, 200, 40]), [0, 0, 2, 1], 4, 1);
    expect(Array.from(up.data)).toEqual([0, 0, 0, 25, 50, 10, 75, 150, 30, 100, 200, 40]);
    // 4×4 → 2×2 averages each 2×2 block (sample points fall between pixels).
    const grey = Array.from({ length: 16 }, (_, i) => i * 10).flatMap((v) => [v, v, v]);
    const down = resizeBilinear(image(4, 4, grey), [0, 0, 4, 4], 2, 2);
    expect(Array.from(down.data).filter((_, i) => i % 3 === 0)).toEqual([25, 45, 105, 125]);
    // A region reads only its own pixels.
    const region = resizeBilinear(image(4, 4, grey), [2, 2, 2, 2], 1, 1);
    expect(region.data[0]).toBe(125);
    expect(() => resizeBilinear(image(4, 4, grey), [3, 3, 2, 2], 1, 1)).toThrow(/not inside/);
  });

  const spec = (fields: Partial<ModelInputSpec>): ModelInputSpec => ({
    name: 'x',
    layout: 'NCHW',
    width: 2,
    height: 1,
    colorOrder: 'RGB',
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    ...fields,
  });
  const pixels = image(2, 1, [10, 20, 30, 40, 50, 60]);

  it('packs channels in the declared order and layout', () => {
    expect(Array.from(imageTensor(pixels, spec({})))).toEqual([10, 40, 20, 50, 30, 60]);
    expect(Array.from(imageTensor(pixels, spec({ layout: 'NHWC' })))).toEqual([10, 20, 30, 40, 50, 60]);
    expect(Array.from(imageTensor(pixels, spec({ colorOrder: 'BGR' })))).toEqual([30, 60, 20, 50, 10, 40]);
    expect(Array.from(imageTensor(pixels, spec({ layout: 'NHWC', colorOrder: 'BGR' })))).toEqual([
      30, 20, 10, 60, 50, 40,
    ]);
  });

  it('normalises as (byte × scale − mean) / std per model channel', () => {
    const tensor = imageTensor(
      pixels,
      spec({ scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], colorOrder: 'BGR' }),
    );
    // Model channel 0 is blue (30 and 60), normalised with mean[0] and std[0].
    expect(tensor[0]).toBeCloseTo((30 / 255 - 0.485) / 0.229, 5);
    expect(tensor[5]).toBeCloseTo((40 / 255 - 0.406) / 0.225, 5);
    expect(() => imageTensor(pixels, spec({ width: 3 }))).toThrow(/the model takes 3x1/);
  });
});
