import { describe, expect, it } from 'vitest';
import { faceBoxesAt, faceSpans } from '../../web/src/pages/report/face-boxes-at.js';
import type { FaceTrack } from '../../web/src/pages/report/report-shape.js';

// As a report lists them: one face from 2 s on (dense window every 0.1 s to 3 s), one small face at a keyframe.
const tracks: FaceTrack[] = [
  {
    id: 1,
    framesSeen: 11,
    sizePixels: 139,
    analysed: true,
    boxes: Array.from({ length: 11 }, (_, index) => ({
      timeSeconds: 2 + index / 10,
      box: [217 + index, 83, 139, 168],
      score: 1,
    })),
  },
  {
    id: 2,
    framesSeen: 1,
    sizePixels: 20,
    analysed: false,
    reason: 'too small',
    boxes: [{ timeSeconds: 0, box: [10, 10, 20, 22], score: 0.8 }],
  },
];

describe('face boxes at the player time', () => {
  it('takes each track’s box from the sampled frame nearest to the time', () => {
    expect(faceBoxesAt(tracks, 2.52, 0.25)).toEqual([
      { trackId: 1, box: [222, 83, 139, 168], timeSeconds: 2.5, analysed: true },
    ]);
    expect(faceBoxesAt(tracks, 2.56, 0.25)[0]?.box[0]).toBe(223);
  });

  it('draws nothing far from every sample of a track, before the face appears or after it was last seen', () => {
    expect(faceBoxesAt(tracks, 1, 0.25)).toEqual([]);
    expect(faceBoxesAt(tracks, 1.74, 0.25)).toEqual([]);
    expect(faceBoxesAt(tracks, 3.3, 0.25)).toEqual([]);
    expect(faceBoxesAt(tracks, 1.8, 0.25).map((box) => box.trackId)).toEqual([1]);
  });

  it('returns several tracks at once and says which were too small to analyse', () => {
    const atStart = faceBoxesAt(tracks, 0.1, 0.25);
    expect(atStart).toEqual([{ trackId: 2, box: [10, 10, 20, 22], timeSeconds: 0, analysed: false }]);
    expect(faceBoxesAt(tracks, 0, Number.POSITIVE_INFINITY).map((box) => box.trackId)).toEqual([1, 2]);
  });

  it('handles no tracks and tracks without boxes', () => {
    expect(faceBoxesAt([], 1, 1)).toEqual([]);
    expect(faceBoxesAt([{ ...tracks[0]!, boxes: [] }], 2, 1)).toEqual([]);
  });

  it('joins nearby samples into spans for the timeline', () => {
    expect(faceSpans(tracks, 0.5)).toEqual([
      { startSeconds: 0, endSeconds: 0 },
      { startSeconds: 2, endSeconds: 3 },
    ]);
    expect(faceSpans(tracks, 2.5)).toEqual([{ startSeconds: 0, endSeconds: 3 }]);
    expect(faceSpans([], 1)).toEqual([]);
  });
});
