import type { ComponentCoefficients } from '../../media/jpeg/jpeg-coefficients.js';
import { BlockDecoder } from '../../media/jpeg/jpeg-pixels.js';
import { zigzagToNatural } from '../../media/jpeg/jpeg-structure.js';
import { maxValue, type FrequencyFit } from './double-quantisation.js';

/**
 * Where in the picture the double-compression trace is (Bianchi & Piva 2012, simplified): each 8×8
 * block's coefficients scored against the fitted double and single models, summed over a sliding window.
 * A region whose window sums clearly favour a single save, inside a picture that carries the trace
 * elsewhere, was not there when the picture was first saved: pasted, retouched or re-rendered.
 */

export interface DoubleQuantisationMap {
  blocksWide: number;
  blocksHigh: number;
  /** Window size in blocks. */
  window: number;
  /** Per block (row-major): summed log-likelihood ratio (double vs single) of the window around it. */
  windowEvidence: Float64Array;
  /** Blocks whose window favours double compression / a single save, by more than the threshold. */
  doubleBlocks: number;
  singleBlocks: number;
  /** Blocks left out because their samples are clipped to black or white. */
  clippedBlocks: number;
  /** The largest connected region that favours a single save, when it qualifies as inconsistent. */
  region: InconsistentRegion | null;
}

export interface InconsistentRegion {
  /** Pixel box (x, y, width, height), clipped to the picture. */
  box: { x: number; y: number; width: number; height: number };
  blocks: number;
  /** Mean window evidence inside the region (negative: favours a single save). */
  meanEvidence: number;
  /** Share of the decided blocks outside the region that favour double compression. */
  consistencyOutside: number;
}

/** Window sums beyond ±this many nats decide a block (a likelihood ratio of about 150). */
export const decisiveEvidence = 5;
const minConsistencyOutside = 0.6;
const clipMargin = 4;
const maxClippedSamples = 8;
const maxRegionShare = 0.5;

/** A decoded component with its table and its sampling relative to the luminance (1 or ½...). */
export interface DecodedComponent {
  coefficients: ComponentCoefficients;
  table: Uint16Array;
  scaleX: number;
  scaleY: number;
}

/**
 * Blocks whose pixels were clipped (black, blown out, or a saturated colour out of RGB range) lost the
 * earlier grid's multiples when the first decode clipped them: they look single-saved whatever
 * happened, so they give no evidence.
 */
class ClippedBlocks {
  private readonly luma: BlockDecoder;
  private readonly chroma: { decoder: BlockDecoder; component: DecodedComponent; block: Float64Array }[];
  private readonly y = new Float64Array(64);
  private readonly cb = new Float64Array(64);
  private readonly cr = new Float64Array(64);

  constructor(luma: DecodedComponent, chroma: DecodedComponent[]) {
    this.luma = new BlockDecoder(luma.coefficients, luma.table);
    this.chroma = chroma.map((component) => ({
      decoder: new BlockDecoder(component.coefficients, component.table),
      component,
      block: new Float64Array(64),
    }));
  }

  isClipped(blockX: number, blockY: number): boolean {
    this.luma.decode(blockX, blockY, this.y);
    if (this.chroma.length === 2) {
      const [cb, cr] = this.chroma as [ClippedBlocks['chroma'][number], ClippedBlocks['chroma'][number]];
      this.chromaSamples(cb, blockX, blockY, this.cb);
      this.chromaSamples(cr, blockX, blockY, this.cr);
    }
    let extreme = 0;
    const outside = (value: number) => value <= clipMargin || value >= 255 - clipMargin;
    for (let index = 0; index < 64; index += 1) {
      const y = this.y[index] as number;
      if (this.chroma.length !== 2) {
        if (outside(y)) extreme += 1;
        continue;
      }
      const cb = (this.cb[index] as number) - 128;
      const cr = (this.cr[index] as number) - 128;
      if (
        outside(y) ||
        outside(y + 1.402 * cr) ||
        outside(y - 0.344136 * cb - 0.714136 * cr) ||
        outside(y + 1.772 * cb)
      )
        extreme += 1;
    }
    return extreme > maxClippedSamples;
  }

  /** The chroma samples under each of the luminance block's 64 pixels (nearest sample). */
  private chromaSamples(
    { decoder, component, block }: ClippedBlocks['chroma'][number],
    blockX: number,
    blockY: number,
    out: Float64Array,
  ): void {
    let decoded = -1;
    for (let y = 0; y < 8; y += 1)
      for (let x = 0; x < 8; x += 1) {
        const cx = Math.floor((blockX * 8 + x) * component.scaleX);
        const cy = Math.floor((blockY * 8 + y) * component.scaleY);
        const key = (cy >> 3) * component.coefficients.stride + (cx >> 3);
        if (key !== decoded) {
          decoder.decode(cx >> 3, cy >> 3, block);
          decoded = key;
        }
        out[y * 8 + x] = block[(cy & 7) * 8 + (cx & 7)] as number;
      }
  }
}

export function mapDoubleQuantisation(
  luma: DecodedComponent,
  chroma: DecodedComponent[],
  fits: readonly FrequencyFit[],
  picture: { width: number; height: number },
): DoubleQuantisationMap {
  const { blocksWide, blocksHigh, stride, data } = luma.coefficients;
  const perBlock = new Float64Array(blocksWide * blocksHigh);
  const naturals = fits.map((fit) => zigzagToNatural[fit.zigzag] as number);
  const clipped = new ClippedBlocks(luma, chroma);
  let clippedBlocks = 0;
  for (let by = 0; by < blocksHigh; by += 1)
    for (let bx = 0; bx < blocksWide; bx += 1) {
      if (clipped.isClipped(bx, by)) {
        clippedBlocks += 1;
        continue;
      }
      const base = (by * stride + bx) * 64;
      let sum = 0;
      fits.forEach((fit, index) => {
        const value = data[base + (naturals[index] as number)] as number;
        if (value !== 0 && value >= -maxValue && value <= maxValue)
          sum += fit.logRatio[value + maxValue] as number;
      });
      perBlock[by * blocksWide + bx] = sum;
    }
  const window = Math.max(3, Math.min(12, Math.round(Math.min(blocksWide, blocksHigh) / 6)));
  const windowEvidence = boxSums(perBlock, blocksWide, blocksHigh, window);
  let doubleBlocks = 0;
  let singleBlocks = 0;
  for (const evidence of windowEvidence) {
    if (evidence > decisiveEvidence) doubleBlocks += 1;
    else if (evidence < -decisiveEvidence) singleBlocks += 1;
  }
  const region = largestSingleRegion(
    windowEvidence,
    blocksWide,
    blocksHigh,
    window,
    picture,
    doubleBlocks,
    singleBlocks,
  );
  return {
    blocksWide,
    blocksHigh,
    window,
    windowEvidence,
    doubleBlocks,
    singleBlocks,
    clippedBlocks,
    region,
  };
}

/** Sum over the window×window blocks centred on each block (clipped at the edges), by an integral image. */
function boxSums(values: Float64Array, width: number, height: number, window: number): Float64Array {
  const integral = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y += 1) {
    let row = 0;
    for (let x = 0; x < width; x += 1) {
      row += values[y * width + x] as number;
      integral[(y + 1) * (width + 1) + x + 1] = (integral[y * (width + 1) + x + 1] as number) + row;
    }
  }
  const half = Math.floor(window / 2);
  const sums = new Float64Array(width * height);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) {
      const x0 = Math.max(0, x - half);
      const y0 = Math.max(0, y - half);
      const x1 = Math.min(width, x0 + window);
      const y1 = Math.min(height, y0 + window);
      sums[y * width + x] =
        (integral[y1 * (width + 1) + x1] as number) -
        (integral[y0 * (width + 1) + x1] as number) -
        (integral[y1 * (width + 1) + x0] as number) +
        (integral[y0 * (width + 1) + x0] as number);
    }
  return sums;
}

function largestSingleRegion(
  evidence: Float64Array,
  width: number,
  height: number,
  window: number,
  picture: { width: number; height: number },
  doubleBlocks: number,
  singleBlocks: number,
): InconsistentRegion | null {
  const label = new Int32Array(width * height).fill(-1);
  let best: { blocks: number[] } | null = null;
  for (let start = 0; start < evidence.length; start += 1) {
    if (label[start] !== -1 || (evidence[start] as number) >= -decisiveEvidence) continue;
    const blocks: number[] = [];
    const stack = [start];
    label[start] = start;
    while (stack.length > 0) {
      const index = stack.pop() as number;
      blocks.push(index);
      const x = index % width;
      const y = (index - x) / width;
      for (const [nx, ny] of [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ] as const) {
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const next = ny * width + nx;
        if (label[next] !== -1 || (evidence[next] as number) >= -decisiveEvidence) continue;
        label[next] = start;
        stack.push(next);
      }
    }
    if (!best || blocks.length > best.blocks.length) best = { blocks };
  }
  if (!best) return null;
  const decided = doubleBlocks + singleBlocks;
  const outsideDecided = decided - best.blocks.length;
  const consistencyOutside = outsideDecided > 0 ? doubleBlocks / outsideDecided : 0;
  // One window's worth of blocks at least, never most of the picture, and a picture that is double elsewhere.
  if (
    best.blocks.length < window * window ||
    best.blocks.length > maxRegionShare * width * height ||
    consistencyOutside < minConsistencyOutside
  )
    return null;
  let [minX, minY, maxX, maxY] = [width, height, 0, 0];
  let sum = 0;
  for (const index of best.blocks) {
    const x = index % width;
    const y = (index - x) / width;
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
    sum += evidence[index] as number;
  }
  const x = minX * 8;
  const y = minY * 8;
  return {
    box: {
      x,
      y,
      width: Math.min(picture.width, (maxX + 1) * 8) - x,
      height: Math.min(picture.height, (maxY + 1) * 8) - y,
    },
    blocks: best.blocks.length,
    meanEvidence: sum / best.blocks.length,
    consistencyOutside,
  };
}

/** The window evidence as an 8-bit PGM, one pixel per block: white favours double compression, black a single save. */
export function evidenceMapPgm(map: DoubleQuantisationMap): Buffer {
  const header = Buffer.from(`P5\n${map.blocksWide} ${map.blocksHigh}\n255\n`, 'latin1');
  const pixels = Buffer.alloc(map.blocksWide * map.blocksHigh);
  map.windowEvidence.forEach((evidence, index) => {
    pixels[index] = Math.round(127.5 + 127.5 * Math.tanh(evidence / (2 * decisiveEvidence)));
  });
  return Buffer.concat([header, pixels]);
}
