import { describe, expect, it } from 'vitest';
import { defaultSamplingLimits, windowStarts } from '../../src/pipeline/frames/ffmpeg-frame-sampler.js';

const limits = { ...defaultSamplingLimits, windows: 2, windowSeconds: 1 };

describe('windowStarts', () => {
  it('spreads windows a third and two thirds in without keyframe times', () => {
    expect(windowStarts(60, limits)).toEqual([19.5, 39.5]);
  });

  it('moves each start to just after the latest keyframe within reach before it', () => {
    // Reach is a sixth of the spacing: 10 s for 60 s and two windows.
    const starts = windowStarts(60, limits, [0, 8.3, 16.6, 24.9, 33.2, 41.5]);
    expect(starts.map((start) => Number(start.toFixed(6)))).toEqual([16.601, 33.201]);
  });

  it('keeps the start where no keyframe lies within reach', () => {
    expect(windowStarts(60, limits, [0, 5])).toEqual([19.5, 39.5]);
    expect(windowStarts(60, limits, [21, 45])).toEqual([19.5, 39.5]);
  });

  it('drops a window that would overlap the one before', () => {
    // Three windows in 6 s aim at 1, 2.5 and 4 s; the second moves back to 1.9 s, inside the first.
    const starts = windowStarts(6, { ...limits, windows: 3 }, [1.9]);
    expect(starts.map((start) => Number(start.toFixed(6)))).toEqual([1, 4]);
  });
});
