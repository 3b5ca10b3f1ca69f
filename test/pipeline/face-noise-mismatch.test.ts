import { describe, expect, it } from 'vitest';
import type { Box } from '../../src/faces/face-types.js';
import {
  createFaceNoiseMismatchDetector,
  noiseRatioScore,
} from '../../src/pipeline/detectors/face-noise-mismatch.detector.js';
import { detectorContext } from '../helpers/detector-context.js';
import {
  blurEllipse,
  boxFace,
  greyFrame,
  oneTrack,
  sampleOf,
  sceneFrame,
  pictureProbe,
} from '../helpers/synthetic-frames.js';

const width = 480;
const height = 360;
const faceBox: Box = [180, 110, 120, 140];
const probe = pictureProbe('png', width, height);

async function analyse(pixels: Float32Array[], faced = true) {
  const frames = pixels.map((p, index) => greyFrame(p, width, { index, timeSeconds: index, windowId: null }));
  const faces = oneTrack(faced ? frames.map((frame) => boxFace(frame, faceBox)) : []);
  const context = detectorContext({
    input: 'unused',
    probe,
    mediaTools: undefined as never,
    frames: async () => sampleOf(frames),
    faces: async () => faces,
  });
  return createFaceNoiseMismatchDetector().analyze(context);
}

describe('face-noise-mismatch', () => {
  it('scores the ratio: equal noise is clean, a much smoother face is strong, a noisier one is not scored', () => {
    expect(noiseRatioScore(1)).toBe(0);
    expect(noiseRatioScore(1.5)).toBe(0);
    expect(noiseRatioScore(0.6)).toBeGreaterThanOrEqual(0.7);
    expect(noiseRatioScore(0.5)).toBe(1);
    expect(noiseRatioScore(0.84)).toBeLessThan(0.3);
    expect(noiseRatioScore(0.8)).toBeGreaterThan(0.3);
    // Authentic eval faces read 0.92–1.16 on originals and down to 0.66 on JPEG q75 or halved stills: never strong.
    expect(noiseRatioScore(0.66)).toBeLessThan(0.7);
    expect(noiseRatioScore(0.95)).toBeLessThan(0.1);
    // Monotone: a smoother face never scores lower.
    const ratios = Array.from({ length: 60 }, (_, i) => 1 - i / 100);
    const scores = ratios.map(noiseRatioScore);
    expect(scores).toEqual([...scores].sort((a, b) => a - b));
    expect(noiseRatioScore(3.2)).toBe(0);
  });

  it('finds nothing when the face carries the same camera noise as the frame', async () => {
    const finding = await analyse([1, 2, 3].map((seed) => sceneFrame(width, height, { sigma: 5, seed })));
    expect(finding.score).toBeLessThan(0.3);
    expect(finding.measurements.noiseRatio).toBeGreaterThan(0.85);
    expect(finding.coverage.fraction).toBe(1);
  });

  it('flags a face smoothed after the noise was there (resampled, denoised or rendered)', async () => {
    const finding = await analyse(
      [1, 2, 3].map((seed) => blurEllipse(sceneFrame(width, height, { sigma: 5, seed }), width, faceBox)),
    );
    expect(finding.score).toBeGreaterThanOrEqual(0.7);
    expect(finding.measurements.noiseRatio).toBeLessThan(0.6);
    expect(finding.evidence[0]!.summary).toMatch(
      /noise inside the face is 0\.\d+× the noise of like blocks around it/,
    );
    expect(finding.artifacts?.map((artifact) => artifact.name)).toEqual(['noise-timeline.json']);
  });

  it('says not applicable when no face was found', async () => {
    const finding = await analyse([sceneFrame(width, height, { sigma: 5, seed: 1 })], false);
    expect(finding.score).toBeNull();
    expect(finding.notApplicableReason).toBe('no face found in 0 sampled frames');
  });
});
