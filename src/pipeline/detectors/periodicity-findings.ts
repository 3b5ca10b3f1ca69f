import type { DetectorFinding, Evidence } from '../detector.js';
import type { DisplayFrame } from './display-order-frames.js';
import type { ChanceComparison, PeriodicityResult } from './prediction-periodicity.js';
import { clamp, round } from './statistics.js';

/**
 * Scores (documented thresholds):
 * - a test scores from relativeZ 2 → 0 to 5.15 → 0.9, capped at 0.25 when any shuffle reached it;
 *   never 1: it is a statistical footprint, not a certainty;
 * - re-encoding: the steady comb;
 * - an edit between the encodings: the lower of the jumping comb's own score and the score of its gain
 *   over the best steady comb (a steady grid, which a jumping grid can imitate, must not pass for one).
 */
export interface PeriodicityFindings {
  reencodeScore: number;
  editScore: number;
  evidence: Evidence[];
  /** One or two sentences for the detector explanation. */
  summary: string;
  measurements: DetectorFinding['measurements'];
}

export function chanceScore(test: ChanceComparison): number {
  const score = clamp((test.relativeZ - 2) / 3.5, 0, 0.9);
  return test.exceedances > 0 ? Math.min(score, 0.25) : score;
}

export function periodicityFindings(
  result: PeriodicityResult | null,
  frames: readonly DisplayFrame[],
  currentGop: number | null,
): PeriodicityFindings {
  if (!result) {
    return {
      reencodeScore: 0,
      editScore: 0,
      evidence: [],
      summary: 'Too few P-frames, or no variation in their sizes, to test for an earlier encoding.',
      measurements: {},
    };
  }
  const { steady, shifted } = result;
  const reencodeScore = chanceScore(steady);
  const editScore = shifted ? Math.min(chanceScore(shifted), chanceScore(shifted.gain)) : 0;
  const timeAt = (position: number) => frames[position]?.timeSeconds ?? null;
  const evidence: Evidence[] = [];
  if (reencodeScore > 0) {
    const times = steady.positions.slice(0, 20).map(timeAt);
    evidence.push({
      kind: 'prediction-periodicity',
      summary: `P-frames spike in size every ${steady.period} frames${currentGop ? ` while keyframes come every ${currentGop}` : ''}: the footprint of an earlier encoding with a ${steady.period}-frame GOP`,
      timeSeconds: times.find((time) => time !== null) ?? undefined,
      data: {
        estimatedOriginalGop: steady.period,
        phase: steady.phase,
        relativeZ: round(steady.relativeZ, 2),
        times,
      },
    });
  }
  if (shifted && editScore > 0) {
    const shiftTime = timeAt(shifted.shiftAt);
    evidence.push({
      kind: 'earlier-gop-shift',
      summary: `the ${shifted.period}-frame grid of an earlier encoding jumps by ${(shifted.phaseAfter - shifted.phase + shifted.period) % shifted.period} frames${shiftTime === null ? '' : ` at ${round(shiftTime, 2)} s`}: footage was cut or joined between the two encodings`,
      timeSeconds: shiftTime ?? undefined,
      data: {
        estimatedOriginalGop: shifted.period,
        phaseBefore: shifted.phase,
        phaseAfter: shifted.phaseAfter,
        relativeZ: round(shifted.relativeZ, 2),
        times: shifted.positions.slice(0, 20).map(timeAt),
      },
    });
  }
  return {
    reencodeScore,
    editScore,
    evidence,
    summary: summarise(result, reencodeScore, editScore),
    measurements: measured(result, reencodeScore, editScore),
  };
}

function summarise(result: PeriodicityResult, reencodeScore: number, editScore: number): string {
  const { steady, shifted } = result;
  const sentences = [
    reencodeScore > 0
      ? `P-frame sizes spike every ${steady.period} frames, ${round(steady.relativeZ, 1)} standard deviations above what shuffled sizes reach: the file was probably encoded before with a ${steady.period}-frame GOP and re-encoded.`
      : `No steady periodic P-frame size spikes beyond chance (${round(steady.relativeZ, 1)} standard deviations; 2 is the floor of concern).`,
  ];
  if (shifted && editScore > 0) {
    sentences.push(
      `A ${shifted.period}-frame spike grid that jumps once fits better than any steady one (${round(shifted.gain.relativeZ, 1)} standard deviations beyond what the extra freedom buys by chance): the earlier encoding was cut or joined before the last one.`,
    );
  }
  return sentences.join(' ');
}

function measured(
  result: PeriodicityResult,
  reencodeScore: number,
  editScore: number,
): DetectorFinding['measurements'] {
  const { steady, shifted } = result;
  return {
    estimatedOriginalGop: steady.period,
    periodicityPhase: steady.phase,
    periodicityCombZ: round(steady.observed),
    periodicityNullMean: round(steady.nullMean),
    periodicityNullSd: round(steady.nullSd),
    periodicityRelativeZ: round(steady.relativeZ),
    periodicityExceedances: steady.exceedances,
    shiftedPeriod: shifted?.period ?? null,
    shiftedAtFrame: shifted?.shiftAt ?? null,
    shiftedRelativeZ: shifted ? round(shifted.relativeZ) : null,
    shiftedExceedances: shifted?.exceedances ?? null,
    shiftGainZ: shifted ? round(shifted.gain.observed) : null,
    shiftGainRelativeZ: shifted ? round(shifted.gain.relativeZ) : null,
    permutations: result.permutations,
    reencodeScore: round(reencodeScore),
    editScore: round(editScore),
  };
}
