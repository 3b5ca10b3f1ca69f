import { describe, expect, it } from 'vitest';
import { blockNoise, matchedNoiseRatio, noiseFloor } from '../../src/forensics/noise-level.js';
import { sceneFrame } from '../helpers/synthetic-frames.js';

const width = 320;
const height = 240;
const everywhere = () => true;

describe('blockNoise / noiseFloor', () => {
  it.each([2, 5, 10])('recovers Gaussian noise of σ=%i over a textured scene within 15%%', (sigma) => {
    const data = sceneFrame(width, height, { sigma, seed: sigma });
    const floor = noiseFloor(blockNoise({ width, height, data }, everywhere));
    expect(floor).not.toBeNull();
    expect(Math.abs((floor as number) - sigma) / sigma).toBeLessThan(0.15);
  });

  it('reads a noiseless smooth scene as nearly clean', () => {
    const data = sceneFrame(width, height, { sigma: 0, seed: 1 });
    expect(noiseFloor(blockNoise({ width, height, data }, everywhere))).toBeLessThan(0.3);
  });

  it('measures only the blocks the region accepts, and needs at least six', () => {
    const data = sceneFrame(width, height, { sigma: 4, seed: 3 });
    const blocks = blockNoise({ width, height, data }, (x, y) => x < 40 && y < 24);
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.every((block) => block.x < 40 && block.y < 24)).toBe(true);
    expect(noiseFloor(blocks.slice(0, 5))).toBeNull();
  });
});

describe('matchedNoiseRatio', () => {
  /** Left half flat grey, right half a coarse texture (period 24 px); noise σ per half, seeded. */
  function halves(flatSigma: number, texturedSigma: number, seed: number): Float32Array {
    const data = new Float32Array(width * height);
    let state = seed;
    const gaussian = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      const u = (state + 1) / 2147483649;
      state = (state * 1103515245 + 12345) % 2147483648;
      const v = state / 2147483648;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const textured = x >= width / 2;
        const base = textured
          ? 120 + 40 * Math.sin((2 * Math.PI * x) / 24) * Math.sin((2 * Math.PI * y) / 24)
          : 120;
        data[y * width + x] = base + gaussian() * (textured ? texturedSigma : flatSigma);
      }
    }
    return data;
  }

  it('compares like texture with like: an encoder that wiped flat areas does not make a textured face look noisy', () => {
    // Reference: flat part nearly clean (wiped by the encoder), textured part with the camera's σ 2.
    const reference = blockNoise({ width, height, data: halves(0.2, 2, 7) }, everywhere);
    // Face: textured, with the same σ 2.
    const face = blockNoise({ width, height, data: halves(2, 2, 11) }, (x) => x >= width / 2);
    const matched = matchedNoiseRatio(face, reference)!;
    expect(matched.matching).not.toBe('none');
    expect(matched.ratio).toBeGreaterThan(0.85);
    expect(matched.ratio).toBeLessThan(1.2);
    // Unmatched, the floors alone would call the face several times noisier.
    expect(matched.inside / matched.around).toBeGreaterThan(3);
  });

  it('finds a textured face with a third of the noise of like blocks around it', () => {
    const reference = blockNoise({ width, height, data: halves(0.2, 3, 5) }, everywhere);
    const face = blockNoise({ width, height, data: halves(1, 1, 9) }, (x) => x >= width / 2);
    const matched = matchedNoiseRatio(face, reference)!;
    expect(matched.ratio).toBeGreaterThan(0.25);
    expect(matched.ratio).toBeLessThan(0.45);
  });
});
