import { powerSpectrum, signedFrequency, type SquarePatch } from './spectrum.js';

/**
 * Kirchner's (2008) fixed linear predictor: each pixel from its 8 neighbours (edge neighbours ½, corners −¼),
 * exact on planes and bilinear ramps. Reads a (size + 2)² patch, returns the size² residual.
 */
export function predictionResidual(padded: SquarePatch): SquarePatch {
  const outer = padded.size;
  const size = outer - 2;
  const input = padded.data;
  const data = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y + 1) * outer + x + 1;
      const edges = input[i - 1]! + input[i + 1]! + input[i - outer]! + input[i + outer]!;
      const corners =
        input[i - outer - 1]! + input[i - outer + 1]! + input[i + outer - 1]! + input[i + outer + 1]!;
      data[y * size + x] = input[i]! - 0.5 * edges + 0.25 * corners;
    }
  }
  return { size, data };
}

/**
 * Forward differences along each axis, averaged as p-maps by the caller: Kirchner's predictor is
 * mirror-symmetric, so it misses interpolation whose phases mirror each other (2× bilinear with
 * half-pixel centres gives every pixel the same prediction error variance), while a one-sided
 * difference alternates between neighbours from one source interval and neighbours across two.
 */
export function differenceResiduals(padded: SquarePatch): { horizontal: SquarePatch; vertical: SquarePatch } {
  const outer = padded.size;
  const size = outer - 2;
  const input = padded.data;
  const horizontal = new Float64Array(size * size);
  const vertical = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y + 1) * outer + x + 1;
      horizontal[y * size + x] = input[i + 1]! - input[i]!;
      vertical[y * size + x] = input[i + outer]! - input[i]!;
    }
  }
  return { horizontal: { size, data: horizontal }, vertical: { size, data: vertical } };
}

/**
 * Probability map p = exp(−e² / 2σ²) of the residual, σ its own robust spread (median |e| / 0.6745), so a
 * noisy and a clean patch are read on the same scale: where interpolation made a pixel predictable, p is
 * high, and interpolation does so periodically.
 */
export function probabilityMap(residual: SquarePatch): SquarePatch {
  const magnitudes = Float64Array.from(residual.data, Math.abs).sort();
  const sigma = Math.max(1e-3, magnitudes[Math.floor(magnitudes.length / 2)]! / 0.6745);
  const scale = 1 / (2 * sigma * sigma);
  return { size: residual.size, data: residual.data.map((e) => Math.exp(-e * e * scale)) };
}

/** Frequencies below this (cycles per pixel, on either axis) carry the scene's layout, not interpolation. */
const lowestPeriodicFrequency = 0.1;
/** A peak is read against the ring of bins 2 to 4 away: a local background, since p-map spectra are not flat. */
const ringInner = 1;
const ringOuter = 4;

export interface PeriodicPeak {
  /** ln(strongest bin / mean of the ring around it) over the p-map spectrum above the lowest periodic frequency. */
  strength: number;
  /** Where the strongest bin is, in cycles per pixel (period 1/f pixels). */
  u: number;
  v: number;
}

/**
 * The most prominent periodic component of the p-map: resampling by a factor f leaves narrow peaks at
 * frequency f (and its aliases) along the resampled axes; plain noise leaves a spectrum whose largest bin
 * is only a few times its surroundings.
 */
export function periodicPeak(pmap: SquarePatch): PeriodicPeak & { spectrum: Float64Array } {
  const { size } = pmap;
  const spectrum = powerSpectrum(pmap);
  const ringSum = wrappedBoxSums(spectrum, size);
  const ringCount = (2 * ringOuter + 1) ** 2 - (2 * ringInner + 1) ** 2;
  let best = { strength: Number.NEGATIVE_INFINITY, u: 0, v: 0 };
  // Half the plane: the spectrum of a real map is symmetric.
  for (let v = 0; v <= size / 2; v++) {
    for (let u = 0; u < size; u++) {
      const fu = signedFrequency(u, size);
      const fv = signedFrequency(v, size);
      if (Math.max(Math.abs(fu), Math.abs(fv)) < lowestPeriodicFrequency) continue;
      const background = (ringSum.outer(u, v) - ringSum.inner(u, v)) / ringCount;
      const strength = Math.log((spectrum[v * size + u]! + 1e-12) / (background + 1e-12));
      if (strength > best.strength) best = { strength, u: fu, v: fv };
    }
  }
  return { ...best, spectrum };
}

/** Sums over the (2r+1)² boxes around each bin of a periodic spectrum, for the inner and outer ring radius. */
function wrappedBoxSums(spectrum: Float64Array, size: number) {
  const side = size + 2 * ringOuter + 1;
  const integral = new Float64Array(side * side);
  for (let y = 1; y < side; y++) {
    for (let x = 1; x < side; x++) {
      const sv = (y - 1 - ringOuter + size * 2) % size;
      const su = (x - 1 - ringOuter + size * 2) % size;
      integral[y * side + x] =
        spectrum[sv * size + su]! +
        integral[(y - 1) * side + x]! +
        integral[y * side + x - 1]! -
        integral[(y - 1) * side + x - 1]!;
    }
  }
  const box = (u: number, v: number, r: number) => {
    const x0 = u + ringOuter - r;
    const y0 = v + ringOuter - r;
    const x1 = u + ringOuter + r + 1;
    const y1 = v + ringOuter + r + 1;
    return (
      integral[y1 * side + x1]! -
      integral[y0 * side + x1]! -
      integral[y1 * side + x0]! +
      integral[y0 * side + x0]!
    );
  };
  return {
    outer: (u: number, v: number) => box(u, v, ringOuter),
    inner: (u: number, v: number) => box(u, v, ringInner),
  };
}

/**
 * The stronger periodic peak of two p-maps of a (size + 2)² patch: Kirchner's predictor residual, and the
 * mean of the horizontal and vertical forward-difference maps.
 */
export function resamplingPeak(padded: SquarePatch): PeriodicPeak & { spectrum: Float64Array } {
  const predictor = periodicPeak(probabilityMap(predictionResidual(padded)));
  const { horizontal, vertical } = differenceResiduals(padded);
  const h = probabilityMap(horizontal);
  const v = probabilityMap(vertical);
  const difference = periodicPeak({ size: h.size, data: h.data.map((p, i) => (p + v.data[i]!) / 2) });
  return difference.strength > predictor.strength ? difference : predictor;
}
