import { faceAndSurround } from '../../forensics/face-regions.js';
import { lumaPlane } from '../../forensics/luma.js';
import { blockNoise, matchedNoiseRatio } from '../../forensics/noise-level.js';
import type { FaceObservation } from '../../faces/face-types.js';
import type { Detector, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
import type { SampledFrame } from '../frames/frame-sample.js';
import {
  abstain,
  clamp01,
  faceFrameCoverage,
  faceInputs,
  jsonArtifact,
  median,
  noFaceReason,
  notApplicable,
  observationFrame,
  pictureApplicability,
} from './face-evidence.js';
import { round } from './statistics.js';

/** Noise ratio → score anchors, interpolated linearly in log ratio. */
const scoreAnchors: readonly [ratio: number, score: number][] = [
  [1, 0],
  [0.82, 0.3],
  [0.62, 0.7],
  [0.51, 1],
];

/**
 * Noise ratio (face / like blocks around it) → score: a face smoother than its surroundings (resampled,
 * denoised, rendered or pasted from a cleaner source). Authentic `guardian eval` faces read 0.92–1.16 on
 * originals, but 0.66–0.79 on some JPEG q75 and halved stills (compression and resizing took the noise, and
 * what is left is fine texture, which hair has more of than skin), hence nothing strong above 0.62.
 * A noisier face is not scored: skin texture can outlast flat areas' noise under compression.
 */
export function noiseRatioScore(ratio: number): number {
  if (!(ratio < 1)) return 0;
  const x = -Math.log(ratio);
  for (let i = 1; i < scoreAnchors.length; i++) {
    const [fromRatio, fromScore] = scoreAnchors[i - 1]!;
    const [toRatio, toScore] = scoreAnchors[i]!;
    const [from, to] = [-Math.log(fromRatio), -Math.log(toRatio)];
    if (x <= to) return clamp01(fromScore + ((x - from) / (to - from)) * (toScore - fromScore));
  }
  return 1;
}

const minObservations = 1;

export function createFaceNoiseMismatchDetector(): Detector {
  return {
    id: 'face-noise-mismatch',
    version: '1.2.0',
    needs: ['frames', 'faces'],
    strength: 'standard',
    description:
      'Sensor-noise level inside each face against the head ring around it (hair, ears, neck) and the frame further out, block classes of like brightness and texture compared: a resampled, denoised, rendered or pasted face carries less of the noise the camera put in the rest of the frame.',
    applicable: pictureApplicability,
    analyze,
  };
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const inputs = await faceInputs(context);
  const noFace = noFaceReason(inputs);
  const measuredFrames = new Set<number>();
  if (noFace) return notApplicable(noFace);
  const tracks = inputs.analysed.map((track) => {
    const ratios = track.observations.flatMap((face) => {
      context.signal.throwIfAborted();
      const frame = observationFrame(inputs.sample, face);
      const measured = measureFace(frame, face);
      if (measured === null) return [];
      measuredFrames.add(face.frameIndex);
      return [{ timeSeconds: face.timeSeconds, keyframe: frame.keyframe, ...measured }];
    });
    const ratio = ratios.length >= minObservations ? trackRatio(ratios) : null;
    return { track, ratios, ratio, score: ratio === null ? null : noiseRatioScore(ratio) };
  });
  const scored = tracks.filter((t) => t.score !== null);
  const coverage = faceFrameCoverage(inputs.analysed, measuredFrames);
  if (scored.length === 0)
    return abstain('no face had enough smooth skin and surrounding frame to measure noise in', coverage);
  const worst = scored.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
  const score = round(worst.score as number);
  const evidence: Evidence[] = scored.map(({ track, ratio, ratios }) => ({
    kind: 'face-noise-ratio',
    summary: `face track ${track.id}: noise inside the face is ${round(ratio as number)}× the noise of like blocks around it (median of ${ratios.length} frame${ratios.length === 1 ? '' : 's'}; 1 means the same camera noise)`,
    timeSeconds: ratios[0]?.timeSeconds,
    data: { track: track.id, ratio: round(ratio as number), frames: ratios.length },
  }));
  return {
    score,
    coverage,
    perFrame: worst.ratios.map((r) => ({
      timeSeconds: r.timeSeconds,
      score: round(noiseRatioScore(r.ratio)),
    })),
    evidence,
    explanation: explain(worst.ratio as number),
    measurements: {
      tracksMeasured: scored.length,
      worstTrack: worst.track.id,
      noiseRatio: round(worst.ratio as number),
      faceNoiseSigma: round(median(worst.ratios.map((r) => r.inside))),
      surroundNoiseSigma: round(median(worst.ratios.map((r) => r.around))),
      framesAgainstHeadRing: worst.ratios.filter((r) => r.reference === 'head ring').length,
    },
    artifacts: [
      jsonArtifact(
        'noise-timeline.json',
        'Per sampled frame and face track: noise σ inside the face and in its reference region (head ring, or the frame further out), their matched ratio and how the blocks were matched.',
        tracks.map(({ track, ratios }) => ({ track: track.id, frames: ratios })),
      ),
    ],
  };
}

/**
 * The face against the head ring around it and against the frame further out, each matched by brightness
 * and texture; the lower ratio is kept, since a pasted region can reach past the face over the ring (a whole
 * head replaced) but then the frame outside shows it.
 */
function measureFace(frame: SampledFrame, face: FaceObservation) {
  const plane = lumaPlane(frame.data, frame.width, frame.height);
  const regions = faceAndSurround(face);
  const faceBlocks = blockNoise(plane, regions.insideFace);
  const ring = matchedNoiseRatio(faceBlocks, blockNoise(plane, regions.inRing));
  const far = matchedNoiseRatio(faceBlocks, blockNoise(plane, regions.inSurround));
  const chosen = ring && (!far || ring.ratio <= far.ratio) ? ring : far;
  if (chosen === null) return null;
  return {
    reference: chosen === ring ? ('head ring' as const) : ('frame' as const),
    ...chosen,
    ratio: round(chosen.ratio),
    ringRatio: ring ? round(ring.ratio) : null,
    frameRatio: far ? round(far.ratio) : null,
  };
}

/**
 * A track's ratio: the median over its frames, taken separately over sweep keyframes and window frames and
 * the lower kept, since the encoder keeps the most noise in keyframes and a cleaned face shows best there.
 */
function trackRatio(ratios: readonly { ratio: number; keyframe: boolean }[]): number {
  const keyframes = ratios.filter((r) => r.keyframe).map((r) => r.ratio);
  const others = ratios.filter((r) => !r.keyframe).map((r) => r.ratio);
  return Math.min(...[keyframes, others].filter((list) => list.length > 0).map(median));
}

function explain(ratio: number): string {
  const measured = `Measured the sensor-noise level (Immerkær's estimator over the smoothest 8×8 blocks) inside the face and in the head ring around it (hair, ears, neck) and in the frame further out, keeping the lower of the two ratios, comparing blocks of like brightness and coarse texture, since encoders keep noise where there is texture; the face has ${round(ratio)}× the noise of its surroundings.`;
  if (noiseRatioScore(ratio) >= 0.7)
    return `${measured} A face this much cleaner than the frame it sits in is what resampling, denoising, rendering or pasting a face leaves, and also what retouching (airbrushing, beauty filters) does: this detector cannot tell a retouched portrait from a swapped face. Lighting and make-up alone rarely do this.`;
  if (noiseRatioScore(ratio) < 0.3)
    return `${measured} That is within what one camera gives a face and its background.`;
  return `${measured} That is somewhat off, but not far enough to call.`;
}
