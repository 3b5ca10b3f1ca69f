import { inverseDct } from './block-dct.js';
import type { ComponentCoefficients } from './jpeg-coefficients.js';

/** Decodes single blocks of one component to 8-bit samples, as a decoder would show them. */
export class BlockDecoder {
  private readonly frequencies = new Float64Array(64);
  private readonly samples = new Float64Array(64);

  constructor(
    private readonly coefficients: ComponentCoefficients,
    private readonly quantTable: Uint16Array,
  ) {}

  /** Samples of block (blockX, blockY) rounded and clipped to 0–255, into out[0..63]. */
  decode(blockX: number, blockY: number, out: Float64Array | Uint8Array): void {
    const { data, stride } = this.coefficients;
    const base = (blockY * stride + blockX) * 64;
    for (let index = 0; index < 64; index += 1)
      this.frequencies[index] = (data[base + index] as number) * (this.quantTable[index] as number);
    inverseDct(this.frequencies, this.samples);
    for (let index = 0; index < 64; index += 1)
      out[index] = Math.min(255, Math.max(0, Math.round((this.samples[index] as number) + 128)));
  }
}

/** The whole component as an 8-bit plane of blocksWide·8 × blocksHigh·8 samples (for tests and maps). */
export function decodePlane(coefficients: ComponentCoefficients, quantTable: Uint16Array): Uint8Array {
  const width = coefficients.blocksWide * 8;
  const plane = new Uint8Array(width * coefficients.blocksHigh * 8);
  const decoder = new BlockDecoder(coefficients, quantTable);
  const block = new Uint8Array(64);
  for (let by = 0; by < coefficients.blocksHigh; by += 1)
    for (let bx = 0; bx < coefficients.blocksWide; bx += 1) {
      decoder.decode(bx, by, block);
      for (let y = 0; y < 8; y += 1)
        plane.set(block.subarray(y * 8, y * 8 + 8), (by * 8 + y) * width + bx * 8);
    }
  return plane;
}
