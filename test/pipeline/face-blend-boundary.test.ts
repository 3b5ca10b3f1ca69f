import { describe, expect, it } from 'vitest';
import type { Box } from '../../src/faces/face-types.js';
import {
  createFaceBlendBoundaryDetector,
  residualStepScore,
} from '../../src/pipeline/detectors/face-blend-boundary.detector.js';
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
const faceBox: Box = [180, 100, 120, 150];
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
  return createFaceBlendBoundaryDetector().analyze(context);
}

/** Normalised radius of a pixel in the ellipse inscribed in the face box. */
function faceRadius(i: number): number {
  const [bx, by, bw, bh] = faceBox;
  const x = ((i % width) + 0.5 - (bx + bw / 2)) / (bw / 2);
  const y = (Math.floor(i / width) + 0.5 - (by + bh / 2)) / (bh / 2);
  return Math.hypot(x, y);
}

/** A face lit brighter than its surroundings (a natural edge on the oval), with the same camera noise. */
function brightFace(seed: number): Float32Array {
  return sceneFrame(width, height, { sigma: 5, seed }).map(
    (value, i) => value + (faceRadius(i) < 1 ? 40 : 0),
  );
}

/** The frame's face replaced by a smoothed copy of itself, blended with a feathered ellipse ending at `edge`. */
function pastedSmoothFace(seed: number, edge = 0.95, feather = 0.25): Float32Array {
  const noisy = sceneFrame(width, height, { sigma: 5, seed });
  let smooth = noisy;
  const wide: Box = [faceBox[0] - 10, faceBox[1] - 10, faceBox[2] + 20, faceBox[3] + 20];
  for (let pass = 0; pass < 3; pass++) smooth = blurEllipse(smooth, width, wide);
  return noisy.map((value, i) => {
    const t = Math.min(1, Math.max(0, (edge - faceRadius(i)) / feather));
    const weight = t * t * (3 - 2 * t);
    return value * (1 - weight) + smooth[i]! * weight;
  });
}

describe('face-blend-boundary', () => {
  it('scores the residual step: none is clean, a doubling of the residual across the ring is strong', () => {
    expect(residualStepScore(0)).toBe(0);
    expect(residualStepScore(0.1)).toBe(0);
    // The highest authentic step measured (a JPEG q90 still) stays low; twice the residual outside is strong.
    expect(residualStepScore(0.36)).toBeLessThan(0.3);
    expect(residualStepScore(Math.log(2))).toBeGreaterThan(0.75);
  });

  it('finds no seam around a face with the same camera noise as its frame, bright edge or not', async () => {
    for (const frames of [
      [1, 2, 3].map((seed) => sceneFrame(width, height, { sigma: 5, seed })),
      [4, 5, 6].map(brightFace),
    ]) {
      const finding = await analyse(frames);
      expect(finding.score).toBeLessThan(0.3);
      expect(finding.measurements.residualStep).toBeLessThan(0.1);
      expect(finding.coverage.fraction).toBe(1);
    }
  });

  it('flags a smoothed face blended back with a feathered ellipse, at the seam', async () => {
    const finding = await analyse([1, 2, 3].map((seed) => pastedSmoothFace(seed)));
    expect(finding.score).toBeGreaterThanOrEqual(0.7);
    expect(finding.measurements.boundaryRadius).toBeGreaterThan(0.65);
    expect(finding.measurements.boundaryRadius).toBeLessThan(1.05);
    expect(finding.perFrame).toHaveLength(3);
    expect(finding.evidence[0]!.summary).toMatch(
      /the noise residual outside is at least \d+(\.\d+)?× the residual inside/,
    );
    expect(finding.artifacts?.map((artifact) => artifact.name)).toEqual(['boundary-profile.json']);
  });

  it('abstains when the face sits at the frame edge with no ring around it to trace', async () => {
    const frames = [sceneFrame(width, height, { sigma: 5, seed: 1 })].map((p, index) =>
      greyFrame(p, width, { index, timeSeconds: index, windowId: null }),
    );
    const context = detectorContext({
      input: 'unused',
      probe,
      mediaTools: undefined as never,
      frames: async () => sampleOf(frames),
      faces: async () => oneTrack([boxFace(frames[0]!, [-400, -300, 420, 320])]),
    });
    const finding = await createFaceBlendBoundaryDetector().analyze(context);
    expect(finding.score).toBeNull();
    expect(finding.abstainReason).toMatch(/no face had enough of its surroundings/);
  });

  it('says not applicable when no face was found', async () => {
    const finding = await analyse([sceneFrame(width, height, { sigma: 5, seed: 1 })], false);
    expect(finding.score).toBeNull();
    expect(finding.notApplicableReason).toBe('no face found in 0 sampled frames');
  });
});
