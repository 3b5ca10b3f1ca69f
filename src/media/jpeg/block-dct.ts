/** The 8×8 DCT of JPEG (orthonormal: the inverse is the transpose), in floating point. */

// basis[x * 8 + u] = C(u)/2 · cos((2x + 1)uπ/16), with C(0) = 1/√2.
const basis = new Float64Array(64);
for (let x = 0; x < 8; x += 1)
  for (let u = 0; u < 8; u += 1)
    basis[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);

const scratch = new Float64Array(64);

/** Frequencies (natural order) → samples (level-shifted, i.e. pixel − 128), in place into `out`. */
export function inverseDct(coefficients: Float64Array, out: Float64Array): void {
  // Rows of the block: samples along x for each frequency row v.
  for (let v = 0; v < 8; v += 1)
    for (let x = 0; x < 8; x += 1) {
      let sum = 0;
      for (let u = 0; u < 8; u += 1)
        sum += (basis[x * 8 + u] as number) * (coefficients[v * 8 + u] as number);
      scratch[v * 8 + x] = sum;
    }
  for (let x = 0; x < 8; x += 1)
    for (let y = 0; y < 8; y += 1) {
      let sum = 0;
      for (let v = 0; v < 8; v += 1) sum += (basis[y * 8 + v] as number) * (scratch[v * 8 + x] as number);
      out[y * 8 + x] = sum;
    }
}

/** Samples (level-shifted) → frequencies in natural order, into `out`. */
export function forwardDct(samples: Float64Array, out: Float64Array): void {
  for (let y = 0; y < 8; y += 1)
    for (let u = 0; u < 8; u += 1) {
      let sum = 0;
      for (let x = 0; x < 8; x += 1) sum += (basis[x * 8 + u] as number) * (samples[y * 8 + x] as number);
      scratch[y * 8 + u] = sum;
    }
  for (let v = 0; v < 8; v += 1)
    for (let u = 0; u < 8; u += 1) {
      let sum = 0;
      for (let y = 0; y < 8; y += 1) sum += (basis[y * 8 + v] as number) * (scratch[y * 8 + u] as number);
      out[v * 8 + u] = sum;
    }
}
