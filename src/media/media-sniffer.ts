export { describeNonMedia } from './non-media-description.js';

export interface SniffedMedia {
  kind: 'video' | 'image' | 'audio';
  mime: string;
  /** Short container name: mp4, mov, matroska, webm, avi, mpegts, ... */
  container: string;
}

/** How many leading bytes the sniffer looks at; callers keep this much of an upload. */
export const sniffLength = 4096;

type Rule = (bytes: Buffer) => SniffedMedia | null;

const media = (kind: SniffedMedia['kind'], mime: string, container: string): SniffedMedia => ({
  kind,
  mime,
  container,
});

const ascii = (bytes: Buffer, offset: number, text: string): boolean =>
  bytes.length >= offset + text.length && bytes.toString('latin1', offset, offset + text.length) === text;

const startsWithBytes = (bytes: Buffer, signature: readonly number[], offset = 0): boolean =>
  bytes.length >= offset + signature.length && signature.every((value, i) => bytes[offset + i] === value);

/** Identifies media from its first bytes (magic numbers only: the name and the client's type are never trusted). */
export function sniffMedia(head: Buffer): SniffedMedia | null {
  const bytes = head.subarray(0, sniffLength);
  for (const rule of rules) {
    const found = rule(bytes);
    if (found) return found;
  }
  return null;
}

const rules: Rule[] = [
  isoBaseMedia,
  quickTimeWithoutFtyp,
  matroska,
  riff,
  (b) => (ascii(b, 0, 'FLV') && b[3] === 1 ? media('video', 'video/x-flv', 'flv') : null),
  (b) =>
    startsWithBytes(b, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])
      ? media('video', 'video/x-ms-asf', 'asf')
      : null,
  mpegTransportStream,
  (b) => (startsWithBytes(b, [0, 0, 1, 0xba]) ? media('video', 'video/mpeg', 'mpegps') : null),
  (b) => (startsWithBytes(b, [0, 0, 1, 0xb3]) ? media('video', 'video/mpeg', 'mpegvideo') : null),
  ogg,
  (b) => (startsWithBytes(b, [0xff, 0xd8, 0xff]) ? media('image', 'image/jpeg', 'jpeg') : null),
  (b) =>
    startsWithBytes(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      ? media('image', 'image/png', 'png')
      : null,
  (b) => (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a') ? media('image', 'image/gif', 'gif') : null),
  (b) => (ascii(b, 0, 'II*\0') || ascii(b, 0, 'MM\0*') ? media('image', 'image/tiff', 'tiff') : null),
  bitmap,
  (b) => (ascii(b, 0, 'fLaC') ? media('audio', 'audio/flac', 'flac') : null),
  mpegAudio,
];

/** Containers that are ISO BMFF boxes (the sniffer's container names). */
export const isoBaseMediaContainers = new Set(['mp4', 'mov', '3gp', 'heif', 'avif']);

const heifBrands = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

/** ISO BMFF (`ftyp` box): MP4, MOV, 3GP, M4A, HEIF and AVIF differ only by their brands. */
function isoBaseMedia(b: Buffer): SniffedMedia | null {
  if (!ascii(b, 4, 'ftyp') || b.length < 12) return null;
  const boxSize = Math.min(b.readUInt32BE(0), b.length);
  const major = b.toString('latin1', 8, 12);
  const brands = [major];
  for (let offset = 16; offset + 4 <= boxSize; offset += 4)
    brands.push(b.toString('latin1', offset, offset + 4));
  if (major === 'avif' || major === 'avis' || (heifBrands.has(major) && brands.includes('avif'))) {
    return media('image', 'image/avif', 'avif');
  }
  if (heifBrands.has(major))
    return media('image', major.startsWith('hei') ? 'image/heic' : 'image/heif', 'heif');
  if (major.startsWith('3g2')) return media('video', 'video/3gpp2', '3gp');
  if (major.startsWith('3g')) return media('video', 'video/3gpp', '3gp');
  if (major === 'qt  ') return media('video', 'video/quicktime', 'mov');
  if (['M4A ', 'M4B ', 'F4A ', 'F4B '].includes(major)) return media('audio', 'audio/mp4', 'mp4');
  return media('video', 'video/mp4', 'mp4');
}

const quickTimeBoxes = ['moov', 'mdat', 'wide', 'free', 'skip', 'pnot'];

/** Old QuickTime files start straight with an atom; its size must be plausible so text like "I'm free" is not taken for one. */
function quickTimeWithoutFtyp(b: Buffer): SniffedMedia | null {
  const box = quickTimeBoxes.find((name) => ascii(b, 4, name));
  if (!box) return null;
  const size = b.readUInt32BE(0);
  const plausible = box === 'mdat' || size <= 1 || (size >= 8 && size < 2 ** 28);
  return plausible ? media('video', 'video/quicktime', 'mov') : null;
}

/** EBML header; the DocType element (0x4282) says webm or matroska. */
function matroska(b: Buffer): SniffedMedia | null {
  if (!startsWithBytes(b, [0x1a, 0x45, 0xdf, 0xa3])) return null;
  const docType = b.indexOf(Buffer.from([0x42, 0x82]), 4);
  const sizeByte = docType >= 0 ? b[docType + 2] : undefined;
  // A one-byte EBML size is 0x80 | length; DocType strings are short.
  const type =
    sizeByte !== undefined && sizeByte & 0x80
      ? b.toString('latin1', docType + 3, docType + 3 + (sizeByte & 0x7f))
      : '';
  return type === 'webm'
    ? media('video', 'video/webm', 'webm')
    : media('video', 'video/x-matroska', 'matroska');
}

function riff(b: Buffer): SniffedMedia | null {
  if (!ascii(b, 0, 'RIFF')) return null;
  if (ascii(b, 8, 'AVI ')) return media('video', 'video/x-msvideo', 'avi');
  if (ascii(b, 8, 'WAVE')) return media('audio', 'audio/wav', 'wav');
  if (ascii(b, 8, 'WEBP')) return media('image', 'image/webp', 'webp');
  return null;
}

/** Sync byte 0x47 every 188 bytes (or 192 with the M2TS timecode prefix), several packets in a row. */
function mpegTransportStream(b: Buffer): SniffedMedia | null {
  for (const [packetSize, first] of [
    [188, 0],
    [192, 4],
  ] as const) {
    const packets = Math.min(5, Math.floor((b.length - first) / packetSize));
    if (packets < 2) continue;
    let synced = true;
    for (let i = 0; i < packets && synced; i++) synced = b[first + i * packetSize] === 0x47;
    if (synced) return media('video', 'video/mp2t', packetSize === 188 ? 'mpegts' : 'm2ts');
  }
  return null;
}

function ogg(b: Buffer): SniffedMedia | null {
  if (!ascii(b, 0, 'OggS')) return null;
  const firstPage = b.subarray(0, 128).toString('latin1');
  return /theora|\x80daala|fishead/.test(firstPage)
    ? media('video', 'video/ogg', 'ogg')
    : media('audio', 'audio/ogg', 'ogg');
}

const bitmapHeaderSizes = new Set([12, 40, 52, 56, 64, 108, 124]);

function bitmap(b: Buffer): SniffedMedia | null {
  if (!ascii(b, 0, 'BM') || b.length < 18) return null;
  return bitmapHeaderSizes.has(b.readUInt32LE(14)) ? media('image', 'image/bmp', 'bmp') : null;
}

/** ID3 tag, or an MPEG audio / ADTS frame header with valid layer, bitrate and sample-rate fields. */
function mpegAudio(b: Buffer): SniffedMedia | null {
  if (ascii(b, 0, 'ID3')) return media('audio', 'audio/mpeg', 'mp3');
  if (b.length < 4 || b[0] !== 0xff || ((b[1] ?? 0) & 0xe0) !== 0xe0) return null;
  const second = b[1] ?? 0;
  const third = b[2] ?? 0;
  const layer = (second >> 1) & 0x3;
  if (layer === 0)
    return (second & 0xf6) === 0xf0 && ((third >> 2) & 0xf) < 13 ? media('audio', 'audio/aac', 'adts') : null;
  const validRates = third >> 4 !== 0xf && ((third >> 2) & 0x3) !== 0x3 && ((second >> 3) & 0x3) !== 0x1;
  return validRates ? media('audio', 'audio/mpeg', 'mp3') : null;
}
