const twiddleTables = new Map<number, { cos: Float64Array; sin: Float64Array }>();

/** cos/sin of −2πk/n for k < n/2, computed once per length. */
function twiddles(n: number) {
  let table = twiddleTables.get(n);
  if (!table) {
    const half = n >> 1;
    table = {
      cos: Float64Array.from({ length: half }, (_, k) => Math.cos((-2 * Math.PI * k) / n)),
      sin: Float64Array.from({ length: half }, (_, k) => Math.sin((-2 * Math.PI * k) / n)),
    };
    twiddleTables.set(n, table);
  }
  return table;
}

/** In-place radix-2 complex FFT (forward); the length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n !== im.length || n < 1 || (n & (n - 1)) !== 0)
    throw new Error(`FFT length ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const r = re[i]!;
      re[i] = re[j]!;
      re[j] = r;
      const m = im[i]!;
      im[i] = im[j]!;
      im[j] = m;
    }
  }
  const { cos, sin } = twiddles(n);
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const stride = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const c = cos[k * stride]!;
        const s = sin[k * stride]!;
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * c - im[b]! * s;
        const ti = re[b]! * s + im[b]! * c;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
}

/** A square single-channel patch, row-major, `size` a power of two. */
export interface SquarePatch {
  size: number;
  data: Float64Array;
}

export function hannWindow(size: number): Float64Array {
  return Float64Array.from(
    { length: size },
    (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / size),
  );
}

/**
 * |DFT|² of the patch with its mean removed, optionally under a separable Hann window (so the patch's
 * edges do not smear energy over all frequencies). Index [v · size + u]; frequency u/size cycles per pixel,
 * indexes above size/2 being the negative frequencies.
 */
export function powerSpectrum(patch: SquarePatch, windowed = true): Float64Array {
  const { size } = patch;
  const re = centred(patch, windowed);
  const im = new Float64Array(size * size);
  fft2d(re, im, size);
  const power = new Float64Array(size * size);
  for (let i = 0; i < power.length; i++) power[i] = re[i]! * re[i]! + im[i]! * im[i]!;
  return power;
}

/**
 * powerSpectrum of two equally sized patches from one complex transform: the second rides in the
 * imaginary part, and the spectra of two real inputs separate by conjugate symmetry.
 */
export function powerSpectrumPair(
  first: SquarePatch,
  second: SquarePatch,
  windowed = true,
): [Float64Array, Float64Array] {
  const { size } = first;
  if (second.size !== size) throw new Error('the two patches differ in size');
  const re = centred(first, windowed);
  const im = centred(second, windowed);
  fft2d(re, im, size);
  const a = new Float64Array(size * size);
  const b = new Float64Array(size * size);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const k = v * size + u;
      const m = ((size - v) % size) * size + ((size - u) % size);
      const aRe = (re[k]! + re[m]!) / 2;
      const aIm = (im[k]! - im[m]!) / 2;
      const bRe = (im[k]! + im[m]!) / 2;
      const bIm = (re[m]! - re[k]!) / 2;
      a[k] = aRe * aRe + aIm * aIm;
      b[k] = bRe * bRe + bIm * bIm;
    }
  }
  return [a, b];
}

/** The patch minus its mean, under the Hann window when asked. */
function centred(patch: SquarePatch, windowed: boolean): Float64Array {
  const { size, data } = patch;
  const mean = data.reduce((sum, value) => sum + value, 0) / data.length;
  const window = windowed ? hannWindow(size) : null;
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      out[y * size + x] = (data[y * size + x]! - mean) * (window ? window[x]! * window[y]! : 1);
  return out;
}

/** In-place 2-D FFT: rows, then columns. */
function fft2d(re: Float64Array, im: Float64Array, size: number): void {
  for (let y = 0; y < size; y++)
    fft(re.subarray(y * size, (y + 1) * size), im.subarray(y * size, (y + 1) * size));
  const columnRe = new Float64Array(size);
  const columnIm = new Float64Array(size);
  for (let x = 0; x < size; x++) {
    for (let y = 0; y < size; y++) {
      columnRe[y] = re[y * size + x]!;
      columnIm[y] = im[y * size + x]!;
    }
    fft(columnRe, columnIm);
    for (let y = 0; y < size; y++) {
      re[y * size + x] = columnRe[y]!;
      im[y * size + x] = columnIm[y]!;
    }
  }
}

/** Signed frequency (cycles per pixel) of DFT index `index` in a transform of `size`. */
export function signedFrequency(index: number, size: number): number {
  return (index <= size / 2 ? index : index - size) / size;
}

/**
 * Azimuthally averaged power: bin k holds the mean power at radius k/size ≤ r < (k+1)/size cycles per
 * pixel, for the size/2 bins up to the Nyquist radius (the corners beyond it are left out).
 */
export function radialSpectrum(power: Float64Array, size: number): Float64Array {
  const bins = size / 2;
  const sums = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const radius = Math.hypot(signedFrequency(u, size), signedFrequency(v, size)) * size;
      const bin = Math.floor(radius);
      if (bin >= bins) continue;
      sums[bin] = sums[bin]! + power[v * size + u]!;
      counts[bin] = counts[bin]! + 1;
    }
  }
  return sums.map((sum, bin) => (counts[bin] ? sum / counts[bin]! : 0));
}

/** Mean of a radial spectrum over [from, to) cycles per pixel. */
export function bandPower(radial: Float64Array, from: number, to: number): number {
  const size = radial.length * 2;
  let sum = 0;
  let count = 0;
  for (let bin = Math.ceil(from * size); bin < Math.min(radial.length, Math.ceil(to * size)); bin++) {
    sum += radial[bin]!;
    count++;
  }
  return count ? sum / count : 0;
}

/**
 * Power above 0.2 cycles per pixel against the octave below it (0.1–0.2), in natural log. A picture enlarged
 * from 0.5× holds nothing above 0.25 but interpolation leakage, one enlarged from 0.35× nothing above 0.175;
 * a camera picture keeps its noise and fine detail up there.
 */
export function fineDetailFalloff(radial: Float64Array): number {
  const fine = bandPower(radial, 0.2, 0.5);
  const below = bandPower(radial, 0.1, 0.2);
  return Math.log((fine + 1e-9) / (below + 1e-9));
}
