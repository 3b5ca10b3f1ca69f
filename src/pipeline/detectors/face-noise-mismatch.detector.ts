import { faceAndSurround } from '../../forensics/face-regions.js';
import { lumaPlane } from '../../forensics/luma.js';
import { blockNoise, matchedNoiseRatio } from '../../forensics/noise-level.js';
import type { Detector, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
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

/**
 * Noise ratio (face / surround) → score: a face smoother than its frame (resampled, denoised, rendered or
 * pasted from a cleaner source). A noisier face is not scored: in compressed video skin texture survives
 * where flat backgrounds lose their noise, so authentic faces often read 2–4× noisier (measured on
 * `guardian eval` authentic clips).
 */
export function noiseRatioScore(ratio: number): number {
  return ratio < 1 ? clamp01((-Math.log(ratio) - 0.05) / 0.25) : 0;
}

const minObservations = 1;

export function createFaceNoiseMismatchDetector(): Detector {
  return {
    id: 'face-noise-mismatch',
    version: '1.1.0',
    needs: ['frames', 'faces'],
    strength: 'standard',
    description:
      'Sensor-noise level inside each face against the ring of the frame around it: a resampled, denoised, rendered or pasted face carries different noise than the camera put in the rest of the frame.',
    applicable: pictureApplicability,
    analyze,
  };
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const inputs = await faceInputs(context);
  const noFace = noFaceReason(inputs);
  const measuredFrames = new Set<number>();
  const faceFrames = new Set(inputs.analysed.flatMap((t) => t.observations.map((o) => o.frameIndex)));
  if (noFace) return notApplicable(noFace);
  const tracks = inputs.analysed.map((track) => {
    const ratios = track.observations.flatMap((face) => {
      context.signal.throwIfAborted();
      const frame = observationFrame(inputs.sample, face);
      const plane = lumaPlane(frame.data, frame.width, frame.height);
      const regions = faceAndSurround(face);
      const matched = matchedNoiseRatio(
        blockNoise(plane, regions.insideFace),
        blockNoise(plane, regions.inSurround),
      );
      if (matched === null) return [];
      measuredFrames.add(face.frameIndex);
      return [{ timeSeconds: face.timeSeconds, ...matched }];
    });
    const ratio = ratios.length >= minObservations ? median(ratios.map((r) => r.ratio)) : null;
    return { track, ratios, ratio, score: ratio === null ? null : noiseRatioScore(ratio) };
  });
  const scored = tracks.filter((t) => t.score !== null);
  const coverage = { ...faceFrameCoverage(inputs.sample, measuredFrames), total: faceFrames.size };
  coverage.fraction = faceFrames.size ? round(measuredFrames.size / faceFrames.size) : 0;
  if (scored.length === 0)
    return abstain('no face had enough smooth skin and surrounding frame to measure noise in', coverage);
  const worst = scored.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
  const score = round(worst.score as number);
  const evidence: Evidence[] = scored.map(({ track, ratio, ratios }) => ({
    kind: 'face-noise-ratio',
    summary: `face track ${track.id}: noise inside the face is ${round(ratio as number)}× the noise around it (median of ${ratios.length} frame${ratios.length === 1 ? '' : 's'}; 1 means the same camera noise)`,
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
    },
    artifacts: [
      jsonArtifact(
        'noise-timeline.json',
        'Per sampled frame and face track: noise σ inside the face, around it, and their ratio.',
        tracks.map(({ track, ratios }) => ({ track: track.id, frames: ratios })),
      ),
    ],
  };
}

function explain(ratio: number): string {
  const measured = `Measured the sensor-noise level (Immerkær's estimator over the smoothest 8×8 blocks, compared band by band at equal brightness) inside the face and in the frame around it; the face has ${round(ratio)}× the noise of its surroundings.`;
  if (noiseRatioScore(ratio) >= 0.7)
    return `${measured} A face this much cleaner than the frame it sits in is what resampling, denoising, rendering or pasting a face leaves; lighting and make-up alone rarely do this.`;
  if (noiseRatioScore(ratio) < 0.3)
    return `${measured} That is within what one camera gives a face and its background.`;
  return `${measured} That is somewhat off, but not far enough to call.`;
}
