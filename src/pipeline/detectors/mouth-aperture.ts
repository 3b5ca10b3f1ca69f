import type { FaceObservation, FaceTrack } from '../../faces/face-types.js';
import type { DenseWindow } from '../frames/frame-sample.js';

/** MediaPipe FaceMesh points: inner upper and lower lip at the middle, outer eye corners. */
const innerUpperLip = 13;
const innerLowerLip = 14;
const rightEyeOuter = 33;
const leftEyeOuter = 263;

/**
 * Gap between the inner lips over the distance between the outer eye corners: a mouth opening that does
 * not change with the face's size in the picture, nor with the jaw (the eyes do not move when it drops).
 */
export function mouthAperture(face: FaceObservation): number | null {
  const [upper, lower, right, left] = [innerUpperLip, innerLowerLip, rightEyeOuter, leftEyeOuter].map(
    (index) => face.mesh[index],
  );
  if (!upper || !lower || !right || !left) return null;
  const eyes = Math.hypot(left[0] - right[0], left[1] - right[1]);
  if (!(eyes > 0)) return null;
  return Math.hypot(lower[0] - upper[0], lower[1] - upper[1]) / eyes;
}

export interface ApertureWindow {
  windowId: number;
  times: number[];
  /** Per window frame; null where the track has no mesh in that frame. */
  apertures: (number | null)[];
}

/** The track's mouth aperture on every frame of each dense window. */
export function apertureWindows(
  track: FaceTrack,
  windows: readonly DenseWindow[],
  frameTime: (frameIndex: number) => number,
): ApertureWindow[] {
  const byFrame = new Map(track.observations.map((face) => [face.frameIndex, face]));
  return windows.map((window) => ({
    windowId: window.id,
    times: window.frameIndexes.map(frameTime),
    apertures: window.frameIndexes.map((index) => {
      const face = byFrame.get(index);
      return face ? mouthAperture(face) : null;
    }),
  }));
}

/** Spread of the mouth opening: 90th minus 10th percentile of the measured apertures (0 with fewer than 3). */
export function apertureSpread(windows: readonly ApertureWindow[]): number {
  const values = windows
    .flatMap((window) => window.apertures)
    .filter((value): value is number => value !== null)
    .sort((a, b) => a - b);
  if (values.length < 3) return 0;
  const at = (share: number) => values[Math.round(share * (values.length - 1))]!;
  return at(0.9) - at(0.1);
}
