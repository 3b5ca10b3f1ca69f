/** Box in frame pixels: left, top, width, height. */
export type Box = [x: number, y: number, width: number, height: number];

/** One face found in one sampled frame. */
export interface FaceObservation {
  frameIndex: number;
  timeSeconds: number;
  box: Box;
  /** Detector confidence 0–1. */
  score: number;
  /** 468 mesh points (MediaPipe FaceMesh order) [x, y, z] in frame pixels (z relative depth); empty without a mesh. */
  mesh: [number, number, number][];
  /** Head pose in radians. */
  rotation: { pitch: number; yaw: number; roll: number } | null;
  /** Face embedding (identity descriptor), unit length; empty when not computed. */
  embedding: number[];
}

export interface FaceTrack {
  id: number;
  observations: FaceObservation[];
  /** Median of the box's shorter side, in frame pixels. */
  sizePixels: number;
  /** False when the face is below the minimum size: it is listed but no face detector reads it. */
  analysed: boolean;
  reason?: string;
}

export interface FaceAnalysis {
  tracks: FaceTrack[];
  framesSearched: number;
  /** Faces whose box's shorter side is below this many pixels are reported as too small. */
  minFaceSizePixels: number;
  /** Face model versions and hashes, for the report. */
  models: Record<string, string>;
}

/** Mesh indexes of the face oval (MediaPipe FaceMesh FACEMESH_FACE_OVAL), in order around the face. */
export const faceOvalIndexes = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149,
  150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
] as const;
