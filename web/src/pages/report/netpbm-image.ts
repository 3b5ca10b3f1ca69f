/**
 * Detectors keep some evidence images as binary PGM/PPM (P5/P6), which browsers do not display: decoded here
 * into RGBA pixels for a canvas, which turns them into PNG.
 */
export interface DecodedImage {
  width: number;
  height: number;
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

const maxPixels = 4096 * 4096;

export function decodeNetpbm(bytes: Uint8Array): DecodedImage {
  const header = readHeader(bytes);
  const { width, height, maxValue, channels, dataStart } = header;
  const sampleBytes = maxValue > 255 ? 2 : 1;
  const needed = dataStart + width * height * channels * sampleBytes;
  if (bytes.length < needed) throw new Error('image data is shorter than its header says');
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel++) {
    for (let channel = 0; channel < 3; channel++) {
      const sample = readSample(
        bytes,
        dataStart,
        pixel * channels + (channels === 1 ? 0 : channel),
        sampleBytes,
      );
      rgba[pixel * 4 + channel] = Math.round((sample * 255) / maxValue);
    }
    rgba[pixel * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

function readSample(bytes: Uint8Array, start: number, index: number, sampleBytes: number): number {
  const offset = start + index * sampleBytes;
  return sampleBytes === 1 ? (bytes[offset] ?? 0) : ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

function readHeader(bytes: Uint8Array) {
  const magic = String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0);
  if (magic !== 'P5' && magic !== 'P6') throw new Error('not a binary PGM or PPM image');
  const fields: number[] = [];
  let position = 2;
  while (fields.length < 3) {
    position = skipSpaceAndComments(bytes, position);
    let digits = '';
    while (position < bytes.length && isDigit(bytes[position] ?? 0))
      digits += String.fromCharCode(bytes[position++] ?? 0);
    if (!digits) throw new Error('malformed image header');
    fields.push(Number(digits));
  }
  const [width, height, maxValue] = fields as [number, number, number];
  if (width < 1 || height < 1 || width * height > maxPixels) throw new Error('image size out of range');
  if (maxValue < 1 || maxValue > 65535) throw new Error('image sample range out of range');
  // Exactly one whitespace byte separates the header from the samples.
  return { width, height, maxValue, channels: magic === 'P5' ? 1 : 3, dataStart: position + 1 };
}

function skipSpaceAndComments(bytes: Uint8Array, start: number): number {
  let position = start;
  for (;;) {
    const byte = bytes[position];
    if (byte === undefined) return position;
    if (byte === 0x23) {
      while (position < bytes.length && bytes[position] !== 0x0a) position++;
    } else if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) {
      position++;
    } else return position;
  }
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}
