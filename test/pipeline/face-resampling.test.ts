import { describe, expect, it } from 'vitest';
import type { Box } from '../../src/faces/face-types.js';
import type { MediaProbe } from '../../src/media/media-probe.js';
import {
  createFaceResamplingDetector,
  falloffScore,
  periodicScore,
} from '../../src/pipeline/detectors/face-resampling.detector.js';
import { detectorContext } from '../helpers/detector-context.js';
import { boxFace, greyFrame, oneTrack, sampleOf, sceneFrame } from '../helpers/synthetic-frames.js';

const width = 480;
const height = 360;
const faceBox: Box = [180, 110, 120, 140];
const probeOf = (codecName: string) =>
  ({
    formatName: 'image2',
    streams: [{ index: 0, type: 'video', codecName, width, height }],
  }) as unknown as MediaProbe;

/**
 * The face's ellipse replaced by the same pixels shrunk by `factor` (area average) and enlarged back
 * bilinearly, after the noise was there: the eval's face-resample without the feather.
 */
function resampleFace(pixels: Float32Array, box: Box, factor: number): Float32Array {
  const [bx, by, bw, bh] = box;
  const small = { w: Math.round(bw * factor), h: Math.round(bh * factor) };
  const shrunk = new Float32Array(small.w * small.h);
  const step = 1 / factor;
  for (let y = 0; y < small.h; y++)
    for (let x = 0; x < small.w; x++) {
      let sum = 0;
      let count = 0;
      for (let sy = Math.floor(y * step); sy < Math.floor((y + 1) * step); sy++)
        for (let sx = Math.floor(x * step); sx < Math.floor((x + 1) * step); sx++, count++)
          sum += pixels[(by + sy) * width + bx + sx]!;
      shrunk[y * small.w + x] = sum / count;
    }
  const at = (x: number, y: number) =>
    shrunk[Math.min(small.h - 1, Math.max(0, y)) * small.w + Math.min(small.w - 1, Math.max(0, x))]!;
  const out = Float32Array.from(pixels);
  for (let y = 0; y < bh; y++)
    for (let x = 0; x < bw; x++) {
      const nx = (x + 0.5 - bw / 2) / (bw / 2);
      const ny = (y + 0.5 - bh / 2) / (bh / 2);
      if (nx * nx + ny * ny > 1) continue;
      const sx = (x + 0.5) * (small.w / bw) - 0.5;
      const sy = (y + 0.5) * (small.h / bh) - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      out[(by + y) * width + bx + x] =
        (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
        fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
  return out;
}

async function analyse(pixels: Float32Array[], options: { faced?: boolean; codec?: string } = {}) {
  const frames = pixels.map((p, index) => greyFrame(p, width, { index, timeSeconds: index, windowId: null }));
  const faces = oneTrack(options.faced === false ? [] : frames.map((frame) => boxFace(frame, faceBox)));
  const context = detectorContext({
    input: 'unused',
    probe: probeOf(options.codec ?? 'png'),
    mediaTools: undefined as never,
    frames: async () => sampleOf(frames),
    faces: async () => faces,
  });
  return createFaceResamplingDetector().analyze(context);
}

const scenes = (sigma: number) => [1, 2, 3].map((seed) => sceneFrame(width, height, { sigma, seed }));

describe('face-resampling', () => {
  it('maps the measurements to scores: authentic-range values are clean, far ones strong', () => {
    expect(periodicScore(0.2)).toBe(0);
    expect(periodicScore(1.15)).toBeGreaterThanOrEqual(0.7);
    expect(falloffScore(1)).toBe(0);
    expect(falloffScore(1.97)).toBeLessThan(0.3);
    expect(falloffScore(2.5)).toBeGreaterThan(falloffScore(2.2));
    // Missing fine detail alone never decides (it depends on the background): capped below strong.
    expect(falloffScore(2.9)).toBeGreaterThan(0.3);
    expect(falloffScore(5)).toBe(0.6);
  });

  it('finds nothing when the face carries the same camera noise as the frame', async () => {
    const finding = await analyse(scenes(4));
    expect(finding.score).toBeLessThan(0.3);
    expect(finding.measurements.periodicExcess).toBeLessThan(0.8);
    expect(finding.measurements.falloffDeficit).toBeLessThan(1);
    expect(finding.coverage.fraction).toBe(1);
  });

  it('flags a face shrunk to half size and enlarged back after the noise was there', async () => {
    const finding = await analyse(scenes(4).map((p) => resampleFace(p, faceBox, 0.5)));
    expect(finding.score).toBeGreaterThanOrEqual(0.7);
    expect(finding.measurements.periodicScore).toBeGreaterThanOrEqual(0.7);
    expect(finding.measurements.falloffDeficit).toBeGreaterThan(1.5);
    expect(finding.evidence[0]!.summary).toMatch(/repeats every 2 px/);
    expect(finding.artifacts?.map((artifact) => artifact.name)).toEqual([
      'radial-spectra.json',
      'face-pmap-spectrum.pgm',
    ]);
    expect(finding.artifacts![1]!.data.subarray(0, 3).toString()).toBe('P5\n');
  });

  it('searches block-coded media off the 8×8 grid; a face enlarged from 0.35× still shows (inconclusive) by its missing fine detail', async () => {
    const finding = await analyse(
      scenes(4).map((p) => resampleFace(p, faceBox, 0.35)),
      { codec: 'h264' },
    );
    expect(finding.measurements.blockGridExcluded).toBe(true);
    expect(finding.measurements.falloffScore).toBeGreaterThanOrEqual(0.3);
    expect(finding.score).toBeGreaterThanOrEqual(0.3);
    expect(finding.score).toBeLessThan(0.7);
  });

  it('says not applicable when no face was found', async () => {
    const finding = await analyse([sceneFrame(width, height, { sigma: 4, seed: 1 })], { faced: false });
    expect(finding.score).toBeNull();
    expect(finding.notApplicableReason).toBe('no face found in 0 sampled frames');
  });
});
