import { powerSpectrum, powerSpectrumPair, signedFrequency, type SquarePatch } from './spectrum.js';

/** Pixels of context a residual reads on each side of the measured square. */
export const residualMargin = 2;

/**
 * Kirchner's (2008) fixed linear predictor: each pixel from its 8 neighbours (edge neighbours ½, corners −¼),
 * exact on planes and bilinear ramps. Reads a (size + 2·residualMargin)² patch, returns the size² residual.
 */
export function predictionResidual(padded: SquarePatch): SquarePatch {
  const outer = padded.size;
  const size = outer - 2 * residualMargin;
  const input = padded.data;
  const data = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y + residualMargin) * outer + x + residualMargin;
      const edges = input[i - 1]! + input[i + 1]! + input[i - outer]! + input[i + outer]!;
      const corners =
        input[i - outer - 1]! + input[i - outer + 1]! + input[i + outer - 1]! + input[i + outer + 1]!;
      data[y * size + x] = input[i]! - 0.5 * edges + 0.25 * corners;
    }
  }
  return { size, data };
}

/**
 * Third differences (1, −3, 3, −1) along each axis, averaged as p-maps by the caller. Kirchner's predictor
 * is mirror-symmetric, so it misses interpolation whose phases mirror each other (2× bilinear with
 * half-pixel centres gives every pixel the same prediction error variance); a difference centred between
 * pixels tells the phases apart, and the third one is blind to the scene's ramps and curvature. Bilinear
 * interpolation is piecewise linear, so wherever four samples fall on one segment it is exactly zero.
 */
export function differenceResiduals(padded: SquarePatch): { horizontal: SquarePatch; vertical: SquarePatch } {
  const outer = padded.size;
  const size = outer - 2 * residualMargin;
  const input = padded.data;
  const horizontal = new Float64Array(size * size);
  const vertical = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y + residualMargin) * outer + x + residualMargin;
      horizontal[y * size + x] = input[i - 1]! - 3 * input[i]! + 3 * input[i + 1]! - input[i + 2]!;
      vertical[y * size + x] =
        input[i - outer]! - 3 * input[i]! + 3 * input[i + outer]! - input[i + 2 * outer]!;
    }
  }
  return { horizontal: { size, data: horizontal }, vertical: { size, data: vertical } };
}

/**
 * Probability map p = exp(−e² / 2σ²) of the residual, σ its own spread (mean |e| · √(π/2), exact for
 * Gaussian residuals), so a noisy and a clean patch are read on the same scale: where interpolation made
 * a pixel predictable, p is high, and interpolation does so periodically.
 */
export function probabilityMap(residual: SquarePatch): SquarePatch {
  let absolute = 0;
  for (const e of residual.data) absolute += Math.abs(e);
  const sigma = Math.max(1e-3, (absolute / residual.data.length) * Math.sqrt(Math.PI / 2));
  const scale = 1 / (2 * sigma * sigma);
  const data = new Float64Array(residual.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.exp(-residual.data[i]! * residual.data[i]! * scale);
  return { size: residual.size, data };
}

/** Frequencies below this (cycles per pixel, on either axis) carry the scene's layout, not interpolation. */
const lowestPeriodicFrequency = 0.1;
/** A peak is read against the ring of bins 2 to 4 away: a local background, since p-map spectra are not flat. */
const ringInner = 1;
const ringOuter = 4;

export interface PeriodicPeak {
  /** Highest peak prominence (see peakProminence) of the p-map spectrum above the lowest periodic frequency. */
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
export function periodicPeak(pmap: SquarePatch): PeriodicPeak & { prominence: Float64Array } {
  return strongestPeak(peakProminence(powerSpectrum(pmap), pmap.size), pmap.size);
}

function strongestPeak(prominence: Float64Array, size: number): PeriodicPeak & { prominence: Float64Array } {
  let best = { strength: Number.NEGATIVE_INFINITY, u: 0, v: 0 };
  forPeriodicBins(size, (bin, u, v) => {
    if (prominence[bin]! > best.strength) best = { strength: prominence[bin]!, u, v };
  });
  return { ...best, prominence };
}

/** Calls back for each bin of the upper half-plane (a real map's spectrum is symmetric) above the lowest periodic frequency. */
export function forPeriodicBins(size: number, visit: (bin: number, u: number, v: number) => void): void {
  for (let v = 0; v <= size / 2; v++) {
    for (let u = 0; u < size; u++) {
      const fu = signedFrequency(u, size);
      const fv = signedFrequency(v, size);
      if (Math.max(Math.abs(fu), Math.abs(fv)) >= lowestPeriodicFrequency) visit(v * size + u, fu, fv);
    }
  }
}

/**
 * ln(mean power of the 3×3 bins around each bin / mean of the ring 2–4 bins away): a windowed tone spans
 * about three bins, and averaging them tames the scatter of single noise bins.
 */
export function peakProminence(spectrum: Float64Array, size: number): Float64Array {
  const sums = wrappedBoxSums(spectrum, size);
  const ringCount = (2 * ringOuter + 1) ** 2 - (2 * ringInner + 1) ** 2;
  const coreCount = (2 * ringInner + 1) ** 2;
  const prominence = new Float64Array(size * size);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const core = sums.inner(u, v);
      const ring = (sums.outer(u, v) - core) / ringCount;
      prominence[v * size + u] = Math.log((core / coreCount + 1e-12) / (ring + 1e-12));
    }
  }
  return prominence;
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
 * The stronger periodic peak of two p-maps of a (size + 2·residualMargin)² patch: Kirchner's predictor
 * residual, and the mean of the horizontal and vertical third-difference maps.
 */
export function resamplingPeak(padded: SquarePatch): PeriodicPeak & { prominence: Float64Array } {
  const predictor = probabilityMap(predictionResidual(padded));
  const { horizontal, vertical } = differenceResiduals(padded);
  const h = probabilityMap(horizontal);
  const v = probabilityMap(vertical);
  const difference = { size: h.size, data: h.data.map((p, i) => (p + v.data[i]!) / 2) };
  const [predictorPower, differencePower] = powerSpectrumPair(predictor, difference);
  const size = predictor.size;
  const fromPredictor = strongestPeak(peakProminence(predictorPower, size), size);
  const fromDifference = strongestPeak(peakProminence(differencePower, size), size);
  return fromDifference.strength > fromPredictor.strength ? fromDifference : fromPredictor;
}

/** Surround prominence above which a frequency belongs to the camera or codec (a JPEG or H.264 block grid). */
const occupiedProminence = 1;

export interface PeriodicExcess {
  /** Face peak strength minus the median surround patch's, over frequencies the surround leaves free. */
  excess: number;
  face: PeriodicPeak;
  surroundStrength: number;
  /** Frequencies left out because the surround shows a peak there too. */
  occupiedBins: number;
}

/** Within a bin of a multiple of 1/8 cycle per pixel, where an 8×8 (or 4×4) block transform puts its grid. */
function nearBlockGrid(frequency: number, size: number): boolean {
  return Math.abs(frequency * 8 - Math.round(frequency * 8)) * (size / 8) <= 1.01;
}

/**
 * How much more periodic the face's p-map is than the frame around it. Frequencies where the median
 * surround patch already peaks (the camera's own resampling, a codec grid) are left out for both, so only
 * a periodicity confined to the face counts. With `blockGrid` (JPEG, H.264 and other block-transform
 * codecs) the points of the 1/8 lattice are left out as well: blocking shows more in smooth skin than in
 * a textured background, so the surround cannot cancel it.
 */
export function periodicExcess(
  face: Float64Array,
  surround: readonly Float64Array[],
  size: number,
  options: { blockGrid: boolean },
): PeriodicExcess {
  const occupied = new Uint8Array(size * size);
  let occupiedBins = 0;
  const half = Math.floor(surround.length / 2);
  forPeriodicBins(size, (bin, u, v) => {
    const onGrid = options.blockGrid && nearBlockGrid(u, size) && nearBlockGrid(v, size);
    // Occupied when the median surround patch peaks here: more than half of them do.
    let above = 0;
    for (const prominence of surround) if (prominence[bin]! > occupiedProminence) above++;
    if (onGrid || above > half) {
      occupied[bin] = 1;
      occupiedBins++;
    }
  });
  const strongest = (prominence: Float64Array) => {
    let best = { strength: Number.NEGATIVE_INFINITY, u: 0, v: 0 };
    forPeriodicBins(size, (bin, u, v) => {
      if (!occupied[bin] && prominence[bin]! > best.strength) best = { strength: prominence[bin]!, u, v };
    });
    return best;
  };
  const faceStrongest = strongest(face);
  const around = surround.map((prominence) => strongest(prominence).strength).sort((a, b) => a - b);
  const surroundStrength = around[Math.floor(around.length / 2)]!;
  return {
    excess: faceStrongest.strength - surroundStrength,
    face: faceStrongest,
    surroundStrength,
    occupiedBins,
  };
}
