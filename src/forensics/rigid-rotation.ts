export type Point3 = readonly [number, number, number];
/** Unit quaternion [w, x, y, z]. */
export type Quaternion = [number, number, number, number];

/** Points moved so that their centroid is the origin. */
export function centred(points: readonly Point3[]): Point3[] {
  const n = points.length;
  const mean = [0, 1, 2].map((axis) => points.reduce((sum, point) => sum + point[axis]!, 0) / n);
  return points.map(([x, y, z]) => [x - mean[0]!, y - mean[1]!, z - mean[2]!]);
}

/** Root mean square distance of centred points from the origin. */
export function rmsSize(points: readonly Point3[]): number {
  return Math.sqrt(points.reduce((sum, [x, y, z]) => sum + x * x + y * y + z * z, 0) / points.length);
}

/**
 * The rotation that best carries centred `from` onto centred `to` in least squares (Horn 1987: the top
 * eigenvector of a 4×4 symmetric matrix built from the cross-covariance), as a unit quaternion.
 */
export function bestRotation(from: readonly Point3[], to: readonly Point3[]): Quaternion {
  if (from.length !== to.length || from.length < 3) throw new Error('rotation needs ≥ 3 paired points');
  const s = Array.from({ length: 3 }, () => [0, 0, 0]);
  for (let i = 0; i < from.length; i++)
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) s[a]![b]! += from[i]![a]! * to[i]![b]!;
  const [[xx, xy, xz], [yx, yy, yz], [zx, zy, zz]] = s as [number[], number[], number[]];
  const n = [
    [xx! + yy! + zz!, yz! - zy!, zx! - xz!, xy! - yx!],
    [yz! - zy!, xx! - yy! - zz!, xy! + yx!, zx! + xz!],
    [zx! - xz!, xy! + yx!, -xx! + yy! - zz!, yz! + zy!],
    [xy! - yx!, zx! + xz!, yz! + zy!, -xx! - yy! + zz!],
  ];
  const q = topEigenvector(n) as Quaternion;
  return q[0] < 0 ? (q.map((v) => -v) as Quaternion) : q;
}

/** Angle in radians of the rotation that takes one orientation to the other. */
export function rotationAngle(a: Quaternion, b: Quaternion): number {
  const dot = Math.abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]);
  return 2 * Math.acos(Math.min(1, dot));
}

export function rotate([w, x, y, z]: Quaternion, [px, py, pz]: Point3): Point3 {
  // v' = v + 2w(q×v) + 2q×(q×v)
  const cx = y * pz - z * py;
  const cy = z * px - x * pz;
  const cz = x * py - y * px;
  return [
    px + 2 * (w * cx + y * cz - z * cy),
    py + 2 * (w * cy + z * cx - x * cz),
    pz + 2 * (w * cz + x * cy - y * cx),
  ];
}

/** Cyclic Jacobi on a symmetric 4×4 matrix: eigenvector of the largest eigenvalue, unit length. */
function topEigenvector(matrix: number[][]): number[] {
  const a = matrix.map((row) => [...row]);
  const v: number[][] = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p]![q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        const apq = a[p]![q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let top = 0;
  for (let i = 1; i < 4; i++) if (a[i]![i]! > a[top]![top]!) top = i;
  const vector = v.map((row) => row[top]!);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}
