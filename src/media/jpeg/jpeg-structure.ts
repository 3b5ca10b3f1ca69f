/** The marker segments of a JPEG held in memory: tables, frame, scans and application segments. */

export type JpegCoding = 'baseline' | 'extended' | 'progressive' | 'lossless' | 'hierarchical' | 'arithmetic';

export interface JpegComponent {
  id: number;
  horizontalSampling: number;
  verticalSampling: number;
  quantTableId: number;
}

export interface JpegFrame {
  marker: number;
  coding: JpegCoding;
  precision: number;
  width: number;
  height: number;
  components: JpegComponent[];
}

export interface QuantTable {
  id: number;
  /** 64 step sizes in natural (row-major) order. */
  values: Uint16Array;
}

export interface HuffmanTableSpec {
  /** Code counts per length 1–16. */
  counts: Uint8Array;
  symbols: Uint8Array;
}

export interface JpegScanComponent {
  /** Index into the frame's components. */
  componentIndex: number;
  dcTable: HuffmanTableSpec | null;
  acTable: HuffmanTableSpec | null;
}

export interface JpegScan {
  components: JpegScanComponent[];
  spectralStart: number;
  spectralEnd: number;
  approximationHigh: number;
  approximationLow: number;
  restartInterval: number;
  /** Entropy-coded bytes: [dataStart, dataEnd) of the file. */
  dataStart: number;
  dataEnd: number;
}

export interface JpegSegment {
  marker: number;
  offset: number;
  /** Payload after the length field. */
  data: Buffer;
}

export interface JpegStructure {
  frame: JpegFrame | null;
  /** Tables in force when the first scan starts, by table id. */
  quantTables: Map<number, QuantTable>;
  /** Application (APP0–APP15) and comment segments, in file order. */
  segments: JpegSegment[];
  scans: JpegScan[];
  /** Byte offset just past EOI, or null when the file has none. */
  endOfImage: number | null;
}

export class JpegFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JpegFormatError';
  }
}

/** Zigzag position → natural (row-major) index. */
export const zigzagToNatural = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

const codingOf = (marker: number): JpegCoding => {
  if (marker >= 0xc9) return 'arithmetic';
  if (marker === 0xc3 || marker === 0xc7) return 'lossless';
  if (marker >= 0xc5) return 'hierarchical';
  return marker === 0xc0 ? 'baseline' : marker === 0xc1 ? 'extended' : 'progressive';
};

const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

// A JPEG has a handful of each; more than these is not a picture we analyse.
const maxSegments = 10_000;
const maxScans = 1_000;

/** Parses the marker structure of a whole JPEG file (entropy-coded data is located, not decoded). */
export function readJpegStructure(bytes: Buffer): JpegStructure {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8)
    throw new JpegFormatError('not a JPEG (no start-of-image marker)');
  const structure: JpegStructure = {
    frame: null,
    quantTables: new Map(),
    segments: [],
    scans: [],
    endOfImage: null,
  };
  const huffman = new Map<number, HuffmanTableSpec>();
  let restartInterval = 0;
  let offset = 2;
  for (let count = 0; count < maxSegments && offset < bytes.length; count += 1) {
    const at = nextMarker(bytes, offset);
    if (at === null) return structure;
    const marker = bytes[at + 1] as number;
    if (marker === 0xd9) {
      structure.endOfImage = at + 2;
      return structure;
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01 || marker === 0xd8) {
      offset = at + 2;
      continue;
    }
    if (at + 4 > bytes.length) return structure;
    const length = bytes.readUInt16BE(at + 2);
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length)
      throw new JpegFormatError(`marker 0x${marker.toString(16)} at byte ${at} runs past the end`);
    const data = bytes.subarray(at + 4, end);
    if (marker === 0xdb) readQuantTables(data, structure.quantTables, structure.scans.length > 0);
    else if (marker === 0xc4) readHuffmanTables(data, huffman);
    else if (marker === 0xdd) restartInterval = data.length >= 2 ? data.readUInt16BE(0) : 0;
    else if ((marker >= 0xe0 && marker <= 0xef) || marker === 0xfe)
      structure.segments.push({ marker, offset: at, data });
    else if (isStartOfFrame(marker)) {
      // A second frame (hierarchical, or a picture glued after the first) is not part of what we analyse.
      if (structure.frame) return structure;
      structure.frame = readFrame(marker, data);
    } else if (marker === 0xda) {
      if (!structure.frame) throw new JpegFormatError('a scan starts before the frame header');
      if (structure.scans.length >= maxScans) throw new JpegFormatError(`more than ${maxScans} scans`);
      const scanEnd = nextMarker(bytes, end) ?? bytes.length;
      structure.scans.push(readScan(data, structure.frame, huffman, restartInterval, end, scanEnd));
      offset = scanEnd;
      continue;
    }
    offset = end;
  }
  return structure;
}

/** The next marker at or after offset: 0xFF followed by a code other than 0x00 (stuffing), RSTn or 0xFF (fill). */
function nextMarker(bytes: Buffer, from: number): number | null {
  let index = bytes.indexOf(0xff, from);
  while (index >= 0 && index + 1 < bytes.length) {
    const code = bytes[index + 1] as number;
    if (code !== 0x00 && code !== 0xff && !(code >= 0xd0 && code <= 0xd7)) return index;
    index = bytes.indexOf(0xff, index + 1);
  }
  return null;
}

function readQuantTables(data: Buffer, tables: Map<number, QuantTable>, afterFirstScan: boolean): void {
  let offset = 0;
  while (offset < data.length) {
    const header = data[offset] as number;
    const precision = header >> 4;
    const id = header & 15;
    const size = precision === 0 ? 64 : 128;
    if (precision > 1 || id > 3 || offset + 1 + size > data.length)
      throw new JpegFormatError('malformed quantisation table');
    const values = new Uint16Array(64);
    for (let k = 0; k < 64; k += 1) {
      const value =
        precision === 0 ? (data[offset + 1 + k] as number) : data.readUInt16BE(offset + 1 + 2 * k);
      values[zigzagToNatural[k] as number] = value;
    }
    // Tables redefined between scans would apply to later scans only; the first scan's tables are kept.
    if (!afterFirstScan || !tables.has(id)) tables.set(id, { id, values });
    offset += 1 + size;
  }
}

function readHuffmanTables(data: Buffer, tables: Map<number, HuffmanTableSpec>): void {
  let offset = 0;
  while (offset < data.length) {
    const header = data[offset] as number;
    if (offset + 17 > data.length) throw new JpegFormatError('malformed Huffman table');
    const counts = Uint8Array.from(data.subarray(offset + 1, offset + 17));
    const total = counts.reduce((sum, count) => sum + count, 0);
    if (total > 256 || offset + 17 + total > data.length)
      throw new JpegFormatError('malformed Huffman table');
    const symbols = Uint8Array.from(data.subarray(offset + 17, offset + 17 + total));
    tables.set(header & 0x1f, { counts, symbols });
    offset += 17 + total;
  }
}

function readFrame(marker: number, data: Buffer): JpegFrame {
  if (data.length < 6) throw new JpegFormatError('malformed frame header');
  const count = data[5] as number;
  if (count < 1 || data.length < 6 + 3 * count) throw new JpegFormatError('malformed frame header');
  const components: JpegComponent[] = [];
  for (let index = 0; index < count; index += 1) {
    const base = 6 + 3 * index;
    const sampling = data[base + 1] as number;
    const component = {
      id: data[base] as number,
      horizontalSampling: sampling >> 4,
      verticalSampling: sampling & 15,
      quantTableId: data[base + 2] as number,
    };
    if (
      component.horizontalSampling < 1 ||
      component.horizontalSampling > 4 ||
      component.verticalSampling < 1 ||
      component.verticalSampling > 4
    )
      throw new JpegFormatError('invalid sampling factors in the frame header');
    components.push(component);
  }
  return {
    marker,
    coding: codingOf(marker),
    precision: data[0] as number,
    height: data.readUInt16BE(1),
    width: data.readUInt16BE(3),
    components,
  };
}

function readScan(
  data: Buffer,
  frame: JpegFrame,
  huffman: Map<number, HuffmanTableSpec>,
  restartInterval: number,
  dataStart: number,
  dataEnd: number,
): JpegScan {
  const count = data[0] ?? 0;
  if (count < 1 || count > 4 || data.length < 1 + 2 * count + 3)
    throw new JpegFormatError('malformed scan header');
  const components: JpegScanComponent[] = [];
  for (let index = 0; index < count; index += 1) {
    const id = data[1 + 2 * index] as number;
    const tables = data[2 + 2 * index] as number;
    const componentIndex = frame.components.findIndex((component) => component.id === id);
    if (componentIndex < 0)
      throw new JpegFormatError(`the scan names component ${id}, absent from the frame`);
    components.push({
      componentIndex,
      dcTable: huffman.get(tables >> 4) ?? null,
      acTable: huffman.get(0x10 | (tables & 15)) ?? null,
    });
  }
  const tail = 1 + 2 * count;
  const approximation = data[tail + 2] as number;
  return {
    components,
    spectralStart: data[tail] as number,
    spectralEnd: data[tail + 1] as number,
    approximationHigh: approximation >> 4,
    approximationLow: approximation & 15,
    restartInterval,
    dataStart,
    dataEnd,
  };
}
