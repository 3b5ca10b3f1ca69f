import { describe, expect, it } from 'vitest';
import {
  audioEnvelope,
  correlationPeak,
  laggedCorrelations,
  parabolicOffset,
  standardised,
  type AudioSpan,
  type LagCorrelation,
} from '../../src/pipeline/detectors/lagged-correlation.js';
import { seededRandom } from '../../src/evaluation/seeded-random.js';

const fps = 25;
const step = 1 / fps;
const rate = 1000;

/** Audio whose RMS over each frame-long stretch centred on t is exactly loudness(t − delay) (a ±value square wave). */
function spanFollowing(
  loudness: (frame: number) => number,
  from: number,
  seconds: number,
  delay: number,
): AudioSpan {
  const samples = new Float32Array(Math.round(seconds * rate));
  const perFrame = rate / fps;
  for (let i = 0; i < samples.length; i++) {
    // Frame k's stretch is centred on its time: [k − 0.5, k + 0.5) frames.
    const frame = Math.floor((from + i / rate - delay) * fps + 0.5);
    samples[i] = (i % 2 ? 1 : -1) * loudness(frame);
  }
  expect(perFrame).toBe(40);
  return { startSeconds: from, sampleRate: rate, samples };
}

/** An irregular 0–1 series, like syllables. */
function syllables(seed: number): (frame: number) => number {
  const random = seededRandom(seed);
  const values = Array.from({ length: 400 }, () => random.next());
  return (frame) => values[frame + 100] ?? 0;
}

function window(loudness: (frame: number) => number, firstFrame: number, delay: number) {
  const frames = Array.from({ length: 25 }, (_, i) => firstFrame + i);
  return {
    times: frames.map((frame) => frame * step),
    values: frames.map((frame) => loudness(frame)),
    envelope: audioEnvelope(spanFollowing(loudness, firstFrame * step - 1.2, 3.4, delay), step),
  };
}

const options = { stepSeconds: step, maxLagSeconds: 1, minPairShare: 0.8 };

describe('audio envelope', () => {
  it('is the RMS of the stretch around a time, and null outside the span', () => {
    const span = { startSeconds: 2, sampleRate: rate, samples: new Float32Array(1000).fill(0.5) };
    const envelope = audioEnvelope(span, 0.04);
    expect(envelope.at(2.5)).toBeCloseTo(0.5, 6);
    expect(envelope.at(2.01)).toBeNull();
    expect(envelope.at(3.5)).toBeNull();
  });
});

describe('lagged correlation', () => {
  it('finds the delay of a sound that follows the picture 320 ms later, and one 200 ms early', () => {
    const loudness = syllables(3);
    for (const delay of [0.32, -0.2, 0]) {
      const curve = laggedCorrelations([window(loudness, 40, delay), window(loudness, 120, delay)], options);
      expect(curve).toHaveLength(51);
      const peak = correlationPeak(curve, 0.15)!;
      expect(peak.stepLagSeconds).toBeCloseTo(delay, 6);
      expect(peak.lagSeconds).toBeCloseTo(delay, 1);
      expect(peak.correlation).toBeGreaterThan(0.99);
      // Independent noise at the other lags: no rival comes near.
      expect(peak.runnerUp!).toBeLessThan(0.6);
      expect(peak.atEdge).toBe(false);
    }
  });

  it('gives no correlation where too few frames have audio at that lag', () => {
    const loudness = syllables(4);
    const near = window(loudness, 40, 0);
    const short = {
      ...near,
      envelope: audioEnvelope(spanFollowing(loudness, 40 * step - 0.1, 1.2, 0), step),
    };
    const curve = laggedCorrelations([short], options);
    expect(curve.find((point) => Math.abs(point.lagSeconds) < 1e-9)!.correlation).toBeGreaterThan(0.99);
    expect(curve.find((point) => Math.abs(point.lagSeconds - 0.6) < 1e-9)!.correlation).toBeNull();
  });

  it('standardises to zero mean and unit variance, and refuses constant series', () => {
    expect(standardised([1, 2, 3])).toEqual([-Math.sqrt(1.5), 0, Math.sqrt(1.5)]);
    expect(standardised([2, 2, 2])).toBeNull();
    expect(standardised([1, 2])).toBeNull();
  });
});

describe('correlation peak', () => {
  const curve = (values: number[]): LagCorrelation[] =>
    values.map((correlation, i) => ({ lagSeconds: (i - 3) * 0.1, correlation }));

  it('refines the lag by a parabola and finds the best rival outside the exclusion', () => {
    const peak = correlationPeak(curve([0.1, 0.3, 0.8, 1, 0.6, 0.2, 0.4]), 0.15)!;
    expect(peak.stepLagSeconds).toBeCloseTo(0, 9);
    expect(peak.lagSeconds).toBeCloseTo(-0.1 / 6, 9);
    expect(peak.runnerUp).toBe(0.4);
    expect(peak.atEdge).toBe(false);
  });

  it('says when the peak is at the end of the lags searched', () => {
    expect(correlationPeak(curve([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.9]), 0.15)!.atEdge).toBe(true);
  });

  it('parabola vertex: symmetric neighbours give the middle, a flat top gives no shift', () => {
    expect(parabolicOffset(0.5, 1, 0.5)).toBeCloseTo(0, 12);
    expect(parabolicOffset(0.8, 1, 0.6)).toBeCloseTo(-1 / 6, 9);
    expect(parabolicOffset(1, 1, 1)).toBe(0);
    expect(parabolicOffset(null, 1, 0.5)).toBe(0);
  });
});
