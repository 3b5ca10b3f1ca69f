import { mean, standardDeviation } from './statistics.js';

/**
 * Comb search over presentation positions: for a period P and phase φ, the comb is every position
 * φ, φ+P, φ+2P... Its z-score is the summed excess of the covered spikes over their mean, in standard
 * errors. A shifted comb keeps one phase up to a tooth and another after it.
 */

export interface SteadyComb {
  period: number;
  phase: number;
  z: number;
}

export interface ShiftedComb extends SteadyComb {
  phaseAfter: number;
  /** First position on the new phase. */
  shiftAt: number;
}

export interface CombSearch {
  steady: SteadyComb;
  /** Best steady comb of each period (to prefer a fundamental over its multiples). */
  steadyByPeriod: Map<number, SteadyComb>;
  /** Null when no period had room for a shift with enough teeth on both sides. */
  shifted: ShiftedComb | null;
}

/** Teeth a comb (or each side of a shifted comb) needs before its z counts. */
export const minTeeth = 4;

/**
 * @param spikes one value per forward frame
 * @param owners per position, the forward frame covering it (-1: none, the position is skipped)
 */
export function searchCombs(
  spikes: readonly number[],
  owners: Int32Array,
  periods: readonly number[],
): CombSearch {
  const covered: number[] = [];
  for (const owner of owners) if (owner >= 0) covered.push(spikes[owner] as number);
  const average = mean(covered);
  const spread = standardDeviation(covered) || Number.EPSILON;
  const excess = new Float64Array(owners.length);
  const counted = new Uint8Array(owners.length);
  owners.forEach((owner, position) => {
    if (owner < 0) return;
    excess[position] = (spikes[owner] as number) - average;
    counted[position] = 1;
  });
  const sums = new PhaseSums(periods.at(-1) ?? 0);
  const result: CombSearch = {
    steady: { period: 0, phase: 0, z: Number.NEGATIVE_INFINITY },
    steadyByPeriod: new Map(),
    shifted: null,
  };
  for (const period of periods) {
    const { steady, shifted } = combsOfPeriod({ excess, counted, spread, sums }, period);
    result.steadyByPeriod.set(period, steady);
    if (steady.z > result.steady.z) result.steady = steady;
    if (shifted && shifted.z > (result.shifted?.z ?? Number.NEGATIVE_INFINITY)) result.shifted = shifted;
  }
  return result;
}

/** Per-phase running sums, allocated once per search. */
class PhaseSums {
  readonly totalExcess: Float64Array;
  readonly totalCount: Int32Array;
  readonly prefixExcess: Float64Array;
  readonly prefixCount: Int32Array;

  constructor(size: number) {
    this.totalExcess = new Float64Array(size);
    this.totalCount = new Int32Array(size);
    this.prefixExcess = new Float64Array(size);
    this.prefixCount = new Int32Array(size);
  }

  reset(period: number): void {
    for (const sums of [this.totalExcess, this.totalCount, this.prefixExcess, this.prefixCount])
      sums.fill(0, 0, period);
  }
}

/** Position = tooth × period + phase, so each tooth is a contiguous run of `period` positions. */
function combsOfPeriod(
  search: { excess: Float64Array; counted: Uint8Array; spread: number; sums: PhaseSums },
  period: number,
): { steady: SteadyComb; shifted: ShiftedComb | null } {
  const { excess, counted, spread, sums } = search;
  const { totalExcess, totalCount, prefixExcess, prefixCount } = sums;
  const length = excess.length;
  sums.reset(period);
  for (
    let position = 0, phase = 0;
    position < length;
    position++, phase = phase + 1 === period ? 0 : phase + 1
  ) {
    totalExcess[phase] = (totalExcess[phase] as number) + (excess[position] as number);
    totalCount[phase] = (totalCount[phase] as number) + (counted[position] as number);
  }
  const z = (sum: number, count: number) =>
    count >= minTeeth - 1 ? sum / (spread * Math.sqrt(count)) : Number.NEGATIVE_INFINITY;
  const steady: SteadyComb = { period, phase: 0, z: Number.NEGATIVE_INFINITY };
  for (let phase = 0; phase < period; phase++) {
    const candidate = z(totalExcess[phase] as number, totalCount[phase] as number);
    if (candidate > steady.z) Object.assign(steady, { phase, z: candidate });
  }
  let shifted: ShiftedComb | null = null;
  const teeth = Math.ceil(length / period);
  for (let split = 1; split < teeth; split++) {
    let [before, after] = [0, 0];
    for (let phase = 0, position = (split - 1) * period; phase < period; phase++, position++) {
      if (position < length) {
        prefixExcess[phase] = (prefixExcess[phase] as number) + (excess[position] as number);
        prefixCount[phase] = (prefixCount[phase] as number) + (counted[position] as number);
      }
      if ((prefixExcess[phase] as number) > (prefixExcess[before] as number)) before = phase;
      const rest = (totalExcess[phase] as number) - (prefixExcess[phase] as number);
      if (rest > (totalExcess[after] as number) - (prefixExcess[after] as number)) after = phase;
    }
    // A shift of one frame is B-frame jitter in which reference covers the position, not a jump.
    const distance = Math.abs(before - after);
    if (split < minTeeth - 1 || teeth - split < minTeeth - 1 || Math.min(distance, period - distance) <= 1)
      continue;
    const sum =
      (prefixExcess[before] as number) + (totalExcess[after] as number) - (prefixExcess[after] as number);
    const count =
      (prefixCount[before] as number) + (totalCount[after] as number) - (prefixCount[after] as number);
    const candidate = z(sum, count);
    if (candidate > (shifted?.z ?? Number.NEGATIVE_INFINITY)) {
      shifted = { period, phase: before, phaseAfter: after, shiftAt: split * period + after, z: candidate };
    }
  }
  return { steady, shifted };
}
