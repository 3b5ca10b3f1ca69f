import { JpegFormatError, type HuffmanTableSpec } from './jpeg-structure.js';

/** A Huffman table as a 16-bit lookup: entry = code length << 8 | symbol, 0 for no code. */
export type HuffmanLookup = Uint16Array;

export function buildHuffmanLookup(spec: HuffmanTableSpec): HuffmanLookup {
  const lookup = new Uint16Array(1 << 16);
  let code = 0;
  let symbolIndex = 0;
  for (let length = 1; length <= 16; length += 1) {
    const count = spec.counts[length - 1] as number;
    for (let index = 0; index < count; index += 1) {
      if (code >= 1 << length) throw new JpegFormatError('Huffman table has more codes than fit');
      const symbol = spec.symbols[symbolIndex] as number;
      const first = code << (16 - length);
      lookup.fill((length << 8) | symbol, first, first + (1 << (16 - length)));
      code += 1;
      symbolIndex += 1;
    }
    code <<= 1;
  }
  return lookup;
}

/** Reads entropy-coded bits: removes FF 00 stuffing, stops (feeding zeros) at a marker. */
export class JpegBitReader {
  private position: number;
  private buffer = 0;
  private bits = 0;
  private atMarker = false;
  /** Zero bytes fed past the data in the current restart interval. */
  private paddedBytes = 0;
  private overran = false;

  constructor(
    private readonly bytes: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.position = start;
  }

  private fill(): void {
    while (this.bits <= 24) {
      let byte = 0;
      if (this.atMarker || this.position >= this.end) this.paddedBytes += 1;
      else {
        byte = this.bytes[this.position] as number;
        if (byte === 0xff) {
          const next = this.bytes[this.position + 1];
          if (next === 0x00) this.position += 2;
          else {
            this.atMarker = true;
            byte = 0;
            this.paddedBytes += 1;
          }
        } else this.position += 1;
      }
      this.buffer = ((this.buffer << 8) | byte) >>> 0;
      this.bits += 8;
    }
  }

  decode(lookup: HuffmanLookup): number {
    if (this.bits < 16) this.fill();
    const entry = lookup[(this.buffer >>> (this.bits - 16)) & 0xffff] as number;
    if (entry === 0) throw new JpegFormatError('invalid Huffman code in the entropy-coded data');
    this.bits -= entry >> 8;
    return entry & 0xff;
  }

  readBits(count: number): number {
    if (count === 0) return 0;
    if (this.bits < count) this.fill();
    this.bits -= count;
    return (this.buffer >>> this.bits) & ((1 << count) - 1);
  }

  readBit(): number {
    return this.readBits(1);
  }

  /** A magnitude category's bits as a signed value (JPEG's EXTEND). */
  receiveExtend(size: number): number {
    if (size === 0) return 0;
    const value = this.readBits(size);
    return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
  }

  /** Whether decoding read well past the data of an interval (a few fill bits are normal): a cut scan. */
  get overrun(): boolean {
    return this.overran || this.paddedBytes > 8;
  }

  /** Skips to just past the next RSTn marker and empties the bit buffer. */
  restart(): void {
    if (this.paddedBytes > 8) this.overran = true;
    this.paddedBytes = 0;
    this.buffer = 0;
    this.bits = 0;
    this.atMarker = false;
    let index = this.position;
    while (index + 1 < this.end) {
      if (this.bytes[index] === 0xff) {
        const code = this.bytes[index + 1] as number;
        if (code >= 0xd0 && code <= 0xd7) {
          this.position = index + 2;
          return;
        }
        if (code !== 0x00 && code !== 0xff) break;
      }
      index += 1;
    }
    this.position = index;
  }
}
