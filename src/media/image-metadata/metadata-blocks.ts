import { inflateSync } from 'node:zlib';
import type { WindowedReader } from '../media-bytes.js';

/** The metadata an image file carries, as raw blocks: EXIF (TIFF), XMP, ICC and text entries. */
export interface ImageMetadataBlocks {
  format: MetadataFormat;
  /** TIFF-structured EXIF data. */
  exif: Buffer | null;
  xmp: string | null;
  icc: Buffer | null;
  /** PNG text chunks (keyword → text) and JPEG comments (key "comment"). */
  texts: { key: string; value: string }[];
  /** Named metadata structures seen, in file order (JFIF, Exif, XMP, ICC, Photoshop IRB, Adobe, JUMBF...). */
  structures: string[];
}

export type MetadataFormat = 'jpeg' | 'png' | 'webp';

// Bounds: a metadata block larger than this is skipped, and walking stops after so many structures.
const maxBlockBytes = 4 * 1024 * 1024;
const maxStructures = 10_000;
const maxTextChars = 64 * 1024;

export async function readMetadataBlocks(
  format: MetadataFormat,
  reader: WindowedReader,
): Promise<ImageMetadataBlocks> {
  const blocks: ImageMetadataBlocks = { format, exif: null, xmp: null, icc: null, texts: [], structures: [] };
  if (format === 'jpeg') await jpeg(reader, blocks);
  else if (format === 'png') await png(reader, blocks);
  else await webp(reader, blocks);
  return blocks;
}

const exifHeader = Buffer.from('Exif\0\0', 'latin1');
const xmpHeader = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
const iccHeader = Buffer.from('ICC_PROFILE\0', 'latin1');

/** APPn and COM segments up to the first scan (where JPEG metadata lives). */
async function jpeg(reader: WindowedReader, blocks: ImageMetadataBlocks): Promise<void> {
  let offset = 2;
  const iccChunks: { sequence: number; data: Buffer }[] = [];
  for (let count = 0; count < maxStructures; count += 1) {
    const header = await reader.bytes(offset, 4);
    if (header.length < 4 || header[0] !== 0xff) break;
    const marker = header[1] as number;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break;
    const length = header.readUInt16BE(2);
    if (length < 2) break;
    const isMetadata = (marker >= 0xe0 && marker <= 0xef) || marker === 0xfe;
    if (isMetadata) {
      const data = await reader.bytes(offset + 4, length - 2);
      if (marker === 0xe1 && startsWith(data, exifHeader)) {
        blocks.structures.push('Exif');
        blocks.exif ??= Buffer.from(data.subarray(exifHeader.length));
      } else if (marker === 0xe1 && startsWith(data, xmpHeader)) {
        blocks.structures.push('XMP');
        blocks.xmp ??= data.subarray(xmpHeader.length).toString('utf8');
      } else if (marker === 0xe2 && startsWith(data, iccHeader) && data.length > iccHeader.length + 2) {
        blocks.structures.push('ICC');
        iccChunks.push({
          sequence: data[iccHeader.length] as number,
          data: Buffer.from(data.subarray(iccHeader.length + 2)),
        });
      } else if (marker === 0xfe) {
        blocks.structures.push('comment');
        // Writers such as libavcodec end the comment with a C string's NUL: it is not part of the text.
        const comment = data.toString('latin1').replace(/\0+$/, '');
        blocks.texts.push({ key: 'comment', value: comment.slice(0, maxTextChars) });
      } else blocks.structures.push(jpegSegmentName(marker, data));
    }
    offset += 2 + length;
  }
  if (iccChunks.length > 0)
    blocks.icc = Buffer.concat(iccChunks.sort((a, b) => a.sequence - b.sequence).map((chunk) => chunk.data));
}

function jpegSegmentName(marker: number, data: Buffer): string {
  const id = data.toString('latin1', 0, 16);
  if (marker === 0xe0 && id.startsWith('JFIF')) return 'JFIF';
  if (marker === 0xe0 && id.startsWith('JFXX')) return 'JFIF extension';
  if (marker === 0xe2 && id.startsWith('MPF')) return 'MPF';
  if (marker === 0xed && id.startsWith('Photoshop 3.0')) return 'Photoshop IRB';
  if (marker === 0xee && id.startsWith('Adobe')) return 'Adobe';
  if (marker === 0xeb && id.startsWith('JP')) return 'JUMBF';
  if (marker === 0xe1 && id.startsWith('http://ns.adobe.com/xmp/extension/')) return 'XMP extension';
  return `APP${marker - 0xe0}`;
}

/** Every chunk from IHDR to IEND: eXIf, iCCP, iTXt/tEXt/zTXt may come before or after the image data. */
async function png(reader: WindowedReader, blocks: ImageMetadataBlocks): Promise<void> {
  let offset = 8;
  for (let count = 0; count < maxStructures; count += 1) {
    const header = await reader.bytes(offset, 8);
    if (header.length < 8) break;
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (type === 'IEND' || length > 0x7fffffff) break;
    const interesting = ['eXIf', 'iCCP', 'iTXt', 'tEXt', 'zTXt', 'caBX'].includes(type);
    if (interesting) blocks.structures.push(type);
    if (interesting && length <= maxBlockBytes && type !== 'caBX') {
      const data = await reader.bytes(offset + 8, length);
      if (type === 'eXIf') blocks.exif ??= Buffer.from(data);
      else if (type === 'iCCP') blocks.icc ??= pngCompressedProfile(data);
      else {
        const text = pngText(type, data);
        if (text?.key === 'XML:com.adobe.xmp') blocks.xmp ??= text.value;
        else if (text) blocks.texts.push(text);
      }
    }
    offset += 12 + length;
  }
}

function pngCompressedProfile(data: Buffer): Buffer | null {
  const nameEnd = data.indexOf(0);
  if (nameEnd < 0 || nameEnd + 2 > data.length) return null;
  return inflateBounded(data.subarray(nameEnd + 2));
}

/** tEXt: keyword\0text (Latin-1); zTXt: keyword\0method, zlib text; iTXt: keyword\0flag method lang\0 key\0 text. */
function pngText(type: string, data: Buffer): { key: string; value: string } | null {
  const keyEnd = data.indexOf(0);
  if (keyEnd < 1) return null;
  const key = data.toString('latin1', 0, keyEnd);
  if (type === 'tEXt') return { key, value: data.toString('latin1', keyEnd + 1).slice(0, maxTextChars) };
  if (type === 'zTXt') {
    const text = inflateBounded(data.subarray(keyEnd + 2));
    return text ? { key, value: text.toString('latin1').slice(0, maxTextChars) } : null;
  }
  const compressed = data[keyEnd + 1] === 1;
  const languageEnd = data.indexOf(0, keyEnd + 3);
  const translatedEnd = languageEnd < 0 ? -1 : data.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return null;
  const body = data.subarray(translatedEnd + 1);
  const text = compressed ? inflateBounded(body) : body;
  return text
    ? { key, value: text.toString('utf8').slice(0, key === 'XML:com.adobe.xmp' ? undefined : maxTextChars) }
    : null;
}

function inflateBounded(data: Buffer): Buffer | null {
  try {
    return inflateSync(data, { maxOutputLength: maxBlockBytes });
  } catch {
    return null;
  }
}

/** RIFF chunks: EXIF, XMP and ICCP (usually after the image data). */
async function webp(reader: WindowedReader, blocks: ImageMetadataBlocks): Promise<void> {
  let offset = 12;
  for (let count = 0; count < maxStructures; count += 1) {
    const header = await reader.bytes(offset, 8);
    if (header.length < 8) break;
    const type = header.toString('latin1', 0, 4);
    const length = header.readUInt32LE(4);
    const interesting = ['EXIF', 'XMP ', 'ICCP', 'C2PA'].includes(type);
    if (interesting) blocks.structures.push(type.trim());
    if (interesting && length <= maxBlockBytes && type !== 'C2PA') {
      const data = await reader.bytes(offset + 8, length);
      // Some writers keep the JPEG-style "Exif\0\0" prefix in the chunk.
      if (type === 'EXIF')
        blocks.exif ??= Buffer.from(startsWith(data, exifHeader) ? data.subarray(6) : data);
      else if (type === 'XMP ') blocks.xmp ??= data.toString('utf8');
      else blocks.icc ??= Buffer.from(data);
    }
    offset += 8 + length + (length & 1);
  }
}

const startsWith = (data: Buffer, prefix: Buffer) =>
  data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
