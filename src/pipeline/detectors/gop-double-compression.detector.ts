import type { KnownStream } from '../../media/media-probe.js';
import { maxKeptPackets } from '../../media/packet-scan.js';
import type { Detector, DetectorContext, DetectorFinding } from '../detector.js';
import { framesInDisplayOrder, keyframePositions, type DisplayFrame } from './display-order-frames.js';
import { analyseGopCadence } from './gop-cadence.js';
import { judgeRefresh, measureRefresh } from './picture-refresh.js';
import {
  packetScores,
  periodicityFindings,
  worthPictures,
  type PictureChecks,
} from './periodicity-findings.js';
import {
  analysePredictionPeriodicity,
  type CombTest,
  type PeriodicityResult,
} from './prediction-periodicity.js';
import { round } from './statistics.js';
import { expectedFrameCount, intraOnlyCodecs, isStillImage, primaryVideoStream } from './video-stream.js';

const minFrames = 60;
// The comb search is O(frames × periods × shuffles), about 1.2 s CPU at this size; longer streams are
// analysed from the start (the packet table keeps only this many packets).
const maxFrames = maxKeptPackets;
const permutations = 32;
const permutationSeed = 0x9e3779b9;
const minPeriod = 6;
const maxPeriod = 300;
/** Grid frames decoded to check a comb in the pictures; the decode runs from the start and stops at… */
const pictureTeeth = 16;
/** …at most this many frames (a minute at 25 fps), grey at 640 px wide. */
const maxPictureFrames = 1500;
/** Keyframes of the file decoded as the positive control, when they come early enough. */
const pictureKeyframes = 3;

export function createGopDoubleCompressionDetector(): Detector {
  return {
    id: 'gop-double-compression',
    version: '1.1.0',
    // Pictures: a comb in the packet sizes is checked in pictures it decodes from the start.
    needs: ['probe', 'packets', 'pictures'],
    strength: 'standard',
    description:
      'Re-encoding and joins from the packet table: P-frame size spikes on the grid of an earlier GOP (steady, or jumping where footage was joined), checked in the decoded pictures, and breaks in the keyframe cadence.',
    applicable({ probe }) {
      const video = primaryVideoStream(probe);
      if (!video) return { applicable: false, reason: 'no video stream' };
      if (isStillImage(probe, video))
        return { applicable: false, reason: 'a still image has no group of pictures' };
      if (intraOnlyCodecs.has(video.codecName ?? '')) {
        return {
          applicable: false,
          reason: `${video.codecName} is intra-only: every frame is coded on its own, there is no GOP`,
        };
      }
      const frames = expectedFrameCount(probe, video);
      if (frames !== null && frames < minFrames) {
        return {
          applicable: false,
          reason: `too short: about ${frames} frames, at least ${minFrames} are needed`,
        };
      }
      return { applicable: true };
    },
    analyze,
  };
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const video = primaryVideoStream(context.probe);
  if (!video) throw new Error('no video stream');
  // Only packets whose bytes are in the file: a truncated file is judged on what it holds.
  const table = await context.mediaTools.packets(
    context.input,
    video.index,
    { sizeBytes: context.sizeBytes },
    context.signal,
  );
  const present = table.presentPackets;
  const frames = framesInDisplayOrder(table.packets);
  const analysed = frames.slice(0, maxFrames);
  const coverage = {
    unit: 'video packets',
    analysed: analysed.length,
    total: present,
    fraction: present ? Math.min(1, analysed.length / present) : 0,
  };
  const abstain = (abstainReason: string): DetectorFinding => ({
    score: null,
    abstainReason,
    coverage,
    evidence: [],
    explanation: abstainReason,
    measurements: { packets: present },
  });
  if (frames.length < minFrames)
    return abstain(`only ${frames.length} video packets present; at least ${minFrames} are needed`);
  if (frames.every((frame) => frame.role === 'intra')) {
    return abstain('every frame is a keyframe (intra-only coding), so there is no prediction to examine');
  }

  const cadence = analyseGopCadence(analysed);
  const regular = cadence.regularity >= 0.5 ? cadence.dominantGop : null;
  const periodicity = analysePredictionPeriodicity(analysed, {
    currentGop: regular,
    minPeriod,
    maxPeriod,
    permutations,
    seed: permutationSeed,
  });
  const pictures = await checkPictures(context, video, analysed, periodicity);
  const prediction = periodicityFindings(periodicity, analysed, regular, pictures);
  // Independent footprints of different processing: any one is enough, together they reinforce.
  const score = 1 - (1 - prediction.reencodeScore) * (1 - prediction.editScore) * (1 - cadence.score);
  const joins = cadence.findings.length
    ? `Timing: ${cadence.findings.map((finding) => finding.summary).join('; ')}.`
    : 'Keyframe cadence and timestamps show no join.';
  const gop = regular
    ? `Keyframes come every ${regular} frames (${round(cadence.regularity * 100, 0)}% of GOPs). `
    : '';
  return {
    score: round(score),
    coverage,
    evidence: [...prediction.evidence, ...cadence.findings.map(({ score: _score, ...evidence }) => evidence)],
    explanation: `${gop}${prediction.summary} ${joins} Re-encoding is common (platforms do it) and is not manipulation by itself.`,
    measurements: {
      packets: present,
      framesAnalysed: analysed.length,
      keyframes: analysed.filter((frame) => frame.role === 'intra').length,
      forwardFrames: analysed.filter((frame) => frame.role === 'forward').length,
      reorderedFrames: analysed.filter((frame) => frame.role === 'reordered').length,
      dominantGop: cadence.dominantGop,
      gopRegularity: round(cadence.regularity),
      gopLengths: cadence.gopLengths.slice(0, 50).join(','),
      ...prediction.measurements,
      cadenceScore: round(cadence.score),
      score: round(score),
    },
  };
}

/**
 * Decodes the start of the stream when a comb stands out in the packet sizes, to see whether its frames
 * were whole pictures coded afresh (an earlier encoding) or content changing in a rhythm.
 */
async function checkPictures(
  context: DetectorContext,
  stream: KnownStream,
  frames: readonly DisplayFrame[],
  result: PeriodicityResult | null,
): Promise<PictureChecks> {
  if (!result) return { steady: null, shifted: null };
  const packet = packetScores(result);
  const combs = {
    steady: worthPictures(result.steady, packet.reencode) ? result.steady : null,
    shifted: result.shifted && worthPictures(result.shifted, packet.edit) ? result.shifted : null,
  };
  if (!combs.steady && !combs.shifted) return { steady: null, shifted: null };
  const keyframes = keyframePositions(frames);
  const anchors = referenceAnchors(frames);
  const margin = 1 + longestReorderedRun(frames);
  const wanted = (comb: CombTest | null) => comb?.positions[pictureTeeth - 1] ?? comb?.positions.at(-1) ?? 0;
  const end = Math.min(
    frames.length - 1,
    maxPictureFrames,
    Math.max(
      wanted(combs.steady),
      wanted(combs.shifted),
      keyframes[Math.min(pictureKeyframes, keyframes.length - 1)] ?? 0,
    ) +
      margin +
      2,
  );
  const shares = await measureRefresh(context.mediaTools, context.input, {
    stream,
    frames,
    end,
    signal: context.signal,
  });
  const judge = (comb: CombTest | null) =>
    comb && shares
      ? judgeRefresh(shares, {
          teeth: comb.positions.filter((position) => position < end),
          keyframes,
          anchors,
          margin,
        })
      : null;
  return { steady: judge(combs.steady), shifted: judge(combs.shifted) };
}

/** Per position, the next position (or itself) that is not a B-frame: the P-frame whose size carries a change there. */
function referenceAnchors(frames: readonly DisplayFrame[]): Int32Array {
  const anchors = new Int32Array(frames.length);
  let anchor = frames.length - 1;
  for (let position = frames.length - 1; position >= 0; position--) {
    if (frames[position]?.role !== 'reordered') anchor = position;
    anchors[position] = anchor;
  }
  return anchors;
}

/** Most B-frames in a row: how far after a grid position the picture it names may lie. */
function longestReorderedRun(frames: readonly DisplayFrame[]): number {
  let [longest, run] = [0, 0];
  for (const frame of frames) {
    run = frame.role === 'reordered' ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return Math.min(longest, 4);
}
