import type { FaceAnalysis, FaceObservation, FaceTrack } from '../../faces/face-types.js';
import type { FrameSample, SampledFrame } from '../frames/frame-sample.js';
import type { Applicability, Coverage, DetectorContext, DetectorFinding } from '../detector.js';
import { round } from './statistics.js';
import { primaryVideoStream } from './video-stream.js';

/** Face detectors apply to anything with a picture; whether a face is there is known only after decoding. */
export function pictureApplicability({ probe }: DetectorContext): Applicability {
  return primaryVideoStream(probe)
    ? { applicable: true }
    : { applicable: false, reason: 'the media has no picture' };
}

/** Face checks over time apply to video (not a cover picture); a still is told apart after decoding. */
export function videoApplicability({ probe }: DetectorContext): Applicability {
  return probe.streams.some((stream) => stream.type === 'video' && !stream.attachedPicture)
    ? { applicable: true }
    : { applicable: false, reason: 'the media has no video' };
}

export interface FaceInputs {
  sample: FrameSample;
  faces: FaceAnalysis;
  /** Tracks large enough to analyse. */
  analysed: FaceTrack[];
}

export async function faceInputs(context: DetectorContext): Promise<FaceInputs> {
  const sample = await context.frames();
  const faces = await context.faces();
  return { sample, faces, analysed: faces.tracks.filter((track) => track.analysed) };
}

/** Why a face detector has nothing to read, or null when it has. */
export function noFaceReason({ faces, analysed }: FaceInputs): string | null {
  if (faces.tracks.length === 0)
    return `no face found in ${faces.framesSearched} sampled frame${faces.framesSearched === 1 ? '' : 's'}`;
  if (analysed.length === 0)
    return `every face found is below the ${faces.minFaceSizePixels} px minimum size for analysis`;
  return null;
}

export function observationFrame(sample: FrameSample, face: FaceObservation): SampledFrame {
  const frame = sample.frames[face.frameIndex];
  if (!frame) throw new Error(`face observation points at missing frame ${face.frameIndex}`);
  return frame;
}

/**
 * Coverage of a face detector: of the sampled frames holding an analysed face, those in which it could
 * measure one.
 */
export function faceFrameCoverage(analysed: readonly FaceTrack[], measuredFrames: Set<number>): Coverage {
  const faceFrames = new Set(analysed.flatMap((track) => track.observations.map((face) => face.frameIndex)));
  const total = faceFrames.size;
  return {
    unit: 'sampled frames',
    analysed: measuredFrames.size,
    total,
    fraction: total ? round(measuredFrames.size / total) : 0,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const clamp01 = (value: number) => Math.min(1, Math.max(0, value));

export function jsonArtifact(name: string, description: string, value: unknown) {
  return {
    name,
    contentType: 'application/json',
    description,
    data: Buffer.from(JSON.stringify(value)),
  };
}

/** The finding of a face detector that found no face to read. */
export function notApplicable(reason: string): DetectorFinding {
  return {
    score: null,
    notApplicableReason: reason,
    coverage: { unit: 'sampled frames', analysed: 0, total: 0, fraction: 0 },
    evidence: [],
    explanation: `Not applicable: ${reason}.`,
    measurements: {},
  };
}

/** The finding of a detector that applies but could not measure. */
export function abstain(reason: string, coverage: Coverage): DetectorFinding {
  return {
    score: null,
    abstainReason: reason,
    coverage,
    evidence: [],
    explanation: `No score: ${reason}.`,
    measurements: {},
  };
}
