import type { WindowedReader } from './media-bytes.js';

const maxTopLevelBoxes = 10_000;
// Only real top-level boxes count: garbage that happens to read as a huge size is not a cut file.
const topLevelTypes = new Set([
  'ftyp',
  'styp',
  'moov',
  'mdat',
  'free',
  'skip',
  'wide',
  'uuid',
  'meta',
  'moof',
  'mfra',
  'sidx',
  'pdin',
  'udta',
  'pnot',
  'prfl',
  'jP  ',
]);

/**
 * The first top-level ISO BMFF box (ftyp, moov, mdat...) whose declared size runs past the end of the
 * file: the mark of a cut file. Null when every box fits or the layout is not ISO BMFF.
 */
export async function boxPastEnd(
  reader: WindowedReader,
): Promise<{ type: string; offset: number; declaredBytes: number } | null> {
  let offset = 0;
  for (let count = 0; count < maxTopLevelBoxes && offset + 8 <= reader.sizeBytes; count += 1) {
    const header = await reader.bytes(offset, 16);
    if (header.length < 8) return null;
    let size = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (!topLevelTypes.has(type)) return null;
    if (size === 1) {
      if (header.length < 16) return { type, offset, declaredBytes: 16 };
      size = Number(header.readBigUInt64BE(8));
    } else if (size === 0) return null;
    if (size < 8) return null;
    if (offset + size > reader.sizeBytes) return { type, offset, declaredBytes: size };
    offset += size;
  }
  return null;
}
