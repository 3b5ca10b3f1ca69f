import type { RgbImage } from './rgb-image.js';

/**
 * Baseline JPEG as libjpeg writes it by default (JFIF, YCbCr 4:2:0, the Annex K quantisation tables
 * scaled by the IJG quality rule, the standard Huffman tables), so "quality 90" means what it means for
 * cameras and image libraries. ffmpeg's mjpeg encoder scales other tables and cannot say that.
 */
export function encodeJpeg(image: RgbImage, quality: number): Buffer {
  if (!(quality >= 1 && quality <= 100)) throw new Error(`JPEG quality ${quality} is outside 1–100`);
  const luminance = scaleTable(baseLuminance, quality);
  const chrominance = scaleTable(baseChrominance, quality);
  const writer = new BitWriter();
  writer.bytes(jpegHeaders(image, luminance, chrominance));
  const { y, cb, cr } = toYCbCr(image);
  const mcuColumns = Math.ceil(image.width / 16);
  const mcuRows = Math.ceil(image.height / 16);
  const chromaWidth = Math.ceil(image.width / 2);
  const chromaHeight = Math.ceil(image.height / 2);
  const block = new Float64Array(64);
  const previousDc = [0, 0, 0];
  const encode = (
    plane: Float32Array,
    width: number,
    height: number,
    x0: number,
    y0: number,
    component: 0 | 1 | 2,
  ) => {
    // Blocks past the picture repeat its last row and column, as libjpeg pads.
    for (let row = 0; row < 8; row++) {
      const sy = Math.min(height - 1, y0 + row);
      for (let column = 0; column < 8; column++) {
        block[row * 8 + column] = plane[sy * width + Math.min(width - 1, x0 + column)]! - 128;
      }
    }
    const table = component === 0 ? luminance : chrominance;
    const huffman = component === 0 ? luminanceCodes : chrominanceCodes;
    previousDc[component] = encodeBlock(writer, block, table, huffman, previousDc[component]!);
  };
  for (let mcuRow = 0; mcuRow < mcuRows; mcuRow++) {
    for (let mcuColumn = 0; mcuColumn < mcuColumns; mcuColumn++) {
      const x = mcuColumn * 16;
      const yTop = mcuRow * 16;
      encode(y, image.width, image.height, x, yTop, 0);
      encode(y, image.width, image.height, x + 8, yTop, 0);
      encode(y, image.width, image.height, x, yTop + 8, 0);
      encode(y, image.width, image.height, x + 8, yTop + 8, 0);
      encode(cb, chromaWidth, chromaHeight, x / 2, yTop / 2, 1);
      encode(cr, chromaWidth, chromaHeight, x / 2, yTop / 2, 2);
    }
  }
  writer.flush();
  writer.bytes([0xff, 0xd9]);
  return writer.buffer();
}

const baseLuminance = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const baseChrominance = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  99,
  99,
  99,
  99,
  99,
  ...Array<number>(32).fill(99),
];
/** Natural (row-major) index of each zig-zag position. */
const zigzag = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
];

/** IJG quality scaling (jcparam.c): 50 is the base table, 100 all ones. */
export function scaleTable(base: readonly number[], quality: number): number[] {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return base.map((value) => Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))));
}

interface HuffmanSpec {
  counts: number[];
  symbols: number[];
}

// Annex K.3 tables: code counts per length 1–16 and the symbols in code order.
const dcLuminance: HuffmanSpec = {
  counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
  symbols: [...Array(12).keys()],
};
const dcChrominance: HuffmanSpec = {
  counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  symbols: [...Array(12).keys()],
};
const acLuminance: HuffmanSpec = {
  counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  symbols: [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22,
    0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33,
    0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34,
    0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55,
    0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76,
    0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96,
    0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5,
    0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
    0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1,
    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
  ],
};
const acChrominance: HuffmanSpec = {
  counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  symbols: [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
    0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62,
    0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27, 0x28, 0x29,
    0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54,
    0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75,
    0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3,
    0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2,
    0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
    0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
  ],
};

type CodeTable = Map<number, { code: number; length: number }>;

function buildCodes(spec: HuffmanSpec): CodeTable {
  const codes: CodeTable = new Map();
  let code = 0;
  let next = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < spec.counts[length - 1]!; i++)
      codes.set(spec.symbols[next++]!, { code: code++, length });
    code <<= 1;
  }
  return codes;
}

const luminanceCodes = { dc: buildCodes(dcLuminance), ac: buildCodes(acLuminance) };
const chrominanceCodes = { dc: buildCodes(dcChrominance), ac: buildCodes(acChrominance) };

/** cos((2x + 1)uπ / 16) · C(u) / 2, for the separable forward DCT. */
const dctMatrix = Array.from({ length: 64 }, (_, index) => {
  const u = Math.floor(index / 8);
  const x = index % 8;
  return (u === 0 ? Math.SQRT1_2 : 1) * 0.5 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
});

function encodeBlock(
  writer: BitWriter,
  block: Float64Array,
  table: readonly number[],
  codes: { dc: CodeTable; ac: CodeTable },
  previousDc: number,
): number {
  const rows = new Float64Array(64);
  for (let y = 0; y < 8; y++)
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let x = 0; x < 8; x++) sum += dctMatrix[u * 8 + x]! * block[y * 8 + x]!;
      rows[y * 8 + u] = sum;
    }
  const quantised = new Int32Array(64);
  for (let v = 0; v < 8; v++)
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let y = 0; y < 8; y++) sum += dctMatrix[v * 8 + y]! * rows[y * 8 + u]!;
      quantised[v * 8 + u] = Math.round(sum / table[v * 8 + u]!);
    }
  const dc = quantised[0]!;
  writeValue(writer, codes.dc, 0, dc - previousDc);
  let run = 0;
  for (let k = 1; k < 64; k++) {
    const value = quantised[zigzag[k]!]!;
    if (value === 0) {
      run++;
      continue;
    }
    while (run > 15) {
      writer.code(codes.ac.get(0xf0)!);
      run -= 16;
    }
    writeValue(writer, codes.ac, run, value);
    run = 0;
  }
  if (run > 0) writer.code(codes.ac.get(0x00)!);
  return dc;
}

/** Huffman code of (run, size) then `size` bits of the value (negative values as value − 1 in one's complement). */
function writeValue(writer: BitWriter, codes: CodeTable, run: number, value: number): void {
  const magnitude = Math.abs(value);
  const size = magnitude === 0 ? 0 : Math.floor(Math.log2(magnitude)) + 1;
  writer.code(codes.get((run << 4) | size)!);
  if (size > 0) writer.bits(value < 0 ? value + (1 << size) - 1 : value, size);
}

function toYCbCr(image: RgbImage) {
  const { width, height, data } = image;
  const y = new Float32Array(width * height);
  const cbFull = new Float32Array(width * height);
  const crFull = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const r = data[i * 3]!;
    const g = data[i * 3 + 1]!;
    const b = data[i * 3 + 2]!;
    y[i] = 0.299 * r + 0.587 * g + 0.114 * b;
    cbFull[i] = -0.168736 * r - 0.331264 * g + 0.5 * b + 128;
    crFull[i] = 0.5 * r - 0.418688 * g - 0.081312 * b + 128;
  }
  // 2×2 averages (libjpeg's h2v2 downsampling).
  const chromaWidth = Math.ceil(width / 2);
  const chromaHeight = Math.ceil(height / 2);
  const halve = (full: Float32Array) => {
    const half = new Float32Array(chromaWidth * chromaHeight);
    for (let cy = 0; cy < chromaHeight; cy++)
      for (let cx = 0; cx < chromaWidth; cx++) {
        const x0 = cx * 2;
        const y0 = cy * 2;
        const x1 = Math.min(width - 1, x0 + 1);
        const y1 = Math.min(height - 1, y0 + 1);
        half[cy * chromaWidth + cx] =
          (full[y0 * width + x0]! +
            full[y0 * width + x1]! +
            full[y1 * width + x0]! +
            full[y1 * width + x1]!) /
          4;
      }
    return half;
  };
  return { y, cb: halve(cbFull), cr: halve(crFull) };
}

function jpegHeaders(image: RgbImage, luminance: number[], chrominance: number[]): number[] {
  const word = (value: number) => [(value >> 8) & 0xff, value & 0xff];
  const huffman = (tableClass: number, id: number, spec: HuffmanSpec) => [
    (tableClass << 4) | id,
    ...spec.counts,
    ...spec.symbols,
  ];
  const dhtBody = [
    ...huffman(0, 0, dcLuminance),
    ...huffman(1, 0, acLuminance),
    ...huffman(0, 1, dcChrominance),
    ...huffman(1, 1, acChrominance),
  ];
  return [
    0xff,
    0xd8,
    // APP0 JFIF 1.01, no density units, aspect 1:1, no thumbnail.
    0xff,
    0xe0,
    ...word(16),
    0x4a,
    0x46,
    0x49,
    0x46,
    0x00,
    1,
    1,
    0,
    ...word(1),
    ...word(1),
    0,
    0,
    0xff,
    0xdb,
    ...word(2 + 2 * 65),
    0x00,
    ...zigzag.map((index) => luminance[index]!),
    0x01,
    ...zigzag.map((index) => chrominance[index]!),
    0xff,
    0xc0,
    ...word(17),
    8,
    ...word(image.height),
    ...word(image.width),
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
    0xff,
    0xc4,
    ...word(2 + dhtBody.length),
    ...dhtBody,
    0xff,
    0xda,
    ...word(12),
    3,
    1,
    0x00,
    2,
    0x11,
    3,
    0x11,
    0,
    63,
    0,
  ];
}

/** Entropy-coded bits, MSB first, with 0xFF bytes stuffed with 0x00. */
class BitWriter {
  private chunks: Buffer[] = [];
  private current = Buffer.alloc(1 << 16);
  private length = 0;
  private accumulator = 0;
  private count = 0;

  bytes(values: readonly number[]): void {
    for (const value of values) this.byte(value);
  }

  code(entry: { code: number; length: number }): void {
    this.bits(entry.code, entry.length);
  }

  bits(value: number, size: number): void {
    for (let bit = size - 1; bit >= 0; bit--) {
      this.accumulator = (this.accumulator << 1) | ((value >> bit) & 1);
      if (++this.count === 8) {
        this.byte(this.accumulator);
        if (this.accumulator === 0xff) this.byte(0);
        this.accumulator = 0;
        this.count = 0;
      }
    }
  }

  /** Pads the last byte with 1 bits. */
  flush(): void {
    if (this.count > 0) this.bits(0xff, 8 - this.count);
  }

  buffer(): Buffer {
    return Buffer.concat([...this.chunks, this.current.subarray(0, this.length)]);
  }

  private byte(value: number): void {
    if (this.length === this.current.length) {
      this.chunks.push(this.current);
      this.current = Buffer.alloc(1 << 16);
      this.length = 0;
    }
    this.current[this.length++] = value;
  }
}
