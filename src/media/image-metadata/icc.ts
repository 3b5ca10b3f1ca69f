/** The header and description of an ICC colour profile: which software or device made it. */

export interface IccProfile {
  /** Preferred CMM signature (bytes 4–7), e.g. "lcms", "ADBE", "appl", "Lino". */
  cmm: string;
  /** Profile creator signature (bytes 80–83). */
  creator: string;
  /** Device manufacturer signature (bytes 48–51). */
  manufacturer: string;
  version: string;
  /** Creation date in the header (ISO 8601), when set. */
  created: string | null;
  /** The profile's description ('desc' tag), e.g. "sRGB IEC61966-2.1", "GIMP built-in sRGB". */
  description: string | null;
}

const maxTags = 200;

const signature = (bytes: Buffer, offset: number) =>
  bytes
    .toString('latin1', offset, offset + 4)
    .replace(/\0/g, ' ')
    .trim();

export function readIccProfile(bytes: Buffer): IccProfile | null {
  if (bytes.length < 132 || bytes.toString('latin1', 36, 40) !== 'acsp') return null;
  const year = bytes.readUInt16BE(24);
  const created =
    year > 0
      ? new Date(
          Date.UTC(
            year,
            bytes.readUInt16BE(26) - 1,
            bytes.readUInt16BE(28),
            bytes.readUInt16BE(30),
            bytes.readUInt16BE(32),
            bytes.readUInt16BE(34),
          ),
        )
      : null;
  return {
    cmm: signature(bytes, 4),
    creator: signature(bytes, 80),
    manufacturer: signature(bytes, 48),
    version: `${bytes[8]}.${(bytes[9] ?? 0) >> 4}`,
    created: created && !Number.isNaN(created.getTime()) ? created.toISOString() : null,
    description: description(bytes),
  };
}

function description(bytes: Buffer): string | null {
  const count = Math.min(bytes.readUInt32BE(128), maxTags);
  for (let index = 0; index < count; index += 1) {
    const at = 132 + 12 * index;
    if (at + 12 > bytes.length) return null;
    if (bytes.toString('latin1', at, at + 4) !== 'desc') continue;
    const offset = bytes.readUInt32BE(at + 4);
    const size = bytes.readUInt32BE(at + 8);
    if (offset + size > bytes.length || size < 12) return null;
    const tag = bytes.subarray(offset, offset + size);
    const type = tag.toString('latin1', 0, 4);
    // ICC v2 textDescriptionType: an ASCII count and string; v4 multiLocalizedUnicodeType: UTF-16BE records.
    if (type === 'desc') {
      const length = Math.min(tag.readUInt32BE(8), tag.length - 12);
      return clean(tag.toString('latin1', 12, 12 + length));
    }
    if (type === 'mluc' && tag.length >= 28) {
      const length = tag.readUInt32BE(20) & ~1; // UTF-16: whole code units only
      const start = tag.readUInt32BE(24);
      if (start + length > tag.length) return null;
      const utf16 = Buffer.from(tag.subarray(start, start + length));
      return clean(utf16.swap16().toString('utf16le'));
    }
    return null;
  }
  return null;
}

const clean = (text: string) => text.replace(/\0.*$/s, '').trim() || null;
