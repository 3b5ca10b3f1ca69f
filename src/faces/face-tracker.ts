import type { Box, FaceObservation, FaceTrack } from './face-types.js';

/** Overlap needed to continue a track between frames, or identity similarity when the face moved a lot. */
const minOverlap = 0.3;
const minIdentitySimilarity = 0.6;

/**
 * Links per-frame faces (frames in time order) into tracks: each face joins the track whose latest face
 * overlaps it most, or, across far-apart sweep frames, whose embedding is most similar; otherwise it starts
 * a new track. Greedy and deterministic.
 */
export function trackFaces(perFrame: FaceObservation[][], minFaceSizePixels: number): FaceTrack[] {
  const tracks: { id: number; observations: FaceObservation[] }[] = [];
  for (const faces of perFrame) {
    const taken = new Set<number>();
    const candidates = faces
      .flatMap((face, faceIndex) =>
        tracks.map((track, trackIndex) => ({
          faceIndex,
          trackIndex,
          affinity: affinity(track.observations[track.observations.length - 1]!, face),
        })),
      )
      .filter((pair) => pair.affinity > 0)
      .sort((a, b) => b.affinity - a.affinity);
    const assigned = new Map<number, number>();
    for (const pair of candidates) {
      if (assigned.has(pair.faceIndex) || taken.has(pair.trackIndex)) continue;
      assigned.set(pair.faceIndex, pair.trackIndex);
      taken.add(pair.trackIndex);
    }
    faces.forEach((face, faceIndex) => {
      const trackIndex = assigned.get(faceIndex);
      if (trackIndex === undefined) tracks.push({ id: tracks.length + 1, observations: [face] });
      else tracks[trackIndex]!.observations.push(face);
    });
  }
  return tracks.map((track) => {
    const sizePixels = median(track.observations.map((face) => Math.min(face.box[2], face.box[3])));
    const analysed = sizePixels >= minFaceSizePixels;
    return {
      ...track,
      sizePixels: Math.round(sizePixels),
      analysed,
      ...(analysed
        ? {}
        : { reason: `too small: ${Math.round(sizePixels)} px, below the ${minFaceSizePixels} px minimum` }),
    };
  });
}

function affinity(previous: FaceObservation, next: FaceObservation): number {
  const overlap = intersectionOverUnion(previous.box, next.box);
  const similarity = cosine(previous.embedding, next.embedding);
  if (overlap >= minOverlap) return 1 + overlap + Math.max(0, similarity);
  return similarity >= minIdentitySimilarity ? similarity : 0;
}

export function intersectionOverUnion(a: Box, b: Box): number {
  const width = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const height = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  return intersection / (a[2] * a[3] + b[2] * b[3] - intersection);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
