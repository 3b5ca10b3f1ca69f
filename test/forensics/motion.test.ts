import { describe, expect, it } from 'vitest';
import { estimateShift } from '../../src/forensics/motion.js';
import { sceneFrame } from '../helpers/synthetic-frames.js';

const width = 200;
const height = 160;

describe('estimateShift', () => {
  it.each([
    [0, 0],
    [3, -2],
    [0.5, 0.25],
    [-1.4, 2.6],
  ])('recovers a shift of (%f, %f) px within 0.2 px despite noise', (dx, dy) => {
    const a = { width, height, data: sceneFrame(width, height, { sigma: 2, seed: 1 }) };
    const b = {
      width,
      height,
      data: sceneFrame(width, height, { sigma: 2, seed: 2, shiftX: dx, shiftY: dy }),
    };
    const shift = estimateShift(a, b, [60, 50, 80, 60], 6);
    expect(shift).not.toBeNull();
    expect(Math.abs(shift!.dx - dx)).toBeLessThan(0.2);
    expect(Math.abs(shift!.dy - dy)).toBeLessThan(0.2);
  });

  it('gives no answer for a region too small or out of frame', () => {
    const plane = { width, height, data: sceneFrame(width, height, { sigma: 0, seed: 1 }) };
    expect(estimateShift(plane, plane, [190, 150, 40, 40], 4)).toBeNull();
  });
});
