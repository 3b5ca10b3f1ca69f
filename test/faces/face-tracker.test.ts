import { describe, expect, it } from 'vitest';
import { intersectionOverUnion, trackFaces } from '../../src/faces/face-tracker.js';
import type { Box, FaceObservation } from '../../src/faces/face-types.js';

const face = (frameIndex: number, box: Box, embedding: number[] = []): FaceObservation => ({
  frameIndex,
  timeSeconds: frameIndex / 30,
  box,
  score: 0.9,
  mesh: [],
  rotation: null,
  embedding,
});

describe('trackFaces', () => {
  it('computes overlap as intersection over union', () => {
    expect(intersectionOverUnion([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(50 / 150);
    expect(intersectionOverUnion([0, 0, 10, 10], [20, 0, 10, 10])).toBe(0);
  });

  it('links overlapping faces across frames and keeps two people apart', () => {
    const tracks = trackFaces(
      [
        [face(0, [10, 10, 80, 80]), face(0, [300, 20, 60, 60])],
        [face(1, [302, 22, 60, 60]), face(1, [14, 12, 80, 80])],
        [face(2, [18, 14, 80, 80])],
      ],
      48,
    );
    expect(tracks.map((t) => t.observations.map((o) => o.frameIndex))).toEqual([
      [0, 1, 2],
      [0, 1],
    ]);
    expect(tracks.every((t) => t.analysed)).toBe(true);
  });

  it('rejoins a face far apart in time by its embedding, and marks small faces as not analysed', () => {
    const person = [1, 0, 0];
    const tracks = trackFaces(
      [
        [face(0, [10, 10, 80, 80], person)],
        [face(1, [400, 200, 80, 80], [0.9, 0.436, 0])],
        [face(2, [600, 10, 30, 30], [0, 1, 0])],
      ],
      48,
    );
    expect(tracks).toHaveLength(2);
    expect(tracks[0]!.observations).toHaveLength(2);
    expect(tracks[1]).toMatchObject({ analysed: false, sizePixels: 30 });
    expect(tracks[1]!.reason).toBe('too small: 30 px, below the 48 px minimum');
  });
});
