import type { Evidence } from '../detector.js';
import { keyframePositions, type DisplayFrame } from './display-order-frames.js';
import { median, round } from './statistics.js';

/**
 * Keyframe cadence and timing, the traces a join leaves when segments are copied together without
 * re-encoding. Scores per finding (documented thresholds):
 * - the GOP length settles into one regular value, then into another (each for ≥3 GOPs): 0.75
 *   (the same, 2 GOPs each side: 0.5) — two encoders or two settings in one stream;
 * - the frame duration changes by more than 15% at a keyframe (median of the frames around it): 0.5;
 * - keyframes off an otherwise regular cadence (≥70% of GOPs within ±1 frame): 0.15 for one, 0.25 for
 *   more — scene-cut keyframes do the same, so alone this never leaves the low band;
 * - a presentation gap longer than 3 frame durations: 0.25 (variable-rate phones also do this).
 * The cadence score is the strongest finding.
 */

export interface CadenceFinding extends Evidence {
  score: number;
}

export interface CadenceResult {
  gopLengths: number[];
  /** The most common GOP length (±1 frame), when any GOP is complete. */
  dominantGop: number | null;
  /** Share of GOPs within ±1 frame of the dominant one. */
  regularity: number;
  findings: CadenceFinding[];
  score: number;
}

const tolerance = 1;
const regularCadence = 0.7;
const frameRateChange = 1.15;
const gapFactor = 3;

export function analyseGopCadence(frames: readonly DisplayFrame[]): CadenceResult {
  const keyframes = keyframePositions(frames);
  const gopLengths = keyframes.slice(1).map((position, i) => position - (keyframes[i] as number));
  const { value: dominantGop, share: regularity } = dominantLength(gopLengths);
  const timeOf = (position: number) => frames[position]?.timeSeconds ?? undefined;
  const findings = [
    ...regimeChanges(gopLengths, keyframes, timeOf),
    ...frameDurationChanges(frames, keyframes),
    ...offCadenceKeyframes(gopLengths, keyframes, dominantGop, regularity, timeOf),
    ...presentationGaps(frames),
  ];
  return {
    gopLengths,
    dominantGop,
    regularity,
    findings,
    score: Math.max(0, ...findings.map((finding) => finding.score)),
  };
}

function dominantLength(lengths: readonly number[]): { value: number | null; share: number } {
  let best: { value: number | null; count: number } = { value: null, count: 0 };
  for (const candidate of new Set(lengths)) {
    const count = lengths.filter((length) => Math.abs(length - candidate) <= tolerance).length;
    if (count > best.count || (count === best.count && candidate > (best.value ?? 0)))
      best = { value: candidate, count };
  }
  return { value: best.value, share: lengths.length === 0 ? 0 : best.count / lengths.length };
}

interface Run {
  start: number;
  length: number;
  value: number;
}

/** Maximal stretches of consecutive GOPs within ±1 frame of each other. */
function regularRuns(lengths: readonly number[]): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < lengths.length;) {
    const value = lengths[i] as number;
    let end = i + 1;
    while (end < lengths.length && Math.abs((lengths[end] as number) - value) <= tolerance) end++;
    runs.push({ start: i, length: end - i, value: median(lengths.slice(i, end)) });
    i = end;
  }
  return runs;
}

function regimeChanges(
  lengths: readonly number[],
  keyframes: readonly number[],
  timeOf: (position: number) => number | undefined,
): CadenceFinding[] {
  const runs = regularRuns(lengths).filter((run) => run.length >= 2);
  const findings: CadenceFinding[] = [];
  for (let i = 1; i < runs.length; i++) {
    const [before, after] = [runs[i - 1] as Run, runs[i] as Run];
    const difference = Math.abs(before.value - after.value);
    if (difference <= Math.max(tolerance, 0.1 * Math.max(before.value, after.value))) continue;
    // The join is where the new cadence starts; a short GOP before it is the cut-off end of the first stream.
    const boundary = keyframes[after.start] as number;
    const score = before.length >= 3 && after.length >= 3 ? 0.75 : 0.5;
    findings.push({
      kind: 'gop-cadence-change',
      score,
      summary: `keyframes came every ${before.value} frames for ${before.length} GOPs, then every ${after.value} frames for ${after.length} GOPs: two differently encoded streams joined`,
      timeSeconds: timeOf(boundary),
      data: {
        before: before.value,
        after: after.value,
        gopsBefore: before.length,
        gopsAfter: after.length,
        frame: boundary,
      },
    });
  }
  return findings;
}

function frameDurationChanges(
  frames: readonly DisplayFrame[],
  keyframes: readonly number[],
): CadenceFinding[] {
  const durations = frameDurations(frames);
  if (durations === null) return [];
  const changes = keyframes.map((boundary, i) => {
    const before = durations.slice(keyframes[Math.max(0, i - 2)] as number, boundary - 1);
    const after = durations.slice(boundary, (keyframes[i + 2] ?? frames.length) - 1);
    if (i === 0 || before.length < 10 || after.length < 10) return null;
    return { boundary, fpsBefore: 1 / median(before), fpsAfter: 1 / median(after) };
  });
  const strength = (i: number) => {
    const change = changes[i];
    return change ? Math.abs(Math.log(change.fpsAfter / change.fpsBefore)) : 0;
  };
  // Windows around the keyframes next to a change straddle it too; the keyframe where it is sharpest names it.
  return changes.flatMap((change, i) => {
    if (
      !change ||
      strength(i) < Math.log(frameRateChange) ||
      strength(i) < strength(i - 1) ||
      strength(i) < strength(i + 1)
    ) {
      return [];
    }
    const [before, after] = [round(change.fpsBefore, 2), round(change.fpsAfter, 2)];
    return [
      {
        kind: 'frame-rate-change',
        score: 0.5,
        summary: `the frame rate changes from ${before} to ${after} fps at a keyframe`,
        timeSeconds: frames[change.boundary]?.timeSeconds ?? undefined,
        data: { fpsBefore: before, fpsAfter: after, frame: change.boundary },
      },
    ];
  });
}

function offCadenceKeyframes(
  lengths: readonly number[],
  keyframes: readonly number[],
  dominant: number | null,
  regularity: number,
  timeOf: (position: number) => number | undefined,
): CadenceFinding[] {
  if (dominant === null || lengths.length < 3 || regularity < regularCadence) return [];
  const irregular = lengths.flatMap((length, i) => (Math.abs(length - dominant) > tolerance ? [i + 1] : []));
  if (irregular.length === 0) return [];
  const times = irregular.map((index) => timeOf(keyframes[index] as number) ?? null);
  return [
    {
      kind: 'irregular-keyframes',
      score: irregular.length === 1 ? 0.15 : 0.25,
      summary: `${irregular.length} keyframe(s) break the regular ${dominant}-frame cadence (a join, or scene-cut keyframes)`,
      timeSeconds: times[0] ?? undefined,
      data: { dominantGop: dominant, times },
    },
  ];
}

function presentationGaps(frames: readonly DisplayFrame[]): CadenceFinding[] {
  const durations = frameDurations(frames);
  if (durations === null) return [];
  const typical = median(durations);
  const gaps = durations.flatMap((duration, i) => (duration > gapFactor * typical ? [i] : []));
  if (gaps.length === 0) return [];
  const first = gaps[0] as number;
  return [
    {
      kind: 'timestamp-gap',
      score: 0.25,
      summary: `${gaps.length} gap(s) in presentation time longer than ${gapFactor} frame durations (frames missing or cut out)`,
      timeSeconds: frames[first]?.timeSeconds ?? undefined,
      data: {
        gaps: gaps.length,
        longestSeconds: round(Math.max(...gaps.map((i) => durations[i] as number)), 4),
      },
    },
  ];
}

/** Durations between consecutive presented frames; null when timestamps are missing or not increasing. */
function frameDurations(frames: readonly DisplayFrame[]): number[] | null {
  const durations: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const [previous, current] = [frames[i - 1]?.timeSeconds, frames[i]?.timeSeconds];
    if (previous === null || previous === undefined || current === null || current === undefined) return null;
    durations.push(current - previous);
  }
  return durations.length > 0 && median(durations) > 0 ? durations : null;
}
