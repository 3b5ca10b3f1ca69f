import type { DisplayFrame } from './display-order-frames.js';
import { minTeeth, searchCombs, type CombSearch } from './comb-search.js';
import { mean, median, seededRandom, shuffleInPlace, standardDeviation } from './statistics.js';

/**
 * Variation-of-prediction footprint (after Vázquez-Padín et al., WIFS 2012, and the B-frame-aware
 * G-VPF, IEEE TIFS 2020), measured on packet sizes instead of macroblock counts. When a video is
 * decoded and encoded again, every frame that was an I-frame in the first encoding sits on a quality
 * discontinuity, so the P-frame that predicts it costs more bits: forward-frame sizes spike with the
 * period of the first GOP. With B-frames the spike moves to the next P-frame, which is why each
 * position is represented by the reference frame that covers it.
 *
 * Two questions, each tested against the same shuffles of the spikes: does one grid fit throughout
 * (an earlier encoding with that GOP), and does a grid that jumps once fit better (footage cut or
 * joined between the two encodings)?
 */

export interface PeriodicityOptions {
  /** Keyframe interval of the file as it is; its multiples are not searched (they are its own rhythm). */
  currentGop: number | null;
  minPeriod: number;
  maxPeriod: number;
  permutations: number;
  seed: number;
}

/** A statistic and how it compares with the same statistic over shuffled spikes. */
export interface ChanceComparison {
  observed: number;
  /** Over shuffles: what chance alone reaches on this file. */
  nullMean: number;
  nullSd: number;
  /** How far the observed value stands above the shuffled ones, in their standard deviations. */
  relativeZ: number;
  /** Shuffles that reached the observed value. */
  exceedances: number;
}

/** A comb (statistic: the z-score of the spikes on it) against chance. */
export interface CombTest extends ChanceComparison {
  /** Estimated GOP of an earlier encoding, in frames. */
  period: number;
  phase: number;
  /** Presentation positions on the comb (candidate I-frame positions of the earlier encoding). */
  positions: number[];
  /**
   * Median of how much the P-frames on the comb exceed the mean of their neighbouring P-frames, in log
   * size (0.1 ≈ 10% larger): how many bits a spike costs, where relativeZ says how sure it is.
   */
  spikeSize: number;
}

export interface ShiftedCombTest extends CombTest {
  phaseAfter: number;
  /** First presentation position on the new phase. */
  shiftAt: number;
  /** How much better the jumping grid fits than the best steady one (z difference), against chance. */
  gain: ChanceComparison;
}

export interface PeriodicityResult {
  /** One grid throughout. */
  steady: CombTest;
  /** The best grid that jumps once; null when the stream is too short for one. */
  shifted: ShiftedCombTest | null;
  permutations: number;
  forwardFrames: number;
}

const minForwardFrames = 20;
// A divisor period is preferred when its comb is nearly as strong: spikes every 12 also fit every 24.
const harmonicTolerance = 0.8;

export function analysePredictionPeriodicity(
  frames: readonly DisplayFrame[],
  options: PeriodicityOptions,
): PeriodicityResult | null {
  const forward = frames.filter((frame) => frame.role === 'forward');
  if (forward.length < minForwardFrames) return null;
  const logSizes = forward.map((frame) => Math.log(frame.sizeBytes));
  const peaks = localPeaks(logSizes);
  const owners = coveringForwardFrame(frames);
  const periods = candidatePeriods(frames.length, options);
  if (periods.length === 0 || standardDeviation(peaks) === 0) return null;

  const observed = searchCombs(peaks, owners, periods);
  const strata = strataByPlaceInGop(frames, forward);
  const random = seededRandom(options.seed);
  const shuffled: CombSearch[] = [];
  for (let i = 0; i < options.permutations; i++) {
    shuffled.push(searchCombs(shuffleWithinStrata(peaks, strata, random), owners, periods));
  }
  const steady =
    observed.steadyByPeriod.get(fundamentalPeriod(observed, options.minPeriod)) ?? observed.steady;
  const { shifted } = observed;
  const shiftedNull = shuffled.flatMap((search) => (search.shifted ? [search.shifted] : []));
  const steadyZ = (search: CombSearch) => search.steady.z;
  const steadyPositions = gridPositions(owners, steady.period, steady.phase, 0, frames.length);
  return {
    steady: {
      period: steady.period,
      phase: steady.phase,
      ...againstChance(observed.steady.z, shuffled.map(steadyZ)),
      positions: steadyPositions,
      spikeSize: spikeSize(logSizes, owners, steadyPositions),
    },
    shifted:
      shifted && shiftedNull.length === shuffled.length
        ? {
            period: shifted.period,
            phase: shifted.phase,
            phaseAfter: shifted.phaseAfter,
            shiftAt: shifted.shiftAt,
            ...againstChance(
              shifted.z,
              shiftedNull.map((comb) => comb.z),
            ),
            gain: againstChance(
              shifted.z - observed.steady.z,
              shuffled.map((search) => (search.shifted?.z ?? 0) - search.steady.z),
            ),
            ...shiftedTeeth(logSizes, owners, shifted, frames.length),
          }
        : null,
    permutations: options.permutations,
    forwardFrames: forward.length,
  };
}

function againstChance(observed: number, nullValues: number[]): ChanceComparison {
  const nullMean = mean(nullValues);
  const nullSd = standardDeviation(nullValues);
  return {
    observed,
    nullMean,
    nullSd,
    relativeZ: nullSd > 0 ? (observed - nullMean) / nullSd : 0,
    exceedances: nullValues.filter((value) => value >= observed).length,
  };
}

function shiftedTeeth(
  logSizes: readonly number[],
  owners: Int32Array,
  shifted: { period: number; phase: number; phaseAfter: number; shiftAt: number },
  frameCount: number,
): { positions: number[]; spikeSize: number } {
  const positions = [
    ...gridPositions(owners, shifted.period, shifted.phase, 0, shifted.shiftAt),
    ...gridPositions(owners, shifted.period, shifted.phaseAfter, shifted.shiftAt, frameCount),
  ];
  return { positions, spikeSize: spikeSize(logSizes, owners, positions) };
}

/** Median excess (log size) of the P-frames covering the positions over the mean of their neighbouring P-frames. */
function spikeSize(logSizes: readonly number[], owners: Int32Array, positions: readonly number[]): number {
  const slots = new Set(positions.map((position) => owners[position] as number));
  const excess: number[] = [];
  for (const slot of slots) {
    const [before, size, after] = [logSizes[slot - 1], logSizes[slot] as number, logSizes[slot + 1]];
    if (before === undefined || after === undefined) continue;
    excess.push(size - (before + after) / 2);
  }
  return excess.length ? median(excess) : 0;
}

/** Covered positions of the grid phase + k·period within [from, to). */
function gridPositions(
  owners: Int32Array,
  period: number,
  phase: number,
  from: number,
  to: number,
): number[] {
  const positions: number[] = [];
  const first = from + ((((phase - from) % period) + period) % period);
  for (let position = first; position < to; position += period) {
    if ((owners[position] ?? -1) >= 0) positions.push(position);
  }
  return positions;
}

/** How much each frame stands above both neighbours (log size), 0 when it does not. */
function localPeaks(logSizes: number[]): number[] {
  return logSizes.map((size, i) => {
    const before = logSizes[i - 1] ?? logSizes[i + 1] ?? size;
    const after = logSizes[i + 1] ?? logSizes[i - 1] ?? size;
    return Math.max(0, Math.min(size - before, size - after));
  });
}

/**
 * Forward frames grouped by their place in the current GOP: the first one after each keyframe on its
 * own (the encoder spends on it whatever B-frames precede it), the others by their distance from the
 * keyframe. Shuffling only within a group keeps what the current encoder does at fixed places in its
 * own GOP in the chance model, so only a rhythm foreign to the current GOP stands out.
 */
function strataByPlaceInGop(frames: readonly DisplayFrame[], forward: readonly DisplayFrame[]): number[][] {
  const lastKeyframe = new Int32Array(frames.length).fill(-1);
  let latest = -1;
  for (const frame of frames) {
    if (frame.role === 'intra') latest = frame.index;
    lastKeyframe[frame.index] = latest;
  }
  const strata = new Map<number, number[]>();
  let previousAnchor = -2;
  forward.forEach((frame, slot) => {
    const anchor = lastKeyframe[frame.index] as number;
    const first = anchor >= 0 && anchor !== previousAnchor;
    previousAnchor = anchor;
    // Offset 0 is the keyframe itself, never a forward frame: free for the first one.
    const key = anchor < 0 ? -1 : first ? 0 : frame.index - anchor;
    const stratum = strata.get(key);
    if (stratum) stratum.push(slot);
    else strata.set(key, [slot]);
  });
  return [...strata.values()];
}

function shuffleWithinStrata(
  values: readonly number[],
  strata: readonly number[][],
  random: () => number,
): number[] {
  const shuffled = [...values];
  for (const slots of strata) {
    const permuted = shuffleInPlace([...slots], random);
    slots.forEach((slot, i) => (shuffled[slot] = values[permuted[i] as number] as number));
  }
  return shuffled;
}

/** For each presentation position, the forward frame that first shows it or comes next (-1: a keyframe covers it). */
function coveringForwardFrame(frames: readonly DisplayFrame[]): Int32Array {
  const owners = new Int32Array(frames.length).fill(-1);
  let forwardSlot = -1;
  let pending = 0;
  for (const frame of frames) {
    if (frame.role === 'reordered') continue;
    if (frame.role === 'forward') forwardSlot += 1;
    const owner = frame.role === 'forward' ? forwardSlot : -1;
    owners.fill(owner, pending, frame.index + 1);
    pending = frame.index + 1;
  }
  return owners;
}

/**
 * Multiples of the current GOP are left out (they are its own rhythm). Its divisors stay: an earlier
 * GOP of 15 under a GOP of 30 shows wherever the two grids are not aligned, and the encoder's own
 * rhythm at fixed places in its GOP is in the chance model through the strata (which also hide an
 * earlier grid aligned with the current one).
 */
function candidatePeriods(frameCount: number, options: PeriodicityOptions): number[] {
  const periods: number[] = [];
  const longest = Math.min(options.maxPeriod, Math.floor(frameCount / minTeeth));
  for (let period = options.minPeriod; period <= longest; period++) {
    const gop = options.currentGop;
    const multiple = gop ? Math.round(period / gop) : 0;
    if (gop && multiple >= 1 && Math.abs(period - multiple * gop) <= 1) continue;
    periods.push(period);
  }
  return periods;
}

function fundamentalPeriod(search: CombSearch, minPeriod: number): number {
  const { period, z } = search.steady;
  for (let divisor = Math.floor(period / minPeriod); divisor >= 2; divisor--) {
    if (period % divisor !== 0) continue;
    const candidate = search.steadyByPeriod.get(period / divisor)?.z;
    if (candidate !== undefined && candidate >= harmonicTolerance * z) return period / divisor;
  }
  return period;
}
