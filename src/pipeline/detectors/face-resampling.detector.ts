import type { FaceObservation } from '../../faces/face-types.js';
import { faceResamplingTraces, type FaceResamplingTraces } from '../../forensics/face-resampling-traces.js';
import type { Detector, DetectorArtifact, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
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
import { primaryVideoStream } from './video-stream.js';

/**
 * Periodic excess (ln of the face's p-map peak prominence over the surround's) → score. On eval-style
 * twins (docs/detectors.md) authentic faces read at most 0.16 (PNG, JPEG q90, H.264 CRF 20, block grid left
 * out for the last two); faces enlarged from 0.5× or 0.35× read 1.15–3.3 in PNG.
 */
export function periodicScore(excess: number): number {
  return clamp01((excess - 0.5) / 0.6);
}

/**
 * Knots (deficit, score) of the falloff score, linear between them. It stops at 0.6: how much fine detail
 * a face keeps next to its background depends on the background (a sharp synthetic pattern behind an
 * authentic face read 2.9 in a test clip), so this signal alone can make a result inconclusive, never
 * `indicators_found`.
 */
const falloffKnots: [number, number][] = [
  [1.2, 0],
  [2.3, 0.3],
  [3.3, 0.6],
];

/**
 * Fine-detail deficit (ln, surround falloff minus face falloff) → score. On eval-style twins authentic
 * faces lose up to 1.5 in stills and 2.0 in H.264 clips (smooth skin keeps less fine detail than a
 * textured background, more so after x264), which stays below 0.3; faces enlarged from 0.5× or 0.35×
 * lose 1.4–3.3 in stills and 0.8–3.5 in clips. Below the knee the score still ranks, but never decides.
 */
export function falloffScore(deficit: number): number {
  if (deficit <= falloffKnots[0]![0]) return 0;
  for (let i = 1; i < falloffKnots.length; i++) {
    const [x1, y1] = falloffKnots[i]!;
    const [x0, y0] = falloffKnots[i - 1]!;
    if (deficit <= x1) return y0 + ((deficit - x0) / (x1 - x0)) * (y1 - y0);
  }
  return falloffKnots[falloffKnots.length - 1]![1];
}

/** Codecs without a block transform: their pictures carry no 8×8 grid that could pass for periodicity. */
const losslessCodecs = new Set([
  'png',
  'apng',
  'bmp',
  'tiff',
  'ffv1',
  'huffyuv',
  'ffvhuff',
  'utvideo',
  'rawvideo',
  'qtrle',
  'magicyuv',
  'jpegls',
  'v210',
  'v410',
  'r210',
]);

export function createFaceResamplingDetector(): Detector {
  return {
    id: 'face-resampling',
    version: '1.0.0',
    needs: ['frames', 'faces'],
    strength: 'standard',
    description:
      'Resampling traces inside each face against the frame around it: the periodic correlations interpolation leaves (Kirchner p-map spectrum) and the missing fine detail (above 0.2 cycles per pixel) of a face enlarged from a lower resolution.',
    applicable: pictureApplicability,
    analyze,
  };
}

interface Measured {
  face: FaceObservation;
  traces: FaceResamplingTraces;
  score: number;
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const inputs = await faceInputs(context);
  const noFace = noFaceReason(inputs);
  if (noFace) return notApplicable(noFace);
  const codec = primaryVideoStream(context.probe)?.codecName ?? null;
  const blockGrid = !codec || !losslessCodecs.has(codec);
  const measuredFrames = new Set<number>();
  const tracks = inputs.analysed.map((track) => {
    const measured: Measured[] = track.observations.flatMap((face) => {
      context.signal.throwIfAborted();
      const frame = observationFrame(inputs.sample, face);
      const traces = faceResamplingTraces(frame.data, frame.width, frame.height, face, { blockGrid });
      if (!traces) return [];
      measuredFrames.add(face.frameIndex);
      return [{ face, traces, score: observationScore(traces.periodic.excess, traces.falloffDeficit) }];
    });
    if (measured.length === 0) return { track, measured, excess: null, deficit: null, score: null };
    const excess = median(measured.map((m) => m.traces.periodic.excess));
    const deficit = median(measured.map((m) => m.traces.falloffDeficit));
    return { track, measured, excess, deficit, score: observationScore(excess, deficit) };
  });
  const coverage = faceFrameCoverage(inputs.analysed, measuredFrames);
  const scored = tracks.filter((t) => t.score !== null);
  if (scored.length === 0)
    return abstain(
      'no face had a square of skin large enough (32 px) inside its outline with enough usable frame around it',
      coverage,
    );
  const worst = scored.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
  const excess = worst.excess as number;
  const deficit = worst.deficit as number;
  const strongest = worst.measured.reduce((a, b) => (b.score > a.score ? b : a));
  const evidence: Evidence[] = scored.map(({ track, measured, excess: e, deficit: d }) => ({
    kind: 'face-resampling',
    summary: summarise(track.id, measured, e as number, d as number),
    timeSeconds: measured[0]?.face.timeSeconds,
    data: {
      track: track.id,
      periodicExcess: round(e as number),
      falloffDeficit: round(d as number),
      frames: measured.length,
    },
  }));
  return {
    score: round(observationScore(excess, deficit)),
    coverage,
    perFrame: worst.measured.map((m) => ({ timeSeconds: m.face.timeSeconds, score: round(m.score) })),
    evidence,
    explanation: explain(excess, deficit, blockGrid),
    measurements: {
      tracksMeasured: scored.length,
      worstTrack: worst.track.id,
      periodicExcess: round(excess),
      periodicScore: round(periodicScore(excess)),
      falloffDeficit: round(deficit),
      falloffScore: round(falloffScore(deficit)),
      patchSize: strongest.traces.patchSize,
      blockGridExcluded: blockGrid,
    },
    artifacts: [
      jsonArtifact(
        'radial-spectra.json',
        'Per face track and measured frame: p-map periodic excess, fine-detail falloff (ln power above 0.2 cycles/px over 0.1–0.2) of face and surround, and the radial power spectra (ln) of face and median surround.',
        tracks.map(({ track, measured }) => ({
          track: track.id,
          frames: measured.map(({ face, traces }) => ({
            timeSeconds: face.timeSeconds,
            patch: traces.face,
            periodicExcess: round(traces.periodic.excess),
            peakCyclesPerPixel: [round(traces.periodic.face.u), round(traces.periodic.face.v)],
            faceFalloff: round(traces.faceFalloff),
            surroundFalloff: round(traces.surroundFalloff),
            faceRadialLn: Array.from(traces.faceRadial, (p) => round(Math.log(p + 1e-9), 2)),
            surroundRadialLn: Array.from(traces.surroundRadial, (p) => round(Math.log(p + 1e-9), 2)),
          })),
        })),
      ),
      prominenceImage(strongest.traces),
    ],
  };
}

const observationScore = (excess: number, deficit: number) =>
  Math.max(periodicScore(excess), falloffScore(deficit));

/** The face's p-map peak prominence as a greyscale PGM, zero frequency in the centre. */
function prominenceImage(traces: FaceResamplingTraces): DetectorArtifact {
  const size = traces.patchSize;
  const pixels = Buffer.alloc(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const value = traces.faceProminence[((y + size / 2) % size) * size + ((x + size / 2) % size)]!;
      pixels[y * size + x] = Math.round(255 * clamp01(value / 4));
    }
  return {
    name: 'face-pmap-spectrum.pgm',
    contentType: 'image/x-portable-graymap',
    description:
      'Peak prominence of the p-map spectrum of the most suspicious face square (centre = zero frequency, white = a periodic peak 4 ln units above its surroundings).',
    data: Buffer.concat([Buffer.from(`P5\n${size} ${size}\n255\n`), pixels]),
  };
}

function summarise(track: number, measured: Measured[], excess: number, deficit: number): string {
  const frames = `median of ${measured.length} frame${measured.length === 1 ? '' : 's'}`;
  const peak = measured.reduce((a, b) => (b.traces.periodic.excess > a.traces.periodic.excess ? b : a)).traces
    .periodic.face;
  const frequency = Math.max(Math.abs(peak.u), Math.abs(peak.v));
  const periodic =
    periodicScore(excess) > 0
      ? `the face's interpolation map repeats every ${round(1 / frequency, 2)} px, ${round(Math.exp(excess), 1)}× more prominently than anywhere around it`
      : `the face's interpolation map shows no periodic pattern beyond what the frame around it shows (excess ${round(excess)})`;
  const share = Math.exp(-deficit);
  return `face track ${track}: ${periodic}; relative to the octave below, the face keeps ${round(share, 2)}× the share of fine detail (above 0.2 cycles per pixel) the frame around it keeps (${frames})`;
}

function explain(excess: number, deficit: number, blockGrid: boolean): string {
  const measured = `Measured two traces that enlarging a face leaves, each inside the face and in equally sized squares of the frame around it: the periodic pattern in how predictable each pixel is from its neighbours (Kirchner's p-map spectrum${blockGrid ? ', leaving out the codec’s 8×8 block grid' : ''}), and how much energy the finest detail (above 0.2 cycles per pixel) holds relative to the octave below (azimuthally averaged power spectrum). The face's periodic peak stands ${round(excess)} ln units above the surround's, and it keeps ${round(Math.exp(-deficit), 2)}× the surround's share of fine detail.`;
  const score = observationScore(excess, deficit);
  if (score >= 0.7)
    return `${measured} That is what a face rendered or pasted at a lower resolution and enlarged into the frame leaves; a camera gives the face and its background the same traces.`;
  if (score < 0.3)
    return `${measured} That is within what one camera and codec give a face and its background.`;
  return `${measured} That is somewhat off, but not far enough to call${periodicScore(excess) < 0.3 ? ' (missing fine detail alone never is: it also depends on how detailed the background is)' : ''}.`;
}
