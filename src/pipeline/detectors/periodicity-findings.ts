import type { DetectorFinding, Evidence } from '../detector.js';
import type { DisplayFrame } from './display-order-frames.js';
import type { RefreshJudgement } from './picture-refresh.js';
import type { ChanceComparison, CombTest, PeriodicityResult } from './prediction-periodicity.js';
import { clamp, round } from './statistics.js';

/**
 * Scores (documented thresholds):
 * - a test scores from relativeZ 2 → 0 to 5.15 → 0.9, capped at 0.25 when any shuffle reached it;
 *   never 1: it is a statistical footprint, not a certainty;
 * - re-encoding: the steady comb;
 * - an edit between the encodings: the lower of the jumping comb's own score and the score of its gain
 *   over the best steady comb (a steady grid, which a jumping grid can imitate, must not pass for one);
 * - either comb counts only when its spikes cost at least 3% of a P-frame (a whole picture requantised
 *   costs more than that), and scores at most 0.5 unless the decoded pictures confirm that its frames
 *   were whole pictures coded afresh: packet sizes alone cannot tell an earlier GOP from content that
 *   changes in a rhythm (a test pattern's clock), and an earlier encoding is a weak indication until
 *   seen.
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

const minSpikeSize = Math.log(1.03);
const unconfirmedCap = 0.5;

/** What the decoded pictures say about each comb; null where they were not looked at. */
export interface PictureChecks {
  steady: RefreshJudgement | null;
  shifted: RefreshJudgement | null;
}

/** The score a comb earns from packet sizes alone, before the size floor and the pictures. */
export const packetScores = (result: PeriodicityResult) => ({
  reencode: chanceScore(result.steady),
  edit: result.shifted ? Math.min(chanceScore(result.shifted), chanceScore(result.shifted.gain)) : 0,
});

/** Whether a comb with a packet score is big enough to be worth looking at in the pictures. */
export const worthPictures = (comb: CombTest, packetScore: number): boolean =>
  packetScore > 0 && comb.spikeSize >= minSpikeSize;

function confirmed(packetScore: number, comb: CombTest, picture: RefreshJudgement | null): number {
  if (!worthPictures(comb, packetScore)) return 0;
  return picture?.verdict === 'whole-picture' ? packetScore : Math.min(packetScore, unconfirmedCap);
}

export function periodicityFindings(
  result: PeriodicityResult | null,
  frames: readonly DisplayFrame[],
  currentGop: number | null,
  pictures: PictureChecks = { steady: null, shifted: null },
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
  const packet = packetScores(result);
  const reencodeScore = confirmed(packet.reencode, steady, pictures.steady);
  const editScore = shifted ? confirmed(packet.edit, shifted, pictures.shifted) : 0;
  const timeAt = (position: number) => frames[position]?.timeSeconds ?? null;
  const evidence: Evidence[] = [];
  if (reencodeScore > 0) {
    const times = steady.positions.slice(0, 20).map(timeAt);
    evidence.push({
      kind: 'prediction-periodicity',
      summary: `P-frames spike in size every ${steady.period} frames${currentGop ? ` while keyframes come every ${currentGop}` : ''}: ${footprint(steady.period, pictures.steady)}`,
      timeSeconds: times.find((time) => time !== null) ?? undefined,
      data: {
        estimatedOriginalGop: steady.period,
        phase: steady.phase,
        relativeZ: round(steady.relativeZ, 2),
        spikeSize: round(steady.spikeSize),
        pictureVerdict: pictures.steady?.verdict ?? null,
        times,
      },
    });
  }
  if (shifted && editScore > 0) {
    const shiftTime = timeAt(shifted.shiftAt);
    evidence.push({
      kind: 'earlier-gop-shift',
      summary: `the ${shifted.period}-frame grid of an earlier encoding jumps by ${(shifted.phaseAfter - shifted.phase + shifted.period) % shifted.period} frames${shiftTime === null ? '' : ` at ${round(shiftTime, 2)} s`}: footage was cut or joined between the two encodings${pictures.shifted?.verdict === 'whole-picture' ? '' : ' (not confirmed in the decoded pictures)'}`,
      timeSeconds: shiftTime ?? undefined,
      data: {
        estimatedOriginalGop: shifted.period,
        phaseBefore: shifted.phase,
        phaseAfter: shifted.phaseAfter,
        relativeZ: round(shifted.relativeZ, 2),
        pictureVerdict: pictures.shifted?.verdict ?? null,
        times: shifted.positions.slice(0, 20).map(timeAt),
      },
    });
  }
  return {
    reencodeScore,
    editScore,
    evidence,
    summary: summarise(result, { reencode: reencodeScore, edit: editScore }, pictures),
    measurements: measured(result, { reencode: reencodeScore, edit: editScore }, pictures),
  };
}

function summarise(
  result: PeriodicityResult,
  scores: { reencode: number; edit: number },
  pictures: PictureChecks,
): string {
  const { steady, shifted } = result;
  const packet = packetScores(result);
  const z = round(steady.relativeZ, 1);
  const sentences: string[] = [];
  if (packet.reencode === 0) {
    sentences.push(
      `No steady periodic P-frame size spikes beyond chance (${z} standard deviations; 2 is the floor of concern).`,
    );
  } else if (!worthPictures(steady, packet.reencode)) {
    sentences.push(
      `P-frame sizes spike every ${steady.period} frames (${z} standard deviations above shuffled sizes), but by only ${percent(steady.spikeSize)}: too little for a whole picture coded afresh, so it is not counted.`,
    );
  } else if (pictures.steady?.verdict === 'whole-picture') {
    sentences.push(
      `P-frame sizes spike every ${steady.period} frames, ${z} standard deviations above what shuffled sizes reach, and the decoded pictures confirm it (${pictures.steady.reason}): the file was probably encoded before with a ${steady.period}-frame GOP and re-encoded.`,
    );
  } else {
    sentences.push(
      `P-frame sizes spike every ${steady.period} frames, ${z} standard deviations above what shuffled sizes reach, but the decoded pictures do not confirm an earlier encoding (${pictures.steady?.reason ?? notDecoded}); content that changes in a rhythm does the same, so it counts as a weak indication only.`,
    );
  }
  if (shifted && scores.edit > 0) {
    sentences.push(
      `A ${shifted.period}-frame spike grid that jumps once fits better than any steady one (${round(shifted.gain.relativeZ, 1)} standard deviations beyond what the extra freedom buys by chance): the earlier encoding was cut or joined before the last one.`,
    );
  }
  return sentences.join(' ');
}

function footprint(period: number, picture: RefreshJudgement | null): string {
  return picture?.verdict === 'whole-picture'
    ? `the footprint of an earlier encoding with a ${period}-frame GOP, seen in the decoded pictures`
    : `the footprint of an earlier encoding with a ${period}-frame GOP, or of content that changes in that rhythm (the decoded pictures do not tell)`;
}

const notDecoded = 'the frames have no timestamps to place decoded pictures by';

const percent = (logRatio: number): string => `${round((Math.exp(logRatio) - 1) * 100, 1)}%`;

function measured(
  result: PeriodicityResult,
  scores: { reencode: number; edit: number },
  pictures: PictureChecks,
): DetectorFinding['measurements'] {
  const { steady, shifted } = result;
  const packet = packetScores(result);
  const share = (value: number | null | undefined) =>
    value === null || value === undefined ? null : round(value);
  return {
    estimatedOriginalGop: steady.period,
    periodicityPhase: steady.phase,
    periodicityCombZ: round(steady.observed),
    periodicityNullMean: round(steady.nullMean),
    periodicityNullSd: round(steady.nullSd),
    periodicityRelativeZ: round(steady.relativeZ),
    periodicityExceedances: steady.exceedances,
    periodicitySpikeSize: round(steady.spikeSize),
    periodicityPacketScore: round(packet.reencode),
    pictureVerdict: pictures.steady?.verdict ?? null,
    pictureGridShare: share(pictures.steady?.teethShare),
    pictureOrdinaryShare: share(pictures.steady?.ordinaryShare),
    pictureKeyframeShare: share(pictures.steady?.keyframeShare),
    shiftedPeriod: shifted?.period ?? null,
    shiftedAtFrame: shifted?.shiftAt ?? null,
    shiftedRelativeZ: shifted ? round(shifted.relativeZ) : null,
    shiftedExceedances: shifted?.exceedances ?? null,
    shiftGainZ: shifted ? round(shifted.gain.observed) : null,
    shiftGainRelativeZ: shifted ? round(shifted.gain.relativeZ) : null,
    shiftedSpikeSize: shifted ? round(shifted.spikeSize) : null,
    shiftedPacketScore: round(packet.edit),
    shiftedPictureVerdict: pictures.shifted?.verdict ?? null,
    shiftedPictureGridShare: share(pictures.shifted?.teethShare),
    permutations: result.permutations,
    reencodeScore: round(scores.reencode),
    editScore: round(scores.edit),
  };
}
