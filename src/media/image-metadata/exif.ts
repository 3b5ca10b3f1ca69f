/** A bounded reader of the TIFF structure inside EXIF: the tags that say who wrote the picture and when. */

export interface ExifData {
  make: string | null;
  model: string | null;
  software: string | null;
  processingSoftware: string | null;
  hostComputer: string | null;
  /** IFD0 DateTime: when the file was last changed, as the writer says. */
  modifyDate: string | null;
  dateTimeOriginal: string | null;
  dateTimeDigitized: string | null;
  orientation: number | null;
  /** ExifImageWidth/Height: the picture size the writer recorded. */
  pixelWidth: number | null;
  pixelHeight: number | null;
  lensModel: string | null;
  hasMakerNote: boolean;
  hasGps: boolean;
  /** Embedded JPEG thumbnail (IFD1), as bytes within the TIFF data. */
  thumbnail: { offset: number; length: number } | null;
  /** Tags read in all directories. */
  tagCount: number;
}

const maxEntriesPerDirectory = 1000;
const maxDirectories = 8;
const maxStringLength = 512;

interface Entry {
  tag: number;
  type: number;
  count: number;
  /** Offset of the value (inline in the entry or pointed to), within the TIFF data. */
  valueOffset: number;
}

const typeSizes: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
};

/** Parses TIFF-structured EXIF (starting at the byte-order mark); null when it is not TIFF. */
export function readExif(tiff: Buffer): ExifData | null {
  if (tiff.length < 8) return null;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  const little = order === 'II';
  const u16 = (offset: number) => (little ? tiff.readUInt16LE(offset) : tiff.readUInt16BE(offset));
  const u32 = (offset: number) => (little ? tiff.readUInt32LE(offset) : tiff.readUInt32BE(offset));
  if (u16(2) !== 42) return null;

  const visited = new Set<number>();
  const readDirectory = (offset: number): { entries: Map<number, Entry>; next: number } | null => {
    if (visited.size >= maxDirectories || visited.has(offset) || offset < 8 || offset + 2 > tiff.length)
      return null;
    visited.add(offset);
    const count = Math.min(u16(offset), maxEntriesPerDirectory);
    const entries = new Map<number, Entry>();
    for (let index = 0; index < count; index += 1) {
      const at = offset + 2 + 12 * index;
      if (at + 12 > tiff.length) break;
      const type = u16(at + 2);
      const valueCount = u32(at + 4);
      const size = (typeSizes[type] ?? 0) * valueCount;
      const valueOffset = size <= 4 ? at + 8 : u32(at + 8);
      if (size === 0 || valueOffset + size > tiff.length) continue;
      entries.set(u16(at), { tag: u16(at), type, count: valueCount, valueOffset });
    }
    const nextAt = offset + 2 + 12 * count;
    return { entries, next: nextAt + 4 <= tiff.length ? u32(nextAt) : 0 };
  };

  const text = (entries: Map<number, Entry> | undefined, tag: number): string | null => {
    const entry = entries?.get(tag);
    if (!entry || entry.type !== 2) return null;
    const raw = tiff.subarray(entry.valueOffset, entry.valueOffset + Math.min(entry.count, maxStringLength));
    const value = raw.toString('latin1').replace(/\0.*$/s, '').trim();
    return value.length > 0 ? value : null;
  };
  const number = (entries: Map<number, Entry> | undefined, tag: number): number | null => {
    const entry = entries?.get(tag);
    if (!entry) return null;
    if (entry.type === 3) return u16(entry.valueOffset);
    if (entry.type === 4) return u32(entry.valueOffset);
    return null;
  };

  const first = readDirectory(u32(4));
  if (!first) return null;
  const ifd0 = first.entries;
  const exifPointer = number(ifd0, 0x8769);
  const exif = exifPointer !== null ? readDirectory(exifPointer)?.entries : undefined;
  const ifd1 = first.next ? readDirectory(first.next)?.entries : undefined;
  const thumbnailOffset = number(ifd1, 0x0201);
  const thumbnailLength = number(ifd1, 0x0202);
  const thumbnail =
    thumbnailOffset !== null &&
    thumbnailLength !== null &&
    thumbnailLength > 0 &&
    thumbnailOffset + thumbnailLength <= tiff.length
      ? { offset: thumbnailOffset, length: thumbnailLength }
      : null;
  return {
    make: text(ifd0, 0x010f),
    model: text(ifd0, 0x0110),
    software: text(ifd0, 0x0131),
    processingSoftware: text(ifd0, 0x000b),
    hostComputer: text(ifd0, 0x013c),
    modifyDate: text(ifd0, 0x0132),
    dateTimeOriginal: text(exif, 0x9003),
    dateTimeDigitized: text(exif, 0x9004),
    orientation: number(ifd0, 0x0112),
    pixelWidth: number(exif, 0xa002),
    pixelHeight: number(exif, 0xa003),
    lensModel: text(exif, 0xa434),
    hasMakerNote: exif?.has(0x927c) ?? false,
    hasGps: ifd0.has(0x8825),
    thumbnail,
    tagCount: ifd0.size + (exif?.size ?? 0) + (ifd1?.size ?? 0),
  };
}

/** EXIF "YYYY:MM:DD HH:MM:SS" (or ISO 8601) as milliseconds, read as UTC; null when not a date. */
export function parseExifDate(value: string | null): number | null {
  if (!value) return null;
  const match = /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?/.exec(value.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second] = match;
  const time = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second ?? 0),
  );
  return Number.isNaN(time) || Number(year) === 0 ? null : time;
}
