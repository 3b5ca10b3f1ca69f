import { describe, expect, it } from 'vitest';
import {
  periodicExcess,
  periodicPeak,
  predictionResidual,
  probabilityMap,
  resamplingPeak,
} from '../../src/forensics/resampling-pmap.js';
import {
  fft,
  powerSpectrum,
  powerSpectrumPair,
  radialSpectrum,
  fineDetailFalloff,
  type SquarePatch,
} from '../../src/forensics/spectrum.js';
import { gaussian, seededRandom } from '../helpers/synthetic-frames.js';

function noisePatch(size: number, seed: number, sigma = 10): SquarePatch {
  const random = seededRandom(seed);
  return { size, data: Float64Array.from({ length: size * size }, () => 128 + sigma * gaussian(random)) };
}

/** Shrinks by `factor` (nearest source pixel) and enlarges back to `size` bilinearly, as an editor would. */
function resampled(size: number, factor: number, seed: number): SquarePatch {
  const small = Math.round(size * factor);
  const source = noisePatch(small, seed);
  const at = (x: number, y: number) =>
    source.data[Math.min(small - 1, Math.max(0, y)) * small + Math.min(small - 1, Math.max(0, x))]!;
  const data = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = (x + 0.5) * (small / size) - 0.5;
      const sy = (y + 0.5) * (small / size) - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      data[y * size + x] =
        (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
        fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
  }
  return { size, data };
}

function boxBlurred(patch: SquarePatch): SquarePatch {
  const { size, data } = patch;
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++)
          sum += data[((y + dy + size) % size) * size + ((x + dx + size) % size)]!;
      out[y * size + x] = sum / 9;
    }
  return { size, data: out };
}

const kirchnerPeak = (padded: SquarePatch) => periodicPeak(probabilityMap(predictionResidual(padded)));

describe('fft', () => {
  it('matches a direct DFT', () => {
    const random = seededRandom(3);
    const n = 16;
    const re = Float64Array.from({ length: n }, () => random() - 0.5);
    const im = Float64Array.from({ length: n }, () => random() - 0.5);
    const expected = Array.from({ length: n }, (_, k) => {
      let sr = 0;
      let si = 0;
      for (let t = 0; t < n; t++) {
        const angle = (-2 * Math.PI * k * t) / n;
        sr += re[t]! * Math.cos(angle) - im[t]! * Math.sin(angle);
        si += re[t]! * Math.sin(angle) + im[t]! * Math.cos(angle);
      }
      return [sr, si];
    });
    fft(re, im);
    expected.forEach(([sr, si], k) => {
      expect(re[k]).toBeCloseTo(sr!, 9);
      expect(im[k]).toBeCloseTo(si!, 9);
    });
  });

  it('gives two real patches the same power spectra from one complex transform as from two', () => {
    const [a, b] = [noisePatch(32, 7), noisePatch(32, 8)];
    const [pairA, pairB] = powerSpectrumPair(a, b);
    const [singleA, singleB] = [powerSpectrum(a), powerSpectrum(b)];
    for (let i = 0; i < singleA.length; i++) {
      expect(pairA[i]).toBeCloseTo(singleA[i]!, 6);
      expect(pairB[i]).toBeCloseTo(singleB[i]!, 6);
    }
  });

  it('refuses a length that is not a power of two', () => {
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(/power of two/);
  });
});

describe('resampling p-maps (Kirchner 2008, forward differences)', () => {
  it('finds no periodic peak in plain noise', () => {
    for (const seed of [1, 2, 3]) expect(resamplingPeak(noisePatch(132, seed)).strength).toBeLessThan(2.5);
  });

  it('finds the period-2 peak of a 2× enlargement at 0.5 cycles per pixel', () => {
    const peak = resamplingPeak(resampled(132, 0.5, 4));
    expect(peak.strength).toBeGreaterThan(4);
    expect(Math.max(Math.abs(peak.u), Math.abs(peak.v))).toBeCloseTo(0.5, 2);
  });

  it("misses the 2× enlargement with Kirchner's symmetric predictor alone (why the difference map is there)", () => {
    expect(kirchnerPeak(resampled(132, 0.5, 4)).strength).toBeLessThan(2.5);
  });

  it('finds the period-2.86 peak of a 0.35 → 1 enlargement near 0.35 cycles per pixel', () => {
    const kirchner = kirchnerPeak(resampled(132, 0.35, 5));
    expect(kirchner.strength).toBeGreaterThan(4);
    expect(Math.max(Math.abs(kirchner.u), Math.abs(kirchner.v))).toBeCloseTo(0.35, 1);
    expect(resamplingPeak(resampled(132, 0.35, 5)).strength).toBeGreaterThanOrEqual(kirchner.strength - 1e-9);
  });
});

describe('periodic excess of a face over its surround', () => {
  const size = 64;
  const withPeak = (u: number) => {
    const prominence = new Float64Array(size * size);
    prominence[u] = 3;
    return prominence;
  };
  const flat = () => new Float64Array(size * size);

  it('counts a peak only the face shows', () => {
    const excess = periodicExcess(withPeak(22), [flat(), flat(), flat()], size, { blockGrid: false });
    expect(excess.excess).toBe(3);
    expect(excess.face.u).toBeCloseTo(22 / 64, 9);
  });

  it('leaves out a frequency where the surround peaks too (the camera or codec)', () => {
    const surround = [withPeak(22), withPeak(22), flat()];
    expect(periodicExcess(withPeak(22), surround, size, { blockGrid: false }).excess).toBe(0);
  });

  it('leaves out the 8×8 block grid for block-coded media only', () => {
    const face = withPeak(16);
    expect(periodicExcess(face, [flat(), flat()], size, { blockGrid: false }).excess).toBe(3);
    expect(periodicExcess(face, [flat(), flat()], size, { blockGrid: true }).excess).toBe(0);
  });
});

describe('radial spectrum', () => {
  it('is flat for white noise and loses its fine detail under a blur', () => {
    const noise = noisePatch(128, 6);
    const flat = fineDetailFalloff(radialSpectrum(powerSpectrum(noise), 128));
    const blurred = fineDetailFalloff(radialSpectrum(powerSpectrum(boxBlurred(noise)), 128));
    expect(Math.abs(flat)).toBeLessThan(0.2);
    expect(blurred).toBeLessThan(-1.5);
  });

  it('averages power by radius up to the Nyquist frequency', () => {
    const size = 32;
    const wave = {
      size,
      data: Float64Array.from({ length: size * size }, (_, i) =>
        Math.cos((2 * Math.PI * 8 * (i % size)) / size),
      ),
    };
    const radial = radialSpectrum(powerSpectrum(wave, false), size);
    expect(radial).toHaveLength(16);
    expect(radial.indexOf(Math.max(...radial))).toBe(8);
  });
});
