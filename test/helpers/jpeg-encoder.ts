import { forwardDct } from '../../src/media/jpeg/block-dct.js';
import {
  ijgTable,
  standardChrominanceTable,
  standardLuminanceTable,
} from '../../src/media/jpeg/ijg-tables.js';
import { zigzagToNatural } from '../../src/media/jpeg/jpeg-structure.js';

/**
 * A small baseline JPEG encoder for tests: exact control of the quantisation tables (IJG quality or any
 * table), grey or YCbCr 4:2:0, optional restart interval and extra APPn segments. Its output is checked
 * against FFmpeg's decoder in the tests, so the decoder under test is not only checked against itself.
 */

export interface RasterImage {
  width: number;
  height: number;
  /** 1 (grey) or 3 (RGB, interleaved). */
  channels: 1 | 3;
  pixels: Uint8Array;
}

export interface JpegEncodeOptions {
  /** IJG quality 1–100 (default 75), used when tables are not given. */
  quality?: number;
  /** Quantisation tables in natural order: luma, and chroma for colour images. */
  tables?: { luma: Uint16Array; chroma?: Uint16Array };
  restartInterval?: number;
  /** Extra marker segments written after APP0 (e.g. APP1 EXIF, APP2 ICC, APP11 JUMBF). */
  segments?: { marker: number; data: Buffer }[];
  /** Leave out the JFIF APP0 segment. */
  omitJfif?: boolean;
}

// ITU T.81 Annex K.3 tables (luminance), used for every component.
const dcCounts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const dcSymbols = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const acCounts = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const acSymbols = Buffer.from(
  '01020300041105122131410613516107227114328191a1082342b1c11552d1f0243362728209' +
    '0a161718191a25262728292a3435363738393a434445464748494a535455565758595a6364656667' +
    '68696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4' +
    'b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6' +
    'f7f8f9fa',
  'hex',
);

type Code = { code: number; length: number };

function canonicalCodes(counts: number[], symbols: ArrayLike<number>): Map<number, Code> {
  const codes = new Map<number, Code>();
  let code = 0;
  let index = 0;
  counts.forEach((count, lengthIndex) => {
    for (let i = 0; i < count; i += 1)
      codes.set(symbols[index++] as number, { code: code++, length: lengthIndex + 1 });
    code <<= 1;
  });
  return codes;
}

const dcCodes = canonicalCodes(dcCounts, dcSymbols);
const acCodes = canonicalCodes(acCounts, acSymbols);

class BitWriter {
  private readonly bytes: number[] = [];
  private buffer = 0;
  private bits = 0;

  write(value: number, length: number): void {
    for (let bit = length - 1; bit >= 0; bit -= 1) {
      this.buffer = (this.buffer << 1) | ((value >> bit) & 1);
      this.bits += 1;
      if (this.bits === 8) this.flushByte();
    }
  }

  private flushByte(): void {
    this.bytes.push(this.buffer);
    if (this.buffer === 0xff) this.bytes.push(0);
    this.buffer = 0;
    this.bits = 0;
  }

  /** Pads the last byte with ones (as the standard asks). */
  align(): void {
    while (this.bits !== 0) this.write(1, 1);
  }

  marker(code: number): void {
    this.align();
    this.bytes.push(0xff, code);
  }

  toBuffer(): Buffer {
    this.align();
    return Buffer.from(this.bytes);
  }
}

const magnitude = (value: number) => {
  const size = value === 0 ? 0 : Math.floor(Math.log2(Math.abs(value))) + 1;
  return { size, bits: value >= 0 ? value : value + (1 << size) - 1 };
};

function encodeBlock(writer: BitWriter, block: Int32Array, previousDc: number): void {
  const dc = magnitude((block[0] as number) - previousDc);
  const dcCode = dcCodes.get(dc.size) as Code;
  writer.write(dcCode.code, dcCode.length);
  writer.write(dc.bits, dc.size);
  let run = 0;
  for (let k = 1; k < 64; k += 1) {
    const value = block[zigzagToNatural[k] as number] as number;
    if (value === 0) {
      run += 1;
      continue;
    }
    while (run > 15) {
      const zrl = acCodes.get(0xf0) as Code;
      writer.write(zrl.code, zrl.length);
      run -= 16;
    }
    const ac = magnitude(value);
    const code = acCodes.get((run << 4) | ac.size) as Code;
    writer.write(code.code, code.length);
    writer.write(ac.bits, ac.size);
    run = 0;
  }
  if (run > 0) {
    const eob = acCodes.get(0) as Code;
    writer.write(eob.code, eob.length);
  }
}

interface Plane {
  width: number;
  height: number;
  samples: Float64Array;
}

function planesOf(image: RasterImage): Plane[] {
  const { width, height, pixels } = image;
  if (image.channels === 1) return [{ width, height, samples: Float64Array.from(pixels) }];
  const y = new Float64Array(width * height);
  const cb = new Float64Array(width * height);
  const cr = new Float64Array(width * height);
  for (let i = 0; i < width * height; i += 1) {
    const [r, g, b] = [pixels[3 * i] as number, pixels[3 * i + 1] as number, pixels[3 * i + 2] as number];
    y[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    cb[i] = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
    cr[i] = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  }
  const half = (plane: Float64Array): Plane => {
    const w = Math.ceil(width / 2);
    const h = Math.ceil(height / 2);
    const out = new Float64Array(w * h);
    for (let j = 0; j < h; j += 1)
      for (let i = 0; i < w; i += 1) {
        let sum = 0;
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ] as const)
          sum += plane[Math.min(height - 1, 2 * j + dy) * width + Math.min(width - 1, 2 * i + dx)] as number;
        out[j * w + i] = sum / 4;
      }
    return { width: w, height: h, samples: out };
  };
  return [{ width, height, samples: y }, half(cb), half(cr)];
}

/** Quantised coefficients of the 8×8 block at (blockX, blockY), edges replicated. */
function quantisedBlock(plane: Plane, blockX: number, blockY: number, table: Uint16Array): Int32Array {
  const samples = new Float64Array(64);
  for (let y = 0; y < 8; y += 1)
    for (let x = 0; x < 8; x += 1) {
      const px = Math.min(plane.width - 1, blockX * 8 + x);
      const py = Math.min(plane.height - 1, blockY * 8 + y);
      samples[y * 8 + x] = (plane.samples[py * plane.width + px] as number) - 128;
    }
  const frequencies = new Float64Array(64);
  forwardDct(samples, frequencies);
  return Int32Array.from(frequencies, (value, index) => Math.round(value / (table[index] as number)));
}

function segment(marker: number, data: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xff00 | marker, 0);
  header.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([header, data]);
}

function huffmanSegment(): Buffer {
  const table = (classAndId: number, counts: number[], symbols: ArrayLike<number>) =>
    Buffer.from([classAndId, ...counts, ...Array.from(symbols)]);
  return segment(0xc4, Buffer.concat([table(0x00, dcCounts, dcSymbols), table(0x10, acCounts, acSymbols)]));
}

export function encodeJpeg(image: RasterImage, options: JpegEncodeOptions = {}): Buffer {
  const quality = options.quality ?? 75;
  const luma = options.tables?.luma ?? ijgTable(standardLuminanceTable, quality);
  const chroma = options.tables?.chroma ?? ijgTable(standardChrominanceTable, quality);
  const planes = planesOf(image);
  const colour = planes.length === 3;
  const tables = colour ? [luma, chroma] : [luma];
  const zigzag = (table: Uint16Array) => Array.from(zigzagToNatural, (natural) => table[natural] as number);
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  if (!options.omitJfif)
    parts.push(segment(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0])));
  for (const extra of options.segments ?? []) parts.push(segment(extra.marker, extra.data));
  parts.push(segment(0xdb, Buffer.concat(tables.map((table, id) => Buffer.from([id, ...zigzag(table)])))));
  const frame = Buffer.alloc(6 + 3 * planes.length);
  frame[0] = 8;
  frame.writeUInt16BE(image.height, 1);
  frame.writeUInt16BE(image.width, 3);
  frame[5] = planes.length;
  planes.forEach((_, index) => {
    frame[6 + 3 * index] = index + 1;
    frame[7 + 3 * index] = colour && index === 0 ? 0x22 : 0x11;
    frame[8 + 3 * index] = index === 0 ? 0 : 1;
  });
  parts.push(segment(0xc0, frame), huffmanSegment());
  if (options.restartInterval) {
    const dri = Buffer.alloc(2);
    dri.writeUInt16BE(options.restartInterval, 0);
    parts.push(segment(0xdd, dri));
  }
  const scan = Buffer.from([planes.length, ...planes.flatMap((_, index) => [index + 1, 0x00]), 0, 63, 0]);
  parts.push(segment(0xda, scan));

  const writer = new BitWriter();
  const mcuSize = colour ? 16 : 8;
  const mcusWide = Math.ceil(image.width / mcuSize);
  const mcusHigh = Math.ceil(image.height / mcuSize);
  const previous = new Int32Array(planes.length);
  let mcu = 0;
  let restartIndex = 0;
  for (let my = 0; my < mcusHigh; my += 1)
    for (let mx = 0; mx < mcusWide; mx += 1) {
      if (options.restartInterval && mcu > 0 && mcu % options.restartInterval === 0) {
        writer.marker(0xd0 + (restartIndex++ % 8));
        previous.fill(0);
      }
      mcu += 1;
      planes.forEach((plane, index) => {
        const per = colour && index === 0 ? 2 : 1;
        for (let v = 0; v < per; v += 1)
          for (let h = 0; h < per; h += 1) {
            const block = quantisedBlock(
              plane,
              mx * per + h,
              my * per + v,
              tables[index === 0 ? 0 : 1] as Uint16Array,
            );
            encodeBlock(writer, block, previous[index] as number);
            previous[index] = block[0] as number;
          }
      });
    }
  parts.push(writer.toBuffer(), Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}
