import { forwardDct } from '../../media/jpeg/block-dct.js';
import type { ComponentCoefficients } from '../../media/jpeg/jpeg-coefficients.js';
import { BlockDecoder, decodePlane } from '../../media/jpeg/jpeg-pixels.js';
import { zigzagToNatural } from '../../media/jpeg/jpeg-structure.js';

/**
 * Aligned double quantisation (Lukáš & Fridrich 2003; mixture model after Bianchi & Piva 2012).
 *
 * A JPEG saved once with step q2 has, per DCT frequency, a smooth histogram of quantised values. If the
 * picture had been saved before with step q1 on the same 8×8 grid, its coefficients were multiples of q1
 * when they were quantised again with q2: some bins of the histogram are empty (q1 > q2) or periodically
 * over-full (q1 < q2). The smooth histogram is estimated by calibration: the decoded picture's DCT on a
 * grid shifted by 4 pixels, which does not see the compression grid. Per frequency, the histogram is
 * fitted as a mixture (1 − α)·single + α·double(q1); α near 1 means the whole picture carries the trace.
 */

export interface FrequencyFit {
  /** Zigzag position 1–63. */
  zigzag: number;
  /** Step in the file's table. */
  q2: number;
  /** Most likely earlier step, or null when no candidate explains the histogram better than a single save. */
  q1: number | null;
  /** Share of coefficients explained by the double-quantisation model, 0–1. */
  alpha: number;
  /** Log-likelihood gain of the mixture over a single save, in nats. */
  gain: number;
  /** Total-variation distance between the single and double models: how much this frequency can tell. */
  separation: number;
  /** Coefficients with 1 ≤ |value| ≤ maxValue (the ones that carry the trace). */
  nonZero: number;
  /** Deviance of the best model per coefficient: large when the histogram follows neither model. */
  misfit: number;
  /** Best gain for each candidate earlier step (index q1; 0 where not tried). */
  gainByStep: Float64Array;
  /** Per value v (index v + maxValue), log(double / single) for block-level scoring; 0 where uninformative. */
  logRatio: Float64Array;
}

export interface DoubleQuantisation {
  fits: FrequencyFit[];
  /** Shifted blocks used for calibration. */
  calibrationBlocks: number;
}

export const maxValue = 60;
const binsPerUnit = 4;
const calibrationRange = 1024;
const maxCalibrationBlocks = 32_768;
const noiseLevels = [0.3, 0.6, 1.1];
const maxZigzag = 27;
/** Largest earlier step tried. */
export const maxStep = 48;
const minNonZero = 150;
const minCalibrationBlocks = 64;
// Below this, a double-compression model is mixed with the single one so that one odd value cannot veto a block.
const modelFloor = 0.05;
const tailFloor = 1e-3;

/** Fits every usable low AC frequency of the component's quantised coefficients. */
export function analyseDoubleQuantisation(
  coefficients: ComponentCoefficients,
  table: Uint16Array,
): DoubleQuantisation {
  const frequencies: number[] = [];
  for (let zigzag = 1; zigzag <= maxZigzag; zigzag += 1) frequencies.push(zigzag);
  const calibration = calibrate(coefficients, table, frequencies);
  const fits: FrequencyFit[] = [];
  if (calibration.blocks < minCalibrationBlocks) return { fits, calibrationBlocks: calibration.blocks };
  frequencies.forEach((zigzag, index) => {
    const natural = zigzagToNatural[zigzag] as number;
    const q2 = table[natural] as number;
    const counts = observedCounts(coefficients, natural);
    const nonZero = counts.reduce((sum, count) => sum + count, 0);
    if (nonZero < minNonZero) return;
    fits.push(fitFrequency(zigzag, q2, counts, nonZero, calibration.histograms[index] as Float64Array));
  });
  return { fits, calibrationBlocks: calibration.blocks };
}

/** Counts of each value v with 1 ≤ |v| ≤ maxValue at one frequency (index v + maxValue; 0 stays empty). */
function observedCounts(coefficients: ComponentCoefficients, natural: number): Float64Array {
  const counts = new Float64Array(2 * maxValue + 1);
  const { data, stride, blocksWide, blocksHigh } = coefficients;
  for (let by = 0; by < blocksHigh; by += 1)
    for (let bx = 0; bx < blocksWide; bx += 1) {
      const value = data[(by * stride + bx) * 64 + natural] as number;
      if (value !== 0 && value >= -maxValue && value <= maxValue)
        counts[value + maxValue] = (counts[value + maxValue] as number) + 1;
    }
  return counts;
}

/** Cumulative histograms (bins of 1/4) of DCT values on the grid shifted by (4, 4), one per frequency. */
function calibrate(
  coefficients: ComponentCoefficients,
  table: Uint16Array,
  frequencies: number[],
): { histograms: Float64Array[]; blocks: number } {
  const bins = 2 * calibrationRange * binsPerUnit;
  const histograms = frequencies.map(() => new Float64Array(bins + 1));
  const { blocksWide, blocksHigh } = coefficients;
  const positionsWide = blocksWide - 1;
  const positionsHigh = blocksHigh - 1;
  if (positionsWide < 1 || positionsHigh < 1) return { histograms, blocks: 0 };
  const step = Math.max(1, Math.ceil(Math.sqrt((positionsWide * positionsHigh) / maxCalibrationBlocks)));
  const samples = new Float64Array(64);
  const spectrum = new Float64Array(64);
  const naturals = frequencies.map((zigzag) => zigzagToNatural[zigzag] as number);
  let blocks = 0;
  const accumulate = () => {
    forwardDct(samples, spectrum);
    naturals.forEach((natural, index) => {
      // Each value is spread over ±(0.5 + 10%): a density, not a comb of a few thousand samples whose
      // empty tail bins would make any other model look infinitely better.
      const value = spectrum[natural] as number;
      const halfWidth = 0.5 + 0.1 * Math.abs(value);
      const low = Math.floor((value - halfWidth + calibrationRange) * binsPerUnit);
      const high = Math.ceil((value + halfWidth + calibrationRange) * binsPerUnit);
      const first = Math.min(bins - 1, Math.max(0, low));
      const last = Math.min(bins, Math.max(first + 1, high));
      const density = histograms[index] as Float64Array;
      density[first] = (density[first] as number) + 1 / (last - first);
      density[last] = (density[last] as number) - 1 / (last - first);
    });
    blocks += 1;
  };
  if (step === 1) {
    const plane = decodePlane(coefficients, table);
    const width = blocksWide * 8;
    for (let by = 0; by < positionsHigh; by += 1)
      for (let bx = 0; bx < positionsWide; bx += 1) {
        for (let y = 0; y < 8; y += 1)
          for (let x = 0; x < 8; x += 1)
            samples[y * 8 + x] = (plane[(by * 8 + 4 + y) * width + bx * 8 + 4 + x] as number) - 128;
        accumulate();
      }
  } else {
    const decoder = new BlockDecoder(coefficients, table);
    const quad = [new Uint8Array(64), new Uint8Array(64), new Uint8Array(64), new Uint8Array(64)];
    for (let by = Math.floor(step / 2); by < positionsHigh; by += step)
      for (let bx = Math.floor(step / 2); bx < positionsWide; bx += step) {
        quad.forEach((block, index) => decoder.decode(bx + (index & 1), by + (index >> 1), block));
        for (let y = 0; y < 8; y += 1)
          for (let x = 0; x < 8; x += 1) {
            const sx = x + 4;
            const sy = y + 4;
            const block = quad[(sx >> 3) + 2 * (sy >> 3)] as Uint8Array;
            samples[y * 8 + x] = (block[(sy & 7) * 8 + (sx & 7)] as number) - 128;
          }
        accumulate();
      }
  }
  // Difference array → density per bin → cumulative mass: mass in [a, b) = cumulative[b] − cumulative[a].
  const cumulative = histograms.map((difference) => {
    const density = new Float64Array(bins);
    let running = 0;
    for (let bin = 0; bin < bins; bin += 1) density[bin] = running += difference[bin] as number;
    const mass = new Float64Array(bins + 1);
    let total = 0;
    for (let bin = 0; bin < bins; bin += 1) total += density[bin] as number;
    // A small uniform share keeps every value possible under the single-compression model.
    const floor = total > 0 ? (tailFloor * total) / bins : 1 / bins;
    for (let bin = 0; bin < bins; bin += 1)
      mass[bin + 1] = (mass[bin] as number) + (density[bin] as number) + floor;
    const scale = mass[bins] as number;
    for (let bin = 0; bin <= bins; bin += 1) mass[bin] = (mass[bin] as number) / scale;
    return mass;
  });
  return { histograms: cumulative, blocks };
}

/** Calibrated probability mass of values in [low, high). */
function massBetween(cumulative: Float64Array, low: number, high: number): number {
  const last = cumulative.length - 1;
  const index = (value: number) =>
    Math.min(last, Math.max(0, Math.round((value + calibrationRange) * binsPerUnit)));
  return (cumulative[index(high)] as number) - (cumulative[index(low)] as number);
}

/** Saved with q1, decoded (rounding noise σ), saved with q2: P(v) for v ≠ 0, normalised. */
function doubleModel(cumulative: Float64Array, q1: number, q2: number, sigma: number): Float64Array {
  const model = new Float64Array(2 * maxValue + 1);
  // Levels whose values land beyond ±maxValue steps of q2 are outside the modelled range anyway.
  const levels = Math.ceil(Math.min(calibrationRange, (maxValue + 1) * q2 + 4 * sigma) / q1);
  for (let level = -levels; level <= levels; level += 1) {
    const weight = massBetween(cumulative, (level - 0.5) * q1, (level + 0.5) * q1);
    if (weight < 1e-9) continue;
    const centre = level * q1;
    const low = Math.max(-maxValue, Math.floor((centre - 4 * sigma) / q2 - 0.5));
    const high = Math.min(maxValue, Math.ceil((centre + 4 * sigma) / q2 + 0.5));
    for (let value = low; value <= high; value += 1) {
      if (value === 0) continue;
      const share =
        normalCdf(((value + 0.5) * q2 - centre) / sigma) - normalCdf(((value - 0.5) * q2 - centre) / sigma);
      model[value + maxValue] = (model[value + maxValue] as number) + weight * share;
    }
  }
  return normalised(model);
}

function fitFrequency(
  zigzag: number,
  q2: number,
  counts: Float64Array,
  nonZero: number,
  cumulative: Float64Array,
): FrequencyFit {
  // The single-save model gets the same noise freedom as the double ones (q1 = 1 is a continuum).
  let single = doubleModel(cumulative, 1, q2, noiseLevels[0] as number);
  let singleLikelihood = logLikelihood(counts, single);
  for (const sigma of noiseLevels.slice(1)) {
    const candidate = doubleModel(cumulative, 1, q2, sigma);
    const likelihood = logLikelihood(counts, candidate);
    if (likelihood > singleLikelihood) [single, singleLikelihood] = [candidate, likelihood];
  }
  let best = { q1: null as number | null, alpha: 0, gain: 0, separation: 0, model: single };
  const gainByStep = new Float64Array(maxStep + 1);
  for (let q1 = 2; q1 <= maxStep; q1 += 1) {
    if (q1 === q2) continue;
    for (const sigma of noiseLevels) {
      const model = doubleModel(cumulative, q1, q2, sigma);
      const { alpha, gain } = fitMixture(counts, single, model);
      gainByStep[q1] = Math.max(gainByStep[q1] as number, gain);
      if (gain > best.gain) best = { q1, alpha, gain, separation: totalVariation(single, model), model };
    }
  }
  // How far the histogram is from the best mixture: natural pictures fit; graphics, text and renders do not.
  let deviance = 0;
  for (let index = 0; index < counts.length; index += 1) {
    const count = counts[index] as number;
    if (count === 0) continue;
    const expected =
      nonZero * (best.alpha * (best.model[index] as number) + (1 - best.alpha) * (single[index] as number));
    deviance += 2 * count * Math.log(count / Math.max(expected, 1e-9));
  }
  const logRatio = new Float64Array(2 * maxValue + 1);
  if (best.q1 !== null)
    for (let index = 0; index < logRatio.length; index += 1) {
      const p0 = single[index] as number;
      const p1 = (1 - modelFloor) * (best.model[index] as number) + modelFloor * p0;
      if (p0 > 0 && p1 > 0) logRatio[index] = Math.log(p1 / p0);
    }
  return {
    zigzag,
    q2,
    q1: best.q1,
    alpha: best.alpha,
    gain: best.gain,
    separation: best.separation,
    nonZero,
    misfit: deviance / nonZero,
    gainByStep,
    logRatio,
  };
}

/** EM for the share α of the double model in (1 − α)·single + α·double, and its log-likelihood gain. */
function fitMixture(
  counts: Float64Array,
  single: Float64Array,
  double: Float64Array,
): { alpha: number; gain: number } {
  let alpha = 0.5;
  let total = 0;
  for (const count of counts) total += count;
  for (let iteration = 0; iteration < 40; iteration += 1) {
    let responsibility = 0;
    for (let index = 0; index < counts.length; index += 1) {
      const count = counts[index] as number;
      if (count === 0) continue;
      const p1 = alpha * (double[index] as number);
      const mixture = p1 + (1 - alpha) * (single[index] as number);
      if (mixture > 0) responsibility += (count * p1) / mixture;
    }
    alpha = responsibility / total;
  }
  let gain = 0;
  for (let index = 0; index < counts.length; index += 1) {
    const count = counts[index] as number;
    if (count === 0) continue;
    const p0 = Math.max(single[index] as number, 1e-12);
    const mixture = Math.max(alpha * (double[index] as number) + (1 - alpha) * p0, 1e-12);
    gain += count * Math.log(mixture / p0);
  }
  return { alpha, gain };
}

function logLikelihood(counts: Float64Array, model: Float64Array): number {
  let sum = 0;
  for (let index = 0; index < counts.length; index += 1) {
    const count = counts[index] as number;
    if (count > 0) sum += count * Math.log(Math.max(model[index] as number, 1e-12));
  }
  return sum;
}

function normalised(model: Float64Array): Float64Array {
  let total = 0;
  for (const value of model) total += value;
  if (total > 0)
    for (let index = 0; index < model.length; index += 1) model[index] = (model[index] as number) / total;
  return model;
}

function totalVariation(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index += 1)
    sum += Math.abs((a[index] as number) - (b[index] as number));
  return sum / 2;
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, error < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export interface DoubleQuantisationSummary {
  /** Penalised log-likelihood gain per analysed coefficient (nats): the larger of the two fits below. */
  statistic: number;
  /** Each frequency with its own earlier step. */
  freeStatistic: number;
  /** One earlier table for all frequencies: the IJG tables scaled by `tableScale` percent. */
  tableStatistic: number;
  tableScale: number | null;
  nonZero: number;
  /** Mean deviance per coefficient of the best models (coefficient-weighted over frequencies). */
  misfit: number;
}

// Penalties for choosing the best of many models: a free step per frequency (~48 × 3 candidates), or one
// table of ~300 plus a mixture weight per frequency.
const freePenalty = 6;
const tablePenalty = 6;
const tableWeightPenalty = 0.5;

export function summariseDoubleQuantisation(
  fits: readonly FrequencyFit[],
  luminanceBase: Uint16Array,
): DoubleQuantisationSummary {
  const nonZero = fits.reduce((sum, fit) => sum + fit.nonZero, 0);
  if (nonZero === 0)
    return { statistic: 0, freeStatistic: 0, tableStatistic: 0, tableScale: null, nonZero, misfit: 0 };
  const misfit = fits.reduce((sum, fit) => sum + fit.misfit * fit.nonZero, 0) / nonZero;
  const free = fits.reduce((sum, fit) => sum + Math.max(0, fit.gain - freePenalty), 0) / nonZero;
  let table = { gain: 0, scale: null as number | null };
  for (let scale = 1; scale <= 300; scale += 1) {
    let gain = 0;
    let differs = false;
    for (const fit of fits) {
      const base = luminanceBase[zigzagToNatural[fit.zigzag] as number] as number;
      const q1 = Math.min(255, Math.max(1, Math.floor((base * scale + 50) / 100)));
      if (q1 === fit.q2) continue;
      differs = true;
      if (q1 >= 2 && q1 <= maxStep) gain += fit.gainByStep[q1] as number;
    }
    const penalised = gain - tablePenalty - tableWeightPenalty * fits.length;
    if (differs && penalised > table.gain) table = { gain: penalised, scale };
  }
  const tableStatistic = table.gain / nonZero;
  return {
    statistic: Math.max(free, tableStatistic),
    freeStatistic: free,
    tableStatistic,
    tableScale: table.scale,
    nonZero,
    misfit,
  };
}
