import type { FaceObservation, FaceTrack } from '../../faces/face-types.js';
import type { Detector, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
import type { FrameSample } from '../frames/frame-sample.js';
import {
  blinkScore,
  blinkStatistics,
  eyeAspectRatio,
  eyeLandmarks,
  minBlinkSeconds,
  type BlinkStatistics,
  type EyeReading,
} from './face-blink.js';
import {
  abstain,
  clamp01,
  faceFrameCoverage,
  faceInputs,
  jsonArtifact,
  median,
  noFaceReason,
  notApplicable,
  videoApplicability,
} from './face-evidence.js';
import { centralDrift, poseReadings, type PoseReading } from './head-pose-consistency.js';
import { round } from './statistics.js';

/** Faces with a mesh a track needs before its mean shape is a reference worth aligning to. */
const minMeshedFaces = 5;
/**
 * Against the track's own mean shape a swapped face shows only where the head has turned away from its
 * usual pose: frames turned less than this tell nothing, and a track needs `minTurnedFaces` of them.
 */
export const minTurnDegrees = 5;
const minTurnedFaces = 3;

/**
 * Median angle between the central face's and the outer contour's pose over turned frames (degrees) →
 * score: 0.3 at 4°, 0.7 at 6°. Authentic faces read 1.5–1.9° (FaceMesh noise: eval clips and the
 * Megamind clips, heads turning up to 45°), so the onset sits at twice that (docs/detectors.md).
 */
export function poseDisagreementScore(degrees: number): number {
  return clamp01((degrees - 2.5) / 5);
}

/**
 * Frame-to-frame slide of the central face inside its contour (% of face size) → score: 0.3 at 3%, 0.7
 * at 5%. The mesh is in whole pixels and follows expressions: authentic faces read 0.4–0.9% on the eval
 * clips (260–300 px faces) and up to 1.9% on the Megamind clips (70–170 px, talking and turning).
 */
export function driftScore(percent: number): number {
  return clamp01((percent - 1.5) / 5);
}

export function createFaceBlinkPoseDetector(): Detector {
  return {
    id: 'face-blink-pose',
    version: '1.0.0',
    needs: ['frames', 'faces'],
    strength: 'standard',
    description:
      'Head-pose consistency and blinking, read from the face mesh: the pose of the central face (eyes, nose, mouth) against the pose of the outer contour it should move with when the head turns (a swapped face disagrees with its head), the central face sliding inside its contour from frame to frame, and blinks in the dense windows (scored only after a minute of face in consecutive frames).',
    applicable: videoApplicability,
    analyze,
  };
}

interface TrackReading {
  track: FaceTrack;
  poses: PoseReading[];
  /** Median disagreement over the frames turned at least `minTurnDegrees`. */
  disagreement: number | null;
  turnedFaces: number;
  /** Why the pose was not judged. */
  poseNote: string | null;
  drift: { percent: number; pairs: number } | null;
  blink: BlinkStatistics | null;
  poseScore: number | null;
  driftScore: number | null;
  blinkScore: number | null;
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const inputs = await faceInputs(context);
  if (inputs.sample.plan.kind === 'image')
    return notApplicable('a still image has no motion: blinks and head turns need a sequence of frames');
  const noFace = noFaceReason(inputs);
  if (noFace) return notApplicable(noFace);
  const measuredFrames = new Set<number>();
  const tracks = inputs.analysed.map((track): TrackReading => {
    context.signal.throwIfAborted();
    const meshed = track.observations.filter((face) => face.mesh.length >= 468);
    const poses = meshed.length >= minMeshedFaces ? poseReadings(meshed, windowLookup(inputs.sample)) : [];
    for (const pose of poses) measuredFrames.add(pose.frameIndex);
    const turned = poses.filter((pose) => pose.turnDegrees >= minTurnDegrees);
    const disagreement =
      turned.length >= minTurnedFaces ? median(turned.map((pose) => pose.disagreementDegrees)) : null;
    const runs = windowRuns(track, inputs.sample);
    const blink = blinkStatistics(runs.flatMap(eyeRuns));
    const drift = centralDrift(runs, track.sizePixels);
    return {
      track,
      poses,
      disagreement,
      turnedFaces: turned.length,
      poseNote: poseNote(meshed.length, poses),
      drift,
      blink,
      poseScore: disagreement === null ? null : poseDisagreementScore(disagreement),
      driftScore: drift ? driftScore(drift.percent) : null,
      blinkScore: blink ? blinkScore(blink) : null,
    };
  });
  const coverage = faceFrameCoverage(inputs.analysed, measuredFrames);
  const scored = tracks
    .map((reading) => ({
      reading,
      score: maxOf(maxOf(reading.poseScore, reading.driftScore), reading.blinkScore),
    }))
    .filter((entry): entry is { reading: TrackReading; score: number } => entry.score !== null);
  if (scored.length === 0) {
    const first = tracks[0]!;
    return {
      ...abstain(
        `no face was seen in enough consecutive frames to follow its central face against its contour; ${first.poseNote ?? 'the head pose could not be judged'}; and no face was followed for ${minBlinkSeconds} s of consecutive frames (blink absence means nothing over less)`,
        coverage,
      ),
      evidence: tracks.flatMap((t) => [...driftEvidence(t), ...poseEvidence(t), ...blinkEvidence(t)]),
      measurements: {
        largestTurnDegrees: round(Math.max(0, ...first.poses.map((p) => p.turnDegrees))),
        posesRead: first.poses.length,
        blinkSecondsObserved: first.blink?.observedSeconds ?? null,
        blinks: first.blink?.blinks.length ?? null,
      },
    };
  }
  const worst = scored.reduce((a, b) => (b.score > a.score ? b : a));
  const { reading } = worst;
  return {
    score: round(worst.score),
    coverage,
    perFrame: reading.poses.map((pose) => ({
      timeSeconds: pose.timeSeconds,
      score: round(poseDisagreementScore(pose.disagreementDegrees)),
    })),
    evidence: tracks.flatMap((t) => [...driftEvidence(t), ...poseEvidence(t), ...blinkEvidence(t)]),
    explanation: explain(reading, inputs.sample.windows.length),
    measurements: {
      tracksMeasured: scored.length,
      worstTrack: reading.track.id,
      poseDisagreementDegrees: reading.disagreement === null ? null : round(reading.disagreement),
      turnedFaces: reading.turnedFaces,
      largestTurnDegrees: round(Math.max(0, ...reading.poses.map((p) => p.turnDegrees))),
      allFramesDisagreementDegrees: reading.poses.length
        ? round(median(reading.poses.map((p) => p.disagreementDegrees)))
        : null,
      centralDriftPercent: reading.drift ? round(reading.drift.percent) : null,
      driftPairs: reading.drift?.pairs ?? null,
      posesRead: reading.poses.length,
      blinkSecondsObserved: reading.blink?.observedSeconds ?? null,
      blinks: reading.blink?.blinks.length ?? null,
      blinksPerMinute: reading.blink?.blinksPerMinute ?? null,
      openEyeRatio: reading.blink?.openRatio ?? null,
      eyeAsymmetry: reading.blink?.eyeAsymmetry ?? null,
      blinkScored: reading.blinkScore !== null,
    },
    artifacts: [
      jsonArtifact(
        'blink-pose.json',
        'Per face track: per sampled frame the central-vs-outer pose disagreement (degrees); eye aspect ratio statistics and blinks found in the dense windows.',
        tracks.map((t) => ({
          track: t.track.id,
          poses: t.poses.map((pose) => ({
            timeSeconds: pose.timeSeconds,
            windowId: pose.windowId,
            disagreementDegrees: round(pose.disagreementDegrees),
          })),
          blink: t.blink,
        })),
      ),
    ],
  };
}

function poseNote(meshed: number, poses: readonly PoseReading[]): string | null {
  if (meshed < minMeshedFaces)
    return `the face carried a mesh in ${meshed} sampled frame${meshed === 1 ? '' : 's'}, fewer than ${minMeshedFaces}`;
  const turned = poses.filter((pose) => pose.turnDegrees >= minTurnDegrees).length;
  if (turned >= minTurnedFaces) return null;
  const largest = Math.max(0, ...poses.map((pose) => pose.turnDegrees));
  return `the head turned at most ${round(largest, 1)}° from its usual pose (${turned} frame${turned === 1 ? '' : 's'} past ${minTurnDegrees}°): a swapped face shows against its head only when the head turns`;
}

function windowLookup(sample: FrameSample): (frameIndex: number) => number | null {
  return (frameIndex) => sample.frames[frameIndex]?.windowId ?? null;
}

/** The track's faces with a mesh in each dense window, split wherever a frame lacks one. */
function windowRuns(track: FaceTrack, sample: FrameSample): FaceObservation[][] {
  const byFrame = new Map(track.observations.map((face) => [face.frameIndex, face]));
  const runs: FaceObservation[][] = [];
  for (const window of sample.windows) {
    let run: FaceObservation[] = [];
    for (const frameIndex of window.frameIndexes) {
      const face = byFrame.get(frameIndex);
      if (face && face.mesh.length >= 468) run.push(face);
      else if (run.length) {
        runs.push(run);
        run = [];
      }
    }
    if (run.length) runs.push(run);
  }
  return runs;
}

/** Eye ratios along a run, split wherever an eye is too small to read. */
function eyeRuns(run: readonly FaceObservation[]): EyeReading[][] {
  const runs: EyeReading[][] = [[]];
  for (const face of run) {
    const reading = eyeReading(face);
    if (reading) runs[runs.length - 1]!.push(reading);
    else if (runs[runs.length - 1]!.length) runs.push([]);
  }
  return runs.filter((r) => r.length > 0);
}

function eyeReading(face: FaceObservation): EyeReading | null {
  const left = eyeAspectRatio(face.mesh, eyeLandmarks.left);
  const right = eyeAspectRatio(face.mesh, eyeLandmarks.right);
  return left === null || right === null ? null : { timeSeconds: face.timeSeconds, left, right };
}

function driftEvidence({ track, drift }: TrackReading): Evidence[] {
  if (!drift) return [];
  return [
    {
      kind: 'central-face-drift',
      summary: `face track ${track.id}: from one window frame to the next the central face (eye corners, nose) moves ${round(drift.percent, 2)}% of the face size against the outer contour (median over ${drift.pairs} frame pairs)`,
      data: { track: track.id, centralDriftPercent: round(drift.percent), pairs: drift.pairs },
    },
  ];
}

function poseEvidence({ track, disagreement, turnedFaces, poseNote: note }: TrackReading): Evidence[] {
  if (disagreement === null)
    return note ? [{ kind: 'head-pose-not-judged', summary: `face track ${track.id}: ${note}` }] : [];
  return [
    {
      kind: 'head-pose-disagreement',
      summary: `face track ${track.id}: the central face (eyes, nose, mouth) and the outer contour (forehead, temples, cheeks) are turned ${round(disagreement, 1)}° apart (median over the ${turnedFaces} frames where the head turned ${minTurnDegrees}° or more from its mean pose)`,
      data: {
        track: track.id,
        disagreementDegrees: round(disagreement),
      },
    },
  ];
}

function blinkEvidence({ track, blink, blinkScore: score }: TrackReading): Evidence[] {
  if (!blink) return [];
  const judged =
    score === null
      ? `too short to judge: people blink every 2–10 s, fewer times when reading or staring, so blink statistics are scored only after ${minBlinkSeconds} s`
      : `${blink.blinksPerMinute} a minute`;
  return [
    {
      kind: 'blinks',
      summary: `face track ${track.id}: ${blink.blinks.length} blink${blink.blinks.length === 1 ? '' : 's'} in ${blink.observedSeconds} s of consecutive frames (${judged}); open-eye ratio ${blink.openRatio}, eye asymmetry ${blink.eyeAsymmetry}`,
      data: {
        track: track.id,
        observedSeconds: blink.observedSeconds,
        blinks: blink.blinks.length,
        blinksPerMinute: blink.blinksPerMinute,
        oneEyedBlinks: blink.blinks.filter((b) => b.oneEyed).length,
        longClosures: blink.longClosures,
        ratioPercentiles: blink.ratioPercentiles,
      },
    },
  ];
}

function explain(reading: TrackReading, windows: number): string {
  const drift = reading.drift
    ? ` Over ${reading.drift.pairs} pairs of consecutive frames the central face moved ${round(reading.drift.percent, 2)}% of the face size against the contour from one frame to the next (median).`
    : '';
  const pose =
    reading.disagreement === null
      ? `Head pose not judged: ${reading.poseNote}.`
      : `Estimated the head's rotation twice per sampled frame from the face mesh, once from the central face (eyes, nose, mouth) and once from the outer contour (forehead, temples, cheeks), each by a rigid 3D alignment to the track's mean shape; a swapped face turns on its own. Track ${reading.track.id}: ${round(reading.disagreement, 1)}° apart (median over the ${reading.turnedFaces} frames turned ${minTurnDegrees}° or more from the mean pose).`;
  const blink = reading.blink
    ? ` Blinks (eye aspect ratio dips in ${windows} dense window${windows === 1 ? '' : 's'}): ${reading.blink.blinks.length} in ${reading.blink.observedSeconds} s${reading.blinkScore === null ? `, reported but not scored (under ${minBlinkSeconds} s of face)` : ''}.`
    : ' No eye was large enough in consecutive frames to read blinks.';
  return pose + drift + blink;
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
