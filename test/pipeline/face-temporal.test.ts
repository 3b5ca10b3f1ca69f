import { describe, expect, it } from 'vitest';
import type { Box } from '../../src/faces/face-types.js';
import {
  createFaceTemporalDetector,
  jitterScore,
} from '../../src/pipeline/detectors/face-temporal.detector.js';
import { detectorContext } from '../helpers/detector-context.js';
import {
  boxFace,
  greyFrame,
  oneTrack,
  sampleOf,
  sceneFrame,
  seededRandom,
  pictureProbe,
} from '../helpers/synthetic-frames.js';

const width = 360;
const height = 300;
const faceBox: Box = [130, 100, 100, 100];
const probe = pictureProbe('h264', width, height);

/** A panning scene; with jitter, the face box's content is displaced by a random offset in each frame. */
function windowFrames(jitter: number) {
  const random = seededRandom(7);
  return Array.from({ length: 16 }, (_, index) => {
    const pan = index * 0.7;
    const scene = sceneFrame(width, height, { sigma: 2, seed: index + 1, shiftX: pan, shiftY: pan / 2 });
    if (jitter > 0) {
      const face = sceneFrame(width, height, {
        sigma: 2,
        seed: 100 + index,
        shiftX: pan + (random() - 0.5) * 2 * jitter,
        shiftY: pan / 2 + (random() - 0.5) * 2 * jitter,
      });
      const [x, y, w, h] = faceBox;
      for (let row = y; row < y + h; row++)
        for (let col = x; col < x + w; col++) scene[row * width + col] = face[row * width + col]!;
    }
    return greyFrame(scene, width, { index, timeSeconds: index / 30, windowId: 0 });
  });
}

async function analyse(jitter: number) {
  const frames = windowFrames(jitter);
  const context = detectorContext({
    input: 'unused',
    probe,
    mediaTools: undefined as never,
    frames: async () => sampleOf(frames),
    faces: async () => oneTrack(frames.map((frame) => boxFace(frame, faceBox))),
  });
  return createFaceTemporalDetector().analyze(context);
}

describe('face-temporal', () => {
  it('maps wobble to a score: smooth motion is clean, a pixel of wobble is strong', () => {
    expect(jitterScore(0.1)).toBe(0);
    expect(jitterScore(1.2)).toBeGreaterThanOrEqual(0.7);
  });

  it('finds a face that moves with its surroundings smooth', async () => {
    const finding = await analyse(0);
    expect(finding.score).toBeLessThan(0.3);
    expect(finding.measurements.roughnessPixels).toBeLessThan(0.3);
    expect(finding.coverage).toMatchObject({ unit: 'frame pairs', analysed: 15, total: 15 });
  });

  it('flags a face whose texture jitters against the frame from one frame to the next', async () => {
    const finding = await analyse(1.5);
    expect(finding.score).toBeGreaterThanOrEqual(0.7);
    expect(finding.evidence[0]!.kind).toBe('face-jitter');
  });
});
