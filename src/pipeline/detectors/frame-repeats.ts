import type { DisplayFrame } from './display-order-frames.js';
import { median } from './statistics.js';

/** A predicted frame that carries almost nothing: what an encoder writes for a picture that repeats its reference. */
export interface RepeatedFrame {
  index: number;
  timeSeconds: number | null;
  sizeBytes: number;
  /** Lower quartile of the sizes of predicted frames of the same role around it. */
  neighbourBytes: number;
}

export interface RepeatRun {
  firstIndex: number;
  lastIndex: number;
  timeSeconds: number | null;
  frames: number;
}

export interface RepeatScan {
  /** Predicted frames whose neighbours carry enough bytes that a repeat would stand out. */
  examined: number;
  repeats: RepeatedFrame[];
  runs: RepeatRun[];
  /** Set when the runs come at one steady spacing: frame-rate conversion by duplication, not an edit. */
  periodicSpacing: number | null;
}

export interface RepeatScanOptions {
  /** Macroblocks (16×16) in a picture: sizes are judged per macroblock, so the rule holds at any resolution. */
  macroblocks: number;
  /** Neighbours must carry at least this many bytes per macroblock (noise or motion) for a frame to be examined. */
  minNeighbourBytesPerMacroblock: number;
  /** A frame at most this share of its neighbours' lower quartile is a repeat… */
  maxShareOfNeighbours: number;
  /** …and at most this many bytes per macroblock (all-skip pictures cost a fraction of a bit per macroblock). */
  maxBytesPerMacroblock: number;
  /** Frames on each side whose sizes make the neighbourhood. */
  window: number;
}

export const defaultRepeatScan: Omit<RepeatScanOptions, 'macroblocks'> = {
  minNeighbourBytesPerMacroblock: 0.3,
  maxShareOfNeighbours: 0.1,
  maxBytesPerMacroblock: 0.12,
  window: 12,
};

/** Finds predicted frames that repeat the picture before them, from packet sizes in presentation order. */
export function scanFrameRepeats(frames: readonly DisplayFrame[], options: RepeatScanOptions): RepeatScan {
  const repeats: RepeatedFrame[] = [];
  let examined = 0;
  for (const [position, frame] of frames.entries()) {
    if (frame.role === 'intra') continue;
    const neighbourBytes = neighbourLowerQuartile(frames, position, options.window);
    if (
      neighbourBytes === null ||
      neighbourBytes < options.minNeighbourBytesPerMacroblock * options.macroblocks
    )
      continue;
    examined += 1;
    if (
      frame.sizeBytes <= options.maxShareOfNeighbours * neighbourBytes &&
      frame.sizeBytes <= options.maxBytesPerMacroblock * options.macroblocks
    )
      repeats.push({
        index: frame.index,
        timeSeconds: frame.timeSeconds,
        sizeBytes: frame.sizeBytes,
        neighbourBytes,
      });
  }
  const runs = groupRuns(repeats);
  return { examined, repeats, runs, periodicSpacing: steadySpacing(runs) };
}

/**
 * Same-role predicted frames nearby, the frame itself left out; null with too few to judge. The lower quartile,
 * not the median: in a mostly static scene a few busy frames must not make a still frame look frozen.
 */
function neighbourLowerQuartile(
  frames: readonly DisplayFrame[],
  position: number,
  window: number,
): number | null {
  const role = frames[position]!.role;
  const sizes: number[] = [];
  const from = Math.max(0, position - window);
  const to = Math.min(frames.length - 1, position + window);
  for (let i = from; i <= to; i++) {
    if (i !== position && frames[i]!.role === role) sizes.push(frames[i]!.sizeBytes);
  }
  if (sizes.length < 4) return null;
  sizes.sort((a, b) => a - b);
  return sizes[Math.floor((sizes.length - 1) / 4)]!;
}

function groupRuns(repeats: readonly RepeatedFrame[]): RepeatRun[] {
  const runs: RepeatRun[] = [];
  for (const repeat of repeats) {
    const last = runs.at(-1);
    // A repeated B-frame and the P-frame it leans on can be one frozen stretch with a coded frame between.
    if (last && repeat.index - last.lastIndex <= 2) {
      last.lastIndex = repeat.index;
      last.frames += 1;
    } else
      runs.push({
        firstIndex: repeat.index,
        lastIndex: repeat.index,
        timeSeconds: repeat.timeSeconds,
        frames: 1,
      });
  }
  return runs;
}

/** At least four runs, spaced within one frame of the same distance: a cadence, as 24→30 fps conversion makes. */
function steadySpacing(runs: readonly RepeatRun[]): number | null {
  if (runs.length < 4) return null;
  const gaps = runs.slice(1).map((run, i) => run.firstIndex - runs[i]!.firstIndex);
  const typical = median(gaps);
  return gaps.every((gap) => Math.abs(gap - typical) <= 1) ? typical : null;
}
