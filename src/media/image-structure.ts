import type { WindowedReader } from './media-bytes.js';

/** What an image file's own headers say, read in TypeScript before any decoder sees the file. */
export type ImageStructure =
  | { kind: 'image'; format: ImageFormat; width: number; height: number }
  | {
      kind: 'broken';
      format: ImageFormat;
      code: 'media-truncated' | 'media-undecodable';
      reason: string;
      /** Dimensions when the header was read before the problem (they are checked first). */
      width: number | null;
      height: number | null;
    };

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp';

// Walking stops here: more structures than this is not an image we analyse.
const maxStructures = 1_000_000;

/** Formats parsed here, by the sniffer's container name; others (TIFF, HEIF, AVIF) rely on the probe. */
export function imageFormatOf(container: string): ImageFormat | null {
  return (['png', 'jpeg', 'gif', 'webp', 'bmp'] as const).find((format) => format === container) ?? null;
}

export function readImageStructure(format: ImageFormat, reader: WindowedReader): Promise<ImageStructure> {
  switch (format) {
    case 'png':
      return png(reader);
    case 'jpeg':
      return jpeg(reader);
    case 'gif':
      return gif(reader);
    case 'webp':
      return webp(reader);
    case 'bmp':
      return bmp(reader);
  }
}

type Dimensions = { width: number | null; height: number | null };

const truncated = (format: ImageFormat, reason: string, size: Dimensions): ImageStructure => ({
  kind: 'broken',
  format,
  code: 'media-truncated',
  reason,
  ...size,
});
const malformed = (format: ImageFormat, reason: string, size: Dimensions): ImageStructure => ({
  kind: 'broken',
  format,
  code: 'media-undecodable',
  reason,
  ...size,
});
const unknownSize: Dimensions = { width: null, height: null };

/** Chunks from the signature to IEND: IHDR gives the size; a chunk past the end or no IEND is a cut file. */
async function png(reader: WindowedReader): Promise<ImageStructure> {
  let offset = 8;
  let size: Dimensions = unknownSize;
  let imageData = 0;
  for (let count = 0; count < maxStructures; count += 1) {
    const header = await reader.bytes(offset, 8);
    if (header.length < 8)
      return truncated('png', `the PNG ends at byte ${reader.sizeBytes} without an IEND chunk`, size);
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (length > 0x7fffffff)
      return malformed('png', `the ${printable(type)} chunk has an invalid length`, size);
    if (count === 0) {
      if (type !== 'IHDR' || length < 8)
        return malformed('png', 'the PNG does not start with an IHDR chunk', size);
      const ihdr = await reader.bytes(offset + 8, 8);
      if (ihdr.length === 8) size = { width: ihdr.readUInt32BE(0), height: ihdr.readUInt32BE(4) };
    }
    const end = offset + 12 + length;
    if (end > reader.sizeBytes) {
      return truncated(
        'png',
        `the ${printable(type)} chunk at byte ${offset} claims ${length} bytes but the file ends at byte ${reader.sizeBytes}`,
        size,
      );
    }
    if (type === 'IDAT') imageData += length;
    if (type === 'IEND') {
      if (imageData === 0) return truncated('png', 'the PNG has no image data (no IDAT chunk)', size);
      return { kind: 'image', format: 'png', width: size.width ?? 0, height: size.height ?? 0 };
    }
    offset = end;
  }
  return malformed('png', `the PNG has more than ${maxStructures} chunks`, size);
}

const startOfFrame = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Marker segments to SOFn (size) and through every scan to EOI; no EOI is a cut file. */
async function jpeg(reader: WindowedReader): Promise<ImageStructure> {
  let offset = 2;
  let size: Dimensions = unknownSize;
  const cut = () =>
    truncated('jpeg', `the JPEG ends at byte ${reader.sizeBytes} without an end-of-image marker`, size);
  for (let count = 0; count < maxStructures; count += 1) {
    const marker = await nextMarker(reader, offset);
    if (marker === null) return cut();
    const { code, at } = marker;
    if (code === 0xd9) {
      if (size.width === null) return malformed('jpeg', 'the JPEG has no frame header (SOF)', size);
      return { kind: 'image', format: 'jpeg', width: size.width, height: size.height ?? 0 };
    }
    if ((code >= 0xd0 && code <= 0xd7) || code === 0x01 || code === 0xd8) {
      offset = at + 2;
      continue;
    }
    const lengthBytes = await reader.bytes(at + 2, 2);
    if (lengthBytes.length < 2) return cut();
    const length = lengthBytes.readUInt16BE(0);
    if (length < 2) return malformed('jpeg', `a marker segment at byte ${at} has an invalid length`, size);
    if (at + 2 + length > reader.sizeBytes) return cut();
    if (startOfFrame.has(code) && size.width === null) {
      const frame = await reader.bytes(at + 5, 4);
      if (frame.length === 4) size = { height: frame.readUInt16BE(0), width: frame.readUInt16BE(2) };
    }
    offset = at + 2 + length;
    // After a scan header comes entropy-coded data; nextMarker skips it (0xFF is stuffed there as FF 00).
  }
  return malformed('jpeg', `the JPEG has more than ${maxStructures} segments`, size);
}

/** The next marker at or after offset, skipping entropy-coded bytes, stuffed FF 00 and fill bytes. */
async function nextMarker(
  reader: WindowedReader,
  from: number,
): Promise<{ code: number; at: number } | null> {
  const step = 64 * 1024;
  let offset = from;
  while (offset < reader.sizeBytes) {
    const chunk = await reader.bytes(offset, step + 1);
    let index = chunk.indexOf(0xff);
    while (index >= 0 && index + 1 < chunk.length) {
      const code = chunk[index + 1] as number;
      if (code !== 0x00 && code !== 0xff) return { code, at: offset + index };
      index = chunk.indexOf(0xff, index + 1);
    }
    if (chunk.length <= 1) return null;
    offset += chunk.length - 1;
  }
  return null;
}

/** Screen descriptor, then image descriptors and extensions to the trailer; frames may not reach past the screen unnoticed. */
async function gif(reader: WindowedReader): Promise<ImageStructure> {
  const screen = await reader.bytes(6, 7);
  if (screen.length < 7) return truncated('gif', 'the GIF ends inside its header', unknownSize);
  let width = screen.readUInt16LE(0);
  let height = screen.readUInt16LE(2);
  const packed = screen[4] as number;
  let offset = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
  let frames = 0;
  const size = () => ({ width, height });
  const cut = () => truncated('gif', `the GIF ends at byte ${reader.sizeBytes} without its trailer`, size());
  for (let count = 0; count < maxStructures; count += 1) {
    const introducer = await reader.byte(offset);
    if (introducer === undefined) return cut();
    if (introducer === 0x3b) {
      if (frames === 0) return truncated('gif', 'the GIF has no image', size());
      return { kind: 'image', format: 'gif', width, height };
    }
    if (introducer === 0x2c) {
      const descriptor = await reader.bytes(offset + 1, 9);
      if (descriptor.length < 9) return cut();
      width = Math.max(width, descriptor.readUInt16LE(0) + descriptor.readUInt16LE(4));
      height = Math.max(height, descriptor.readUInt16LE(2) + descriptor.readUInt16LE(6));
      const local = descriptor[8] as number;
      offset += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0) + 1;
      frames += 1;
    } else if (introducer === 0x21) offset += 2;
    else return malformed('gif', `unexpected block 0x${introducer.toString(16)} at byte ${offset}`, size());
    const after = await skipSubBlocks(reader, offset);
    if (after === null) return cut();
    offset = after;
  }
  return malformed('gif', `the GIF has more than ${maxStructures} blocks`, size());
}

async function skipSubBlocks(reader: WindowedReader, from: number): Promise<number | null> {
  let offset = from;
  for (;;) {
    const length = await reader.byte(offset);
    if (length === undefined) return null;
    offset += 1 + length;
    if (length === 0) return offset;
  }
}

/** RIFF size against the file, and the canvas from VP8X, VP8L or the VP8 key frame header. */
async function webp(reader: WindowedReader): Promise<ImageStructure> {
  const header = await reader.bytes(0, 30);
  if (header.length < 30) return truncated('webp', 'the WebP ends inside its header', unknownSize);
  const riffEnd = 8 + header.readUInt32LE(4);
  const chunk = header.toString('latin1', 12, 16);
  let size: Dimensions = unknownSize;
  if (chunk === 'VP8X') size = { width: header.readUIntLE(24, 3) + 1, height: header.readUIntLE(27, 3) + 1 };
  else if (chunk === 'VP8L' && header[20] === 0x2f) {
    const bits = header.readUInt32LE(21);
    size = { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  } else if (chunk === 'VP8 ' && header[23] === 0x9d && header[24] === 0x01 && header[25] === 0x2a)
    size = { width: header.readUInt16LE(26) & 0x3fff, height: header.readUInt16LE(28) & 0x3fff };
  else return malformed('webp', `the WebP starts with an unknown ${printable(chunk)} chunk`, size);
  if (riffEnd > reader.sizeBytes)
    return truncated(
      'webp',
      `the WebP claims ${riffEnd} bytes but the file ends at byte ${reader.sizeBytes}`,
      size,
    );
  return { kind: 'image', format: 'webp', width: size.width ?? 0, height: size.height ?? 0 };
}

/** Info header size and, for uncompressed pixels, the rows the header promises against the file. */
async function bmp(reader: WindowedReader): Promise<ImageStructure> {
  const header = await reader.bytes(0, 34);
  if (header.length < 26) return truncated('bmp', 'the BMP ends inside its header', unknownSize);
  const pixelOffset = header.readUInt32LE(10);
  const core = header.readUInt32LE(14) === 12;
  if (!core && header.length < 34) return truncated('bmp', 'the BMP ends inside its header', unknownSize);
  const width = core ? header.readUInt16LE(18) : Math.abs(header.readInt32LE(18));
  const height = core ? header.readUInt16LE(20) : Math.abs(header.readInt32LE(22));
  const bitsPerPixel = header.readUInt16LE(core ? 24 : 28);
  const compression = core ? 0 : header.readUInt32LE(30);
  const size = { width, height };
  if (compression === 0 || compression === 3) {
    const rowBytes = Math.floor((bitsPerPixel * width + 31) / 32) * 4;
    const needed = pixelOffset + rowBytes * height;
    if (needed > reader.sizeBytes)
      return truncated(
        'bmp',
        `the BMP needs ${needed} bytes for its rows but the file ends at byte ${reader.sizeBytes}`,
        size,
      );
  }
  return { kind: 'image', format: 'bmp', width, height };
}

const printable = (type: string) => JSON.stringify(type.replace(/[^\x20-\x7e]/g, '?'));
