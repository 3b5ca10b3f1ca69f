import { cosine } from '../../faces/face-tracker.js';
import type { Box, FaceObservation, FaceTrack } from '../../faces/face-types.js';
import { faceOutline, polygonBox } from '../../forensics/face-regions.js';
import { lumaPlane, type Plane } from '../../forensics/luma.js';
import { estimateShift } from '../../forensics/motion.js';
import { scaleBox } from '../../forensics/regions.js';
import type { Detector, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
import type { FrameSample } from '../frames/frame-sample.js';
import {
  abstain,
  clamp01,
  faceInputs,
  jsonArtifact,
  median,
  noFaceReason,
  notApplicable,
  videoApplicability,
} from './face-evidence.js';
import { round } from './statistics.js';

/** Frame-to-frame wobble of the face against its surroundings (px) → score. */
export function jitterScore(roughnessPixels: number): number {
  return clamp01((roughnessPixels - 0.35) / 0.6);
}

/** Embedding similarity of a face to its own track below which identity is said to change. */
const identityChange = 0.45;

export function createFaceTemporalDetector(): Detector {
  return {
    id: 'face-temporal',
    version: '1.0.0',
    needs: ['frames', 'faces'],
    strength: 'standard',
    description:
      "Temporal consistency of each face over dense windows: the face's texture wobbling frame to frame against the frame around it (a face warped or pasted per frame), and the face embedding drifting along a track (a face swapped mid-video).",
    applicable: videoApplicability,
    analyze,
  };
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const inputs = await faceInputs(context);
  if (inputs.sample.plan.kind === 'image') return notApplicable('a still image has no motion');
  const noFace = noFaceReason(inputs);
  if (noFace) return notApplicable(noFace);
  if (inputs.sample.windows.length === 0)
    return abstain('the video is too short for a dense window of consecutive frames', {
      unit: 'frame pairs',
      analysed: 0,
      total: 0,
      fraction: 0,
    });
  // Pairs are visited in order, so only the last two luma planes are kept (each is 4 bytes a pixel).
  const planes = new Map<number, Plane>();
  const plane = (index: number) => {
    let cached = planes.get(index);
    if (!cached) {
      const frame = inputs.sample.frames[index]!;
      cached = lumaPlane(frame.data, frame.width, frame.height);
      for (const key of planes.keys()) if (key < index - 1) planes.delete(key);
      planes.set(index, cached);
    }
    return cached;
  };
  let pairsPossible = 0;
  const tracks = inputs.analysed.map((track) => {
    const motion = relativeMotion(track, inputs.sample, plane, context.signal);
    pairsPossible += motion.pairsPossible;
    const steps = differences(motion.shifts);
    const roughness = steps.length >= 4 ? median(steps.map((s) => s.size)) : null;
    return { track, motion, steps, roughness, identity: identityDrift(track) };
  });
  const measured = tracks.filter((t) => t.roughness !== null);
  const pairs = tracks.reduce((sum, t) => sum + t.motion.shifts.length, 0);
  const coverage = {
    unit: 'frame pairs',
    analysed: pairs,
    total: pairsPossible,
    fraction: pairsPossible ? round(pairs / pairsPossible) : 0,
  };
  if (measured.length === 0)
    return abstain('no face was seen in enough consecutive frames to follow its motion', coverage);
  const scored = measured.map((t) => ({
    ...t,
    score: Math.max(jitterScore(t.roughness as number), t.identity.changed ? 0.8 : 0),
  }));
  const worst = scored.reduce((a, b) => (b.score > a.score ? b : a));
  const evidence: Evidence[] = scored.flatMap(({ track, roughness, identity, motion }) => [
    {
      kind: 'face-jitter',
      summary: `face track ${track.id}: the face moves against its surroundings by ${round(roughness as number)} px from one frame to the next (median over ${motion.shifts.length} frame pairs; smooth motion stays under ~0.3 px)`,
      data: { track: track.id, roughnessPixels: round(roughness as number) },
    },
    ...(identity.changed
      ? [
          {
            kind: 'identity-drift',
            summary: `face track ${track.id}: at ${identity.at}s the face's embedding is only ${identity.lowest} similar to the rest of its track (a different person's face in the same place)`,
            timeSeconds: identity.at ?? undefined,
            data: { track: track.id, lowestSimilarity: identity.lowest },
          },
        ]
      : []),
  ]);
  return {
    score: round(worst.score),
    coverage,
    perFrame: worst.steps.map((s) => ({ timeSeconds: s.timeSeconds, score: round(jitterScore(s.size)) })),
    evidence,
    explanation: `Followed each face through ${inputs.sample.windows.length} dense window${inputs.sample.windows.length === 1 ? '' : 's'} of consecutive frames with sub-pixel block matching, measuring how its texture moves against the frame just around it, and compared its face embedding along the track. Worst track ${worst.track.id}: ${round(worst.roughness as number)} px of frame-to-frame wobble${worst.identity.lowest !== null ? `, lowest identity similarity ${worst.identity.lowest}` : ''}. Head turns and fast motion are followed; blur and heavy compression lower the precision. Blinks and lip sync are not scored here.`,
    measurements: {
      tracksMeasured: measured.length,
      worstTrack: worst.track.id,
      roughnessPixels: round(worst.roughness as number),
      lowestIdentitySimilarity: worst.identity.lowest,
      framePairs: pairs,
    },
    artifacts: [
      jsonArtifact(
        'face-motion.json',
        'Per face track and frame pair: face shift minus surroundings shift (px), and its frame-to-frame change.',
        scored.map(({ track, motion, steps }) => ({ track: track.id, shifts: motion.shifts, steps })),
      ),
    ],
  };
}

interface RelativeShift {
  timeSeconds: number;
  dx: number;
  dy: number;
}

/** Per consecutive pair in a dense window: how far the face moved beyond what its surroundings did. */
function relativeMotion(
  track: FaceTrack,
  sample: FrameSample,
  plane: (index: number) => Plane,
  signal: AbortSignal,
): { shifts: RelativeShift[]; pairsPossible: number } {
  const byFrame = new Map(track.observations.map((face) => [face.frameIndex, face]));
  const shifts: RelativeShift[] = [];
  let pairsPossible = 0;
  for (const window of sample.windows) {
    for (let i = 0; i + 1 < window.frameIndexes.length; i++) {
      const face = byFrame.get(window.frameIndexes[i]!);
      const next = byFrame.get(window.frameIndexes[i + 1]!);
      if (!face || !next) continue;
      pairsPossible++;
      signal.throwIfAborted();
      const shift = faceAgainstSurround(face, plane(face.frameIndex), plane(next.frameIndex));
      if (shift) shifts.push({ timeSeconds: face.timeSeconds, ...shift });
    }
  }
  return { shifts, pairsPossible };
}

function faceAgainstSurround(face: FaceObservation, a: Plane, b: Plane): { dx: number; dy: number } | null {
  const box = polygonBox(faceOutline(face));
  const maxShift = Math.max(4, Math.round(Math.min(box[2], box[3]) * 0.08));
  const inner = estimateShift(a, b, scaleBox(box, 0.6), maxShift);
  if (!inner) return null;
  const around = surroundStrips(box)
    .map((strip) => estimateShift(a, b, strip, maxShift))
    .filter((shift): shift is { dx: number; dy: number } => shift !== null);
  if (around.length < 2) return null;
  return {
    dx: round(inner.dx - median(around.map((s) => s.dx))),
    dy: round(inner.dy - median(around.map((s) => s.dy))),
  };
}

/** Four strips just outside the face box: the frame the face should move with. */
function surroundStrips([x, y, width, height]: Box): Box[] {
  return [
    [x - 0.6 * width, y, 0.5 * width, height],
    [x + 1.1 * width, y, 0.5 * width, height],
    [x, y - 0.6 * height, width, 0.5 * height],
    [x, y + 1.1 * height, width, 0.5 * height],
  ];
}

function differences(shifts: RelativeShift[]) {
  const steps: { timeSeconds: number; size: number }[] = [];
  for (let i = 1; i < shifts.length; i++) {
    const a = shifts[i - 1]!;
    const b = shifts[i]!;
    steps.push({ timeSeconds: b.timeSeconds, size: round(Math.hypot(b.dx - a.dx, b.dy - a.dy)) });
  }
  return steps;
}

/** Lowest similarity of any face in the track to the track's mean embedding. */
function identityDrift(track: FaceTrack): { changed: boolean; lowest: number | null; at: number | null } {
  const embedded = track.observations.filter((face) => face.embedding.length > 0);
  if (embedded.length < 3) return { changed: false, lowest: null, at: null };
  const mean = embedded[0]!.embedding.map((_, i) => embedded.reduce((s, f) => s + f.embedding[i]!, 0));
  const norm = Math.hypot(...mean);
  const unit = mean.map((v) => v / norm);
  let lowest = { similarity: 1, at: 0 };
  for (const face of embedded) {
    const similarity = cosine(unit, face.embedding);
    if (similarity < lowest.similarity) lowest = { similarity, at: face.timeSeconds };
  }
  return {
    changed: lowest.similarity < identityChange,
    lowest: round(lowest.similarity),
    at: lowest.at,
  };
}
