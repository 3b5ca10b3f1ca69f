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
  /**
   * Coarse texture around the block: spread of the 4×4-pixel means over the 16×16 pixels centred on it.
   * Resampling and denoising leave it alone while they remove the fine noise; the encoder keeps more noise
   * where there is more of it, so noise is compared between blocks of like texture.
   */
  activity: number;
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
      blocks.push({
        x: cx,
        y: cy,
        sigma: (factor * absolute) / count,
        meanLuma: luma / count,
        activity: coarseActivity(plane, cx, cy),
      });
    }
  }
  return blocks;
}

const activityCell = 4;
const activityCells = 4;

function coarseActivity({ width, height, data }: Plane, cx: number, cy: number): number {
  const half = (activityCell * activityCells) / 2;
  const left = Math.max(0, Math.min(width - 2 * half, Math.round(cx - half)));
  const top = Math.max(0, Math.min(height - 2 * half, Math.round(cy - half)));
  let sum = 0;
  let squares = 0;
  for (let row = 0; row < activityCells; row++) {
    for (let column = 0; column < activityCells; column++) {
      let cell = 0;
      for (let y = 0; y < activityCell; y++) {
        const at = (top + row * activityCell + y) * width + left + column * activityCell;
        for (let x = 0; x < activityCell; x++) cell += data[at + x]!;
      }
      cell /= activityCell * activityCell;
      sum += cell;
      squares += cell * cell;
    }
  }
  const n = activityCells * activityCells;
  const mean = sum / n;
  return Math.sqrt(Math.max(0, squares / n - mean * mean));
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

const lumaBinWidth = 32;
/** A reference region with fewer usable blocks (a small image's border) gives no ratio. */
const minReferenceBlocks = 24;
const minMatchedFaceShare = 0.5;

const usableCount = (blocks: readonly BlockNoise[]) =>
  blocks.filter((block) => block.meanLuma > 16 && block.meanLuma < 240).length;

/** Texture classes by coarse activity, doubling from 1 grey level. */
const activityClass = (block: BlockNoise) =>
  block.activity < 1 ? 0 : Math.min(6, 1 + Math.floor(Math.log2(block.activity)));

export interface NoiseComparison {
  /** Face noise over reference noise, combined over the matched classes (1: the same noise). */
  ratio: number;
  /** Noise floors of the whole face and reference regions, unmatched, for the reader. */
  inside: number;
  around: number;
  /** Classes (brightness × texture, or texture alone) measured on both sides. */
  matchedBands: number;
  matching: 'brightness-and-texture' | 'texture' | 'brightness' | 'none';
}

/**
 * Face-to-reference noise ratio compared between like blocks: sensor noise grows with brightness, and an
 * encoder keeps noise where there is texture and removes it from flat areas, so each class of the face's
 * blocks (brightness band × coarse texture) is set against the same class of the reference, and the classes'
 * ratios are combined weighted by the face's blocks. Coarser matchings are tried when no class has enough
 * blocks on both sides. Null when either side has too few usable blocks.
 */
export function matchedNoiseRatio(
  face: readonly BlockNoise[],
  reference: readonly BlockNoise[],
): NoiseComparison | null {
  const inside = noiseFloor(face);
  const around = noiseFloor(reference);
  if (inside === null || around === null || usableCount(reference) < minReferenceBlocks) return null;
  const matchings = [
    [
      'brightness-and-texture',
      (b: BlockNoise) => `${Math.floor(b.meanLuma / lumaBinWidth)}:${activityClass(b)}`,
    ],
    ['texture', (b: BlockNoise) => `${activityClass(b)}`],
    ['brightness', (b: BlockNoise) => `${Math.floor(b.meanLuma / lumaBinWidth)}`],
  ] as const;
  for (const [matching, key] of matchings) {
    const matched = classRatio(face, reference, key);
    // Classes holding only a corner of the face's blocks would let a few blocks speak for the whole face.
    if (matched && matched.faceShare >= minMatchedFaceShare)
      return { ratio: matched.ratio, inside, around, matchedBands: matched.classes, matching };
  }
  if (around < 0.05) return null;
  return { ratio: inside / around, inside, around, matchedBands: 0, matching: 'none' };
}

function classRatio(
  face: readonly BlockNoise[],
  reference: readonly BlockNoise[],
  key: (block: BlockNoise) => string,
): { ratio: number; classes: number; faceShare: number } | null {
  const classes = new Map<string, { face: BlockNoise[]; reference: BlockNoise[] }>();
  for (const [side, blocks] of [
    ['face', face],
    ['reference', reference],
  ] as const) {
    for (const block of blocks) {
      const entry = classes.get(key(block)) ?? { face: [], reference: [] };
      entry[side].push(block);
      classes.set(key(block), entry);
    }
  }
  let weight = 0;
  let logSum = 0;
  let matched = 0;
  for (const entry of classes.values()) {
    const inside = noiseFloor(entry.face);
    const around = noiseFloor(entry.reference);
    // A reference wiped flat by the encoder says nothing about the camera's noise.
    if (inside === null || around === null || around < 0.05 || inside < 0.01) continue;
    weight += entry.face.length;
    logSum += entry.face.length * Math.log(inside / around);
    matched++;
  }
  if (matched === 0) return null;
  return { ratio: Math.exp(logSum / weight), classes: matched, faceShare: weight / face.length };
}
