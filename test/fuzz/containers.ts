/** Walkers for the non-ISO formats the fuzz seeds use: PNG chunks, JPEG segments, Matroska elements. */
export interface Span {
  name: string;
  start: number;
  end: number;
}

/** PNG: signature, then chunks (length, type, data, CRC). */
export function pngChunks(bytes: Buffer): Span[] {
  const chunks: Span[] = [];
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = Math.min(offset + 12 + length, bytes.length);
    chunks.push({ name: `${type}@${offset}`, start: offset, end });
    offset = end;
  }
  return chunks;
}

/** JPEG: marker segments up to SOS, then its entropy-coded data as one span, then EOI. */
export function jpegSegments(bytes: Buffer): Span[] {
  const segments: Span[] = [{ name: 'SOI', start: 0, end: 2 }];
  let offset = 2;
  while (offset + 4 <= bytes.length && bytes[offset] === 0xff) {
    const marker = bytes[offset + 1] as number;
    if (marker === 0xd9) {
      segments.push({ name: 'EOI', start: offset, end: offset + 2 });
      break;
    }
    const end = Math.min(offset + 2 + bytes.readUInt16BE(offset + 2), bytes.length);
    segments.push({ name: `FF${marker.toString(16).toUpperCase()}@${offset}`, start: offset, end });
    offset = end;
    if (marker === 0xda) {
      // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart marker.
      let scan = offset;
      while (scan + 1 < bytes.length) {
        const next = bytes[scan + 1] as number;
        if (bytes[scan] === 0xff && next !== 0 && (next < 0xd0 || next > 0xd7)) break;
        scan += 1;
      }
      segments.push({ name: `scan@${offset}`, start: offset, end: scan });
      offset = scan;
    }
  }
  return segments;
}

/** SOF0–SOF15 (not DHT/JPG/DAC): where the frame size lives. */
export function jpegFrameHeader(bytes: Buffer): Span | undefined {
  return jpegSegments(bytes).find((segment) => {
    const marker = bytes[segment.start + 1] as number;
    return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
  });
}

function readVint(
  bytes: Buffer,
  offset: number,
  keepMarker: boolean,
): { value: number; length: number } | null {
  const first = bytes[offset];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23;
  if (offset + length > bytes.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = bytes[offset + i] as number;
    value = value * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  return { value: !keepMarker && allOnes ? -1 : value, length };
}

const matroskaNames: Record<number, string> = {
  0x1a45dfa3: 'EBML',
  0x18538067: 'Segment',
  0x114d9b74: 'SeekHead',
  0x1549a966: 'Info',
  0x1654ae6b: 'Tracks',
  0x1f43b675: 'Cluster',
  0x1c53bb6b: 'Cues',
  0x1254c367: 'Tags',
  0xec: 'Void',
};

/** The top-level elements and the Segment's children, each with its full extent. */
export function matroskaElements(bytes: Buffer): Span[] {
  const walk = (start: number, end: number, prefix: string): Span[] => {
    const spans: Span[] = [];
    let offset = start;
    while (offset < end) {
      const id = readVint(bytes, offset, true);
      if (!id) break;
      const size = readVint(bytes, offset + id.length, false);
      if (!size) break;
      const payload = offset + id.length + size.length;
      const elementEnd = size.value < 0 ? end : Math.min(payload + size.value, end);
      const name = `${prefix}${matroskaNames[id.value] ?? `0x${id.value.toString(16)}`}@${offset}`;
      spans.push({ name, start: offset, end: elementEnd });
      if (id.value === 0x18538067) spans.push(...walk(payload, elementEnd, 'Segment.'));
      offset = elementEnd;
    }
    return spans;
  };
  return walk(0, bytes.length, '');
}
