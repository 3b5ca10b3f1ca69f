import type { FaceObservation } from '../../faces/face-types.js';
import { median } from './face-evidence.js';
import { round } from './statistics.js';

type Mesh = FaceObservation['mesh'];

/**
 * Mesh indexes for the eye aspect ratio (Soukupová & Čech 2016) in MediaPipe FaceMesh order: the two
 * corners, then two upper-lid points and the lower-lid points below them.
 */
export const eyeLandmarks = {
  /** The subject's right eye (left in the picture): Human's rightEyeUpper0 / rightEyeLower0. */
  right: { corners: [33, 133], upper: [160, 158], lower: [144, 153] },
  /** The subject's left eye: Human's leftEyeUpper0 / leftEyeLower0. */
  left: { corners: [263, 362], upper: [387, 385], lower: [373, 380] },
} as const;

/** Eyes narrower than this (px, corner to corner) are too coarse for the ratio: the mesh is in whole pixels. */
const minEyeWidthPixels = 12;

/** Lid opening ÷ eye width, averaged over the two lid pairs; null when the eye is too small to read. */
export function eyeAspectRatio(mesh: Mesh, eye: (typeof eyeLandmarks)['left' | 'right']): number | null {
  const distance = (a: number, b: number) => Math.hypot(mesh[a]![0] - mesh[b]![0], mesh[a]![1] - mesh[b]![1]);
  const width = distance(eye.corners[0], eye.corners[1]);
  if (width < minEyeWidthPixels) return null;
  return (distance(eye.upper[0], eye.lower[0]) + distance(eye.upper[1], eye.lower[1])) / (2 * width);
}

export interface EyeReading {
  timeSeconds: number;
  left: number;
  right: number;
}

/** A dip below this share of the track's open-eye ratio is a closure. */
const closedShare = 0.65;
/** A closure longer than this is eyes kept shut, not a blink. */
const longestBlinkSeconds = 0.5;

export interface BlinkStatistics {
  /** Seconds of face followed in consecutive frames. */
  observedSeconds: number;
  framesRead: number;
  /** Median of the two eyes' mean ratio: the open-eye level. */
  openRatio: number;
  ratioPercentiles: { p5: number; p50: number; p95: number };
  blinks: { timeSeconds: number; depth: number; frames: number; oneEyed: boolean }[];
  longClosures: number;
  blinksPerMinute: number;
  /** Median of |left − right| ÷ their mean, over frames with the eyes open. */
  eyeAsymmetry: number;
}

/**
 * Blinks in runs of consecutive frames: a blink is a run of frames whose mean eye ratio dips under
 * `closedShare` of the open level. Returns null when no run holds two frames.
 */
export function blinkStatistics(runs: readonly EyeReading[][]): BlinkStatistics | null {
  const usable = runs.filter((run) => run.length >= 2);
  if (usable.length === 0) return null;
  const all = usable.flat();
  const mean = (reading: EyeReading) => (reading.left + reading.right) / 2;
  const openRatio = median(all.map(mean));
  const threshold = closedShare * openRatio;
  const blinks: BlinkStatistics['blinks'] = [];
  let longClosures = 0;
  let observedSeconds = 0;
  for (const run of usable) {
    const interval = (run[run.length - 1]!.timeSeconds - run[0]!.timeSeconds) / (run.length - 1);
    observedSeconds += run.length * interval;
    let start = -1;
    for (let i = 0; i <= run.length; i++) {
      const closed = i < run.length && mean(run[i]!) < threshold;
      if (closed && start < 0) start = i;
      if (closed || start < 0) continue;
      const dip = run.slice(start, i);
      const deepest = dip.reduce((a, b) => (mean(b) < mean(a) ? b : a));
      if (dip.length * interval > longestBlinkSeconds) longClosures++;
      else
        blinks.push({
          timeSeconds: deepest.timeSeconds,
          depth: round(mean(deepest) / openRatio),
          frames: dip.length,
          oneEyed: Math.max(deepest.left, deepest.right) > 0.9 * openRatio,
        });
      start = -1;
    }
  }
  const sorted = all.map(mean).sort((a, b) => a - b);
  const at = (share: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))]!);
  const open = all.filter((reading) => mean(reading) >= threshold);
  return {
    observedSeconds: round(observedSeconds),
    framesRead: all.length,
    openRatio: round(openRatio),
    ratioPercentiles: { p5: at(0.05), p50: at(0.5), p95: at(0.95) },
    blinks,
    longClosures,
    blinksPerMinute: observedSeconds > 0 ? round((60 * blinks.length) / observedSeconds) : 0,
    eyeAsymmetry: open.length
      ? round(median(open.map((r) => Math.abs(r.left - r.right) / ((r.left + r.right) / 2 || 1))))
      : 0,
  };
}

/**
 * Face time in consecutive frames before blink absence says anything: people blink every 2–10 s, fewer
 * times when reading or staring at a screen (a few a minute), so a blink-free minute is unusual, not proof.
 */
export const minBlinkSeconds = 60;

/** Blink rate → score: only after `minBlinkSeconds` of face, and only ever modest (below the strong band). */
export function blinkScore(statistics: Pick<BlinkStatistics, 'observedSeconds' | 'blinksPerMinute'>) {
  if (statistics.observedSeconds < minBlinkSeconds) return null;
  return statistics.blinksPerMinute < 1 ? 0.5 : 0;
}
