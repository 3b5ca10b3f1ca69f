import { describe, expect, it } from 'vitest';
import {
  bestRotation,
  centred,
  rotate,
  rotationAngle,
  type Point3,
  type Quaternion,
} from '../../src/forensics/rigid-rotation.js';
import { gaussian, seededRandom } from '../helpers/synthetic-frames.js';

function axisAngle(axis: Point3, degrees: number): Quaternion {
  const half = (degrees * Math.PI) / 360;
  const norm = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => (v / norm) * Math.sin(half));
  return [Math.cos(half), x!, y!, z!];
}

const random = seededRandom(3);
const cloud = centred(
  Array.from({ length: 40 }, () => [gaussian(random), gaussian(random), 0.5 * gaussian(random)] as Point3),
);

describe('rigid rotation', () => {
  it('recovers a known rotation of a point cloud', () => {
    const truth = axisAngle([0.2, 1, 0.1], 23);
    const moved = cloud.map((point) => rotate(truth, point));
    const found = bestRotation(cloud, moved);
    expect((rotationAngle(found, [1, 0, 0, 0]) * 180) / Math.PI).toBeCloseTo(23, 6);
    expect(rotationAngle(found, truth)).toBeLessThan(1e-9);
  });

  it('measures the angle between two orientations', () => {
    expect((rotationAngle(axisAngle([0, 1, 0], 10), axisAngle([0, 1, 0], -5)) * 180) / Math.PI).toBeCloseTo(
      15,
      9,
    );
  });

  it('finds the identity for unmoved points, and stays close under small noise', () => {
    expect(rotationAngle(bestRotation(cloud, cloud), [1, 0, 0, 0])).toBeLessThan(1e-7);
    const noisy = cloud.map(([x, y, z]) => [x + 0.01 * gaussian(random), y, z] as Point3);
    expect((rotationAngle(bestRotation(cloud, noisy), [1, 0, 0, 0]) * 180) / Math.PI).toBeLessThan(1);
  });
});
