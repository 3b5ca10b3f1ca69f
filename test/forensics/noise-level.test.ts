import { describe, expect, it } from 'vitest';
import { blockNoise, noiseFloor } from '../../src/forensics/noise-level.js';
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
