import { describe, expect, it } from 'vitest';
import type { Box } from '../../src/faces/face-types.js';
import { concentricStep, outlinePolar, ringProfile } from '../../src/forensics/boundary-ring.js';
import { boxEllipse } from '../../src/forensics/regions.js';
import { gaussian, greyFrame, sceneFrame, seededRandom } from '../helpers/synthetic-frames.js';

const width = 400;
const height = 400;
const faceBox: Box = [130, 110, 140, 180];
const outline = boxEllipse(faceBox);
const search = { from: 0.55, to: 1.15, window: 0.2 };

/** The scene with camera noise everywhere except a pasted clean ellipse of `radius` (in outline units), feathered. */
function pastedSmoothEllipse(seed: number, radius: number, feather: number): Float32Array {
  const clean = sceneFrame(width, height, { sigma: 0, seed });
  const random = seededRandom(seed);
  const [bx, by, bw, bh] = faceBox;
  return clean.map((value, i) => {
    const x = (i % width) + 0.5 - (bx + bw / 2);
    const y = Math.floor(i / width) + 0.5 - (by + bh / 2);
    const r = Math.hypot(x / (bw / 2), y / (bh / 2));
    const t = Math.min(1, Math.max(0, (radius - r) / feather));
    const pasted = t * t * (3 - 2 * t);
    return value + (1 - pasted) * 5 * gaussian(random);
  });
}

const frameOf = (pixels: Float32Array) =>
  greyFrame(pixels, width, { index: 0, timeSeconds: 0, windowId: null });

describe('outlinePolar', () => {
  it('gives the ellipse radius at each angle, wrapping around ±π', () => {
    const polar = outlinePolar(boxEllipse([0, 0, 200, 100], 72));
    expect(polar.centre[0]).toBeCloseTo(100, 5);
    expect(polar.radiusAt(0)).toBeCloseTo(100, 0);
    expect(polar.radiusAt(Math.PI / 2)).toBeCloseTo(50, 0);
    expect(polar.radiusAt(Math.PI - 0.001)).toBeCloseTo(100, 0);
    expect(polar.radiusAt(-Math.PI + 0.001)).toBeCloseTo(100, 0);
  });
});

describe('ringProfile / concentricStep', () => {
  it('reads the camera noise level in every cell of a uniformly noisy frame', () => {
    const profile = ringProfile(frameOf(sceneFrame(width, height, { sigma: 5, seed: 3 })), outline);
    const cells = profile.cells.flat().filter((cell) => cell !== null);
    expect(cells.length).toBeGreaterThan(profile.cells.length * profile.radii.length * 0.9);
    // Small cells near the centre hold a few dozen pixels, so only the larger ones are held to 20%.
    for (const cell of cells.filter((c) => c.pixels >= 200))
      expect(Math.abs(cell.residual - 5) / 5).toBeLessThan(0.2);
  });

  it('finds no contour in a frame whose noise is the same everywhere', () => {
    for (const seed of [1, 2, 3]) {
      const found = concentricStep(
        ringProfile(frameOf(sceneFrame(width, height, { sigma: 5, seed })), outline),
        'residual',
        search,
      );
      expect(found).not.toBeNull();
      expect(Math.abs(found!.step)).toBeLessThan(0.15);
      expect(found!.agreement).toBeLessThan(0.3);
    }
  });

  it.each([
    [0.8, 0.2],
    [0.95, 0.25],
  ])(
    'finds the seam of a clean ellipse pasted at radius %f (feather %f) in every sector',
    (radius, feather) => {
      const found = concentricStep(
        ringProfile(frameOf(pastedSmoothEllipse(7, radius, feather)), outline),
        'residual',
        search,
      );
      expect(found).not.toBeNull();
      expect(found!.step).toBeGreaterThan(1);
      expect(found!.agreement).toBeGreaterThan(0.9);
      expect(found!.radius).toBeGreaterThan(radius - feather - 0.05);
      expect(found!.radius).toBeLessThan(radius + 0.1);
    },
  );
});
