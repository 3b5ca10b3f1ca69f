import { crc32 } from 'node:zlib';

/**
 * Builders for image metadata in tests: EXIF (big-endian TIFF), ICC profiles, XMP packets, and the
 * containers that carry them (JPEG APPn segments, PNG chunks, WebP RIFF chunks).
 */

export type TagValue = string | number;
export type Tags = Record<number, TagValue>;

// Tags stored as SHORT; other numbers are LONG.
const shortTags = new Set([0x0103, 0x0112, 0x0128]);

/** TIFF with IFD0, an optional Exif IFD and an optional IFD1 holding a JPEG thumbnail. */
export function exifTiff(options: { ifd0: Tags; exif?: Tags; thumbnail?: Buffer }): Buffer {
  const exif = options.exif ?? {};
  const hasExif = Object.keys(exif).length > 0;
  const ifd0: Tags = { ...options.ifd0 };
  if (hasExif) ifd0[0x8769] = 0;
  const ifd1: Tags = options.thumbnail ? { 0x0103: 6, 0x0201: 0, 0x0202: options.thumbnail.length } : {};
  const directorySize = (tags: Tags) => 2 + 12 * Object.keys(tags).length + 4;
  const ifd0At = 8;
  const exifAt = ifd0At + directorySize(ifd0);
  const ifd1At = exifAt + (hasExif ? directorySize(exif) : 0);
  const dataAt = ifd1At + (options.thumbnail ? directorySize(ifd1) : 0);
  const data: Buffer[] = [];
  let dataLength = 0;
  const store = (bytes: Buffer) => {
    const offset = dataAt + dataLength;
    data.push(bytes);
    dataLength += bytes.length;
    return offset;
  };
  if (hasExif) ifd0[0x8769] = exifAt;
  if (options.thumbnail) ifd1[0x0201] = store(options.thumbnail);
  const directory = (tags: Tags, next: number): Buffer => {
    const entries = Object.entries(tags)
      .map(([tag, value]) => [Number(tag), value] as const)
      .sort(([a], [b]) => a - b);
    const out = Buffer.alloc(directorySize(tags));
    out.writeUInt16BE(entries.length, 0);
    entries.forEach(([tag, value], index) => {
      const at = 2 + 12 * index;
      out.writeUInt16BE(tag, at);
      if (typeof value === 'string') {
        const text = Buffer.from(`${value}\0`, 'latin1');
        out.writeUInt16BE(2, at + 2);
        out.writeUInt32BE(text.length, at + 4);
        if (text.length <= 4) text.copy(out, at + 8);
        else out.writeUInt32BE(store(text), at + 8);
      } else if (shortTags.has(tag)) {
        out.writeUInt16BE(3, at + 2);
        out.writeUInt32BE(1, at + 4);
        out.writeUInt16BE(value, at + 8);
      } else {
        out.writeUInt16BE(4, at + 2);
        out.writeUInt32BE(1, at + 4);
        out.writeUInt32BE(value, at + 8);
      }
    });
    out.writeUInt32BE(next, out.length - 4);
    return out;
  };
  const header = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8]);
  const parts = [header, directory(ifd0, options.thumbnail ? ifd1At : 0)];
  if (hasExif) parts.push(directory(exif, 0));
  if (options.thumbnail) parts.push(directory(ifd1, 0));
  return Buffer.concat([...parts, ...data]);
}

/** An ICC v2 display profile header with a 'desc' tag. */
export function iccProfile(options: { cmm: string; creator?: string; description: string }): Buffer {
  const text = Buffer.from(`${options.description}\0`, 'latin1');
  const desc = Buffer.alloc(12 + text.length + 67);
  desc.write('desc', 0, 'latin1');
  desc.writeUInt32BE(text.length, 8);
  text.copy(desc, 12);
  const header = Buffer.alloc(132 + 12);
  const size = header.length + desc.length;
  header.writeUInt32BE(size, 0);
  header.write(options.cmm.padEnd(4), 4, 'latin1');
  header[8] = 2;
  header.write('mntrRGB XYZ ', 12, 'latin1');
  header.writeUInt16BE(2024, 24);
  header.writeUInt16BE(1, 26);
  header.writeUInt16BE(1, 28);
  header.write('acsp', 36, 'latin1');
  header.write((options.creator ?? options.cmm).padEnd(4), 80, 'latin1');
  header.writeUInt32BE(1, 128);
  header.write('desc', 132, 'latin1');
  header.writeUInt32BE(header.length, 136);
  header.writeUInt32BE(desc.length, 140);
  return Buffer.concat([header, desc]);
}

/** An XMP packet with the given rdf:Description attributes and extra inner XML. */
export function xmpPacket(attributes: Record<string, string>, inner = ''): string {
  const attrs = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${value}"`)
    .join('');
  return (
    `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">` +
    `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""` +
    ` xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"` +
    ` xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"` +
    ` xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"${attrs}>${inner}` +
    `</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
  );
}

/** JPEG APPn segments (for the test encoder's `segments` option). */
export const jpegSegments = {
  exif: (tiff: Buffer) => ({ marker: 0xe1, data: Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]) }),
  xmp: (packet: string) => ({
    marker: 0xe1,
    data: Buffer.concat([
      Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1'),
      Buffer.from(packet, 'utf8'),
    ]),
  }),
  icc: (profile: Buffer) => ({
    marker: 0xe2,
    data: Buffer.concat([Buffer.from('ICC_PROFILE\0', 'latin1'), Buffer.from([1, 1]), profile]),
  }),
};

export function pngChunk(type: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(data.length, 0);
  header.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([header.subarray(4), data])), 0);
  return Buffer.concat([header, data, crc]);
}

/** The PNG with extra chunks inserted before IEND. */
export function withPngChunks(png: Buffer, chunks: Buffer[]): Buffer {
  const iend = png.length - 12;
  return Buffer.concat([png.subarray(0, iend), ...chunks, png.subarray(iend)]);
}

export const pngText = (key: string, value: string) =>
  pngChunk('tEXt', Buffer.concat([Buffer.from(`${key}\0`, 'latin1'), Buffer.from(value, 'latin1')]));

export const pngXmp = (packet: string) =>
  pngChunk(
    'iTXt',
    Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'), Buffer.from(packet, 'utf8')]),
  );

/** The WebP with extra RIFF chunks appended (and the RIFF size fixed). */
export function withWebpChunks(webp: Buffer, chunks: { type: string; data: Buffer }[]): Buffer {
  const parts = chunks.map(({ type, data }) => {
    const header = Buffer.alloc(8);
    header.write(type, 0, 'latin1');
    header.writeUInt32LE(data.length, 4);
    return Buffer.concat([header, data, Buffer.alloc(data.length & 1)]);
  });
  const out = Buffer.concat([webp, ...parts]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}
