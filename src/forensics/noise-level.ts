import type { Plane } from './luma.js';

export const noiseBlockSize = 8;

/** One 8×8 block's noise estimate. */
export interface BlockNoise {
  /** Block centre in pixels. */
  x: number;
  y: number;
  /** Noise standard deviation estimate in grey levels. */
  sigma: number;
  meanLuma: number;
}

/**
 * Per-block noise level with Immerkær's operator (1996): the mask [1 -2 1; -2 4 -2; 1 -2 1] cancels
 * flat areas, ramps and linear edges, so what is left in a smooth block is mostly sensor noise;
 * σ ≈ √(π/2)/6 · mean|response|. Only blocks whose centre `include` accepts are measured.
 */
export function blockNoise(plane: Plane, include: (x: number, y: number) => boolean): BlockNoise[] {
  const { width, height, data } = plane;
  const blocks: BlockNoise[] = [];
  const factor = Math.sqrt(Math.PI / 2) / 6;
  const size = noiseBlockSize;
  for (let top = 1; top + size < height - 1; top += size) {
    for (let left = 1; left + size < width - 1; left += size) {
      const cx = left + size / 2;
      const cy = top + size / 2;
      if (!include(cx, cy)) continue;
      let absolute = 0;
      let luma = 0;
      for (let y = top; y < top + size; y++) {
        const row = y * width;
        for (let x = left; x < left + size; x++) {
          const i = row + x;
          const response =
            data[i - width - 1]! -
            2 * data[i - width]! +
            data[i - width + 1]! -
            2 * data[i - 1]! +
            4 * data[i]! -
            2 * data[i + 1]! +
            data[i + width - 1]! -
            2 * data[i + width]! +
            data[i + width + 1]!;
          absolute += Math.abs(response);
          luma += data[i]!;
        }
      }
      const count = size * size;
      blocks.push({ x: cx, y: cy, sigma: (factor * absolute) / count, meanLuma: luma / count });
    }
  }
  return blocks;
}

/**
 * The noise floor of a region: a low quantile of its block estimates, since textured blocks overstate noise
 * and the smoothest blocks show the noise alone. Blocks clipped near black or white are left out (no noise
 * survives there).
 */
export function noiseFloor(blocks: readonly BlockNoise[], quantile = 0.3): number | null {
  const usable = blocks.filter((block) => block.meanLuma > 16 && block.meanLuma < 240).map((b) => b.sigma);
  if (usable.length < 6) return null;
  usable.sort((a, b) => a - b);
  return usable[Math.min(usable.length - 1, Math.floor(quantile * usable.length))]!;
}

const lumaBinWidth = 24;

/**
 * Face-to-surround noise ratio compared at equal brightness: sensor noise grows with the signal, so each
 * brightness band of the face is set against the same band around it, and the bands' ratios are combined
 * weighted by the face's blocks. Falls back to the overall floors when no band has enough blocks on both
 * sides. Null when either side has too few usable blocks.
 */
export function matchedNoiseRatio(
  face: readonly BlockNoise[],
  surround: readonly BlockNoise[],
): { ratio: number; inside: number; around: number; matchedBands: number } | null {
  const bin = (block: BlockNoise) => Math.floor(block.meanLuma / lumaBinWidth);
  const bands = new Map<number, { face: BlockNoise[]; surround: BlockNoise[] }>();
  for (const [side, blocks] of [
    ['face', face],
    ['surround', surround],
  ] as const) {
    for (const block of blocks) {
      const key = bin(block);
      const band = bands.get(key) ?? { face: [], surround: [] };
      band[side].push(block);
      bands.set(key, band);
    }
  }
  let weight = 0;
  let logSum = 0;
  let matchedBands = 0;
  for (const band of bands.values()) {
    const inside = noiseFloor(band.face);
    const around = noiseFloor(band.surround);
    if (inside === null || around === null || around < 0.05 || inside < 0.01) continue;
    weight += band.face.length;
    logSum += band.face.length * Math.log(inside / around);
    matchedBands++;
  }
  const inside = noiseFloor(face);
  const around = noiseFloor(surround);
  if (inside === null || around === null || around < 0.05) return null;
  const ratio = matchedBands > 0 ? Math.exp(logSum / weight) : inside / around;
  return { ratio, inside, around, matchedBands };
}
