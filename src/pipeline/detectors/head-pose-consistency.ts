import type { FaceObservation } from '../../faces/face-types.js';
import {
  bestRotation,
  centred,
  rmsSize,
  rotate,
  rotationAngle,
  type Point3,
  type Quaternion,
} from '../../forensics/rigid-rotation.js';
import { median } from './face-evidence.js';

/**
 * The central face a swap replaces (Yang et al. 2019): eye corners, nose bridge and base, mouth corners
 * and upper lip; lids and lower lip are left out because they move on their own.
 */
export const centralFaceIndexes = [33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 2, 98, 327, 61, 291, 0];

/** The outer contour a swap keeps from the target head: the face oval from temple to temple over the forehead and cheeks, without the jaw (it drops when the mouth opens). */
export const outerFaceIndexes = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 109, 67, 103, 54, 21, 162, 127, 234, 93, 132,
];

/** FaceMesh depth is in the mesh model's 192 px input; its crop is about twice the face, so this maps it to frame pixels. */
const meshInputPixels = 192;
const cropToFace = 2;

/** The mesh as 3D points in frame pixels, centred and scaled to unit RMS size. */
export function normalisedMesh(face: FaceObservation): Point3[] {
  const ys = face.mesh.map((point) => point[1]);
  const faceHeight = Math.max(...ys) - Math.min(...ys);
  const depthScale = (cropToFace * faceHeight) / meshInputPixels;
  const points = centred(face.mesh.map(([x, y, z]) => [x, y, z * depthScale] as Point3));
  const size = rmsSize(points);
  return points.map(([x, y, z]) => [x / size, y / size, z / size]);
}

/** The track's mean shape (generalised Procrustes: each mesh rotated onto the running mean, three rounds). */
export function meanShape(meshes: readonly Point3[][]): Point3[] {
  let reference = meshes[0]!;
  for (let round = 0; round < 3; round++) {
    const sum = reference.map(() => [0, 0, 0]);
    for (const mesh of meshes) {
      const q = bestRotation(mesh, reference);
      mesh.forEach((point, i) => {
        const [x, y, z] = rotate(q, point);
        sum[i]![0]! += x;
        sum[i]![1]! += y;
        sum[i]![2]! += z;
      });
    }
    const mean = centred(sum.map(([x, y, z]) => [x!, y!, z!] as Point3));
    const size = rmsSize(mean);
    reference = mean.map(([x, y, z]) => [x / size, y / size, z / size]);
  }
  return reference;
}

const pick = (points: readonly Point3[], indexes: readonly number[]) =>
  centred(indexes.map((index) => points[index]!));

export interface PoseReading {
  frameIndex: number;
  timeSeconds: number;
  windowId: number | null;
  /** Orientation of the central face and of the outer contour against the track's mean shape. */
  central: Quaternion;
  outer: Quaternion;
  /** How far the outer contour is turned from the track's mean pose, degrees. */
  turnDegrees: number;
  /** Angle between the two, degrees. */
  disagreementDegrees: number;
}

/** Per face: the pose of its central landmarks and of its outer contour, each against the track's mean shape. */
export function poseReadings(
  faces: readonly FaceObservation[],
  windowOf: (frameIndex: number) => number | null,
): PoseReading[] {
  const meshes = faces.map(normalisedMesh);
  const reference = meanShape(meshes);
  const referenceCentral = pick(reference, centralFaceIndexes);
  const referenceOuter = pick(reference, outerFaceIndexes);
  const poses = meshes.map((mesh) => ({
    central: bestRotation(referenceCentral, pick(mesh, centralFaceIndexes)),
    outer: bestRotation(referenceOuter, pick(mesh, outerFaceIndexes)),
  }));
  const usual = meanOrientation(poses.map((pose) => pose.outer));
  return faces.map((face, i) => {
    const { central, outer } = poses[i]!;
    return {
      frameIndex: face.frameIndex,
      timeSeconds: face.timeSeconds,
      windowId: windowOf(face.frameIndex),
      central,
      outer,
      turnDegrees: degrees(rotationAngle(outer, usual)),
      disagreementDegrees: degrees(rotationAngle(central, outer)),
    };
  });
}

/** Normalised sum of quaternions on one hemisphere: the mean of orientations that lie close together. */
function meanOrientation(orientations: readonly Quaternion[]): Quaternion {
  const sum: Quaternion = [0, 0, 0, 0];
  for (const q of orientations) {
    const sign =
      q[0] * orientations[0]![0] +
        q[1] * orientations[0]![1] +
        q[2] * orientations[0]![2] +
        q[3] * orientations[0]![3] <
      0
        ? -1
        : 1;
    for (let k = 0; k < 4; k++) sum[k]! += sign * q[k]!;
  }
  const norm = Math.hypot(...sum);
  return sum.map((value) => value / norm) as Quaternion;
}

/** Eye corners and nose: the part of the central face that moves rigidly with the skull (the mouth talks). */
export const rigidCentralIndexes = [33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 2, 98, 327];

/**
 * Over consecutive frames of the dense windows: how far the central face moves against the outer contour
 * from one frame to the next (% of the face size, median over pairs). On a real head the two move as one;
 * a face re-rendered or warped per frame slides about inside its contour.
 */
export function centralDrift(
  runs: readonly (readonly FaceObservation[])[],
  faceSizePixels: number,
): { percent: number; pairs: number } | null {
  const offset = (face: FaceObservation) => {
    const [cx, cy] = centroid2d(face.mesh, rigidCentralIndexes);
    const [ox, oy] = centroid2d(face.mesh, outerFaceIndexes);
    return [cx - ox, cy - oy] as const;
  };
  const steps: number[] = [];
  for (const run of runs) {
    for (let i = 1; i < run.length; i++) {
      const [ax, ay] = offset(run[i - 1]!);
      const [bx, by] = offset(run[i]!);
      steps.push((100 * Math.hypot(bx - ax, by - ay)) / faceSizePixels);
    }
  }
  return steps.length >= 4 ? { percent: median(steps), pairs: steps.length } : null;
}

function centroid2d(mesh: FaceObservation['mesh'], indexes: readonly number[]): [number, number] {
  let x = 0;
  let y = 0;
  for (const index of indexes) {
    x += mesh[index]![0];
    y += mesh[index]![1];
  }
  return [x / indexes.length, y / indexes.length];
}

const degrees = (radians: number) => (radians * 180) / Math.PI;
