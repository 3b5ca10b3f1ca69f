import { describe, expect, it } from 'vitest';
import type { FaceObservation } from '../../src/faces/face-types.js';
import { anchorPositions, searchSample, streamedWindowSearch } from '../../src/faces/window-face-search.js';
import type { FrameSample, SampledFrame } from '../../src/pipeline/frames/frame-sample.js';

/** 4 sweep keyframes, then one dense window of 30 frames (indexes 4–33). */
function sample(): FrameSample {
  const frame = (index: number, windowId: number | null): SampledFrame => ({
    index,
    timeSeconds: index / 10,
    width: 4,
    height: 4,
    data: Buffer.alloc(48, index),
    scale: 1,
    keyframe: windowId === null,
    windowId,
  });
  const frames = [
    ...Array.from({ length: 4 }, (_, i) => frame(i, null)),
    ...Array.from({ length: 30 }, (_, i) => frame(4 + i, 0)),
  ];
  const frameIndexes = frames.filter((f) => f.windowId === 0).map((f) => f.index);
  return {
    frames,
    windows: [{ id: 0, startSeconds: 0.4, endSeconds: 3.3, frameIndexes }],
    plan: {} as FrameSample['plan'],
  };
}

const face = (frame: SampledFrame): FaceObservation => ({
  frameIndex: frame.index,
  timeSeconds: frame.timeSeconds,
  box: [0, 0, 2, 2],
  score: 0.9,
  mesh: [],
  rotation: null,
  embedding: [],
});

/** A detector that sees a face in the given sample indexes and records what it was asked. */
function detectorWithFacesAt(indexes: Iterable<number>) {
  const withFace = new Set(indexes);
  const asked: number[] = [];
  const detect = async (frame: SampledFrame) => {
    asked.push(frame.index);
    await new Promise((resolve) => setTimeout(resolve, 0));
    return withFace.has(frame.index) ? [face(frame)] : [];
  };
  return { detect, asked };
}

const searched = (perFrame: (FaceObservation[] | null)[]) =>
  perFrame.flatMap((faces, index) => (faces === null ? [] : [index]));

describe('anchorPositions', () => {
  it('takes every stride-th position and the last', () => {
    expect(anchorPositions(30, 5)).toEqual([0, 5, 10, 15, 20, 25, 29]);
    expect(anchorPositions(26, 5)).toEqual([0, 5, 10, 15, 20, 25]);
    expect(anchorPositions(7, 5)).toEqual([0, 5, 6]);
    expect(anchorPositions(1, 5)).toEqual([0]);
    expect(anchorPositions(0, 5)).toEqual([]);
  });
});

describe('searchSample', () => {
  it('searches the sweep and only the anchors of a window without faces', async () => {
    const { detect, asked } = detectorWithFacesAt([]);
    const perFrame = await searchSample(sample(), detect);
    const anchors = [0, 5, 10, 15, 20, 25, 29].map((position) => 4 + position);
    expect(searched(perFrame)).toEqual([0, 1, 2, 3, ...anchors]);
    expect(asked.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, ...anchors]);
  });

  it('searches every frame between anchors next to a face', async () => {
    // A face in window positions 12–20 (sample indexes 16–24): anchors 15 and 20 see it.
    const faceAt = Array.from({ length: 9 }, (_, i) => 16 + i);
    const { detect, asked } = detectorWithFacesAt(faceAt);
    const perFrame = await searchSample(sample(), detect);
    // Gaps 10–15, 15–20 and 20–25 are searched; 0–5, 5–10 and 25–29 are not.
    const windowSearched = [0, 5, ...range(10, 25), 29].map((position) => 4 + position);
    expect(searched(perFrame)).toEqual([0, 1, 2, 3, ...windowSearched]);
    expect(new Set(asked).size).toBe(asked.length);
    for (const index of faceAt) expect(perFrame[index]).toHaveLength(1);
  });
});

describe('streamedWindowSearch', () => {
  it('finishes with what searchSample finds, each frame searched once', async () => {
    const faceAt = [4 + 7, 4 + 8, 4 + 9, 4 + 26];
    const whole = detectorWithFacesAt(faceAt);
    const expected = await searchSample(sample(), whole.detect);

    const streamed = detectorWithFacesAt(faceAt);
    const search = streamedWindowSearch(
      streamed.detect,
      (a, b) => a.index === b.index && a.data.equals(b.data),
    );
    const frames = sample().frames;
    for (const frame of frames.filter((f) => f.windowId !== null)) {
      search.add(frame);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    for (const frame of frames.filter((f) => f.windowId === null)) search.add(frame);
    const perFrame = await search.finish(sample());

    expect(perFrame).toEqual(expected);
    expect(streamed.asked.sort((a, b) => a - b)).toEqual(whole.asked.sort((a, b) => a - b));
  });

  it('searches again a frame whose place changed after it was streamed', async () => {
    const { detect, asked } = detectorWithFacesAt([]);
    const search = streamedWindowSearch(detect, (a, b) => a.data.equals(b.data));
    const moved = { ...sample().frames[0]!, data: Buffer.alloc(48, 99) };
    search.add(moved);
    await search.finish(sample());
    expect(asked.filter((index) => index === 0)).toHaveLength(2);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
