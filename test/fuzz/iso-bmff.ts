/** A minimal ISO-BMFF (MP4/MOV) box walker: enough to cut, resize and patch boxes for fuzzing. */
export interface Box {
  type: string;
  /** Offset of the box header in the file. */
  start: number;
  /** Offset just past the box (clamped to the buffer). */
  end: number;
  headerBytes: number;
  /** Dotted path from the top level, with an index where a type repeats: `moov.trak[1].mdia`. */
  path: string;
}

// Boxes whose payload is only child boxes (no version/flags or other fields first).
const containers = new Set([
  'moov',
  'trak',
  'mdia',
  'minf',
  'stbl',
  'dinf',
  'edts',
  'mvex',
  'moof',
  'traf',
  'udta',
]);

/** The boxes laid out one after another in [start, end); stops at the first header that does not fit. */
export function walkBoxes(bytes: Buffer, start = 0, end = bytes.length, parentPath = ''): Box[] {
  const boxes: Box[] = [];
  const seen = new Map<string, number>();
  let offset = start;
  while (offset + 8 <= end) {
    let size = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    let headerBytes = 8;
    if (size === 1) {
      if (offset + 16 > end) break;
      size = Number(bytes.readBigUInt64BE(offset + 8));
      headerBytes = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < headerBytes) break;
    const index = seen.get(type) ?? 0;
    seen.set(type, index + 1);
    const name = index === 0 ? type : `${type}[${index}]`;
    boxes.push({
      type,
      start: offset,
      end: Math.min(offset + size, end),
      headerBytes,
      path: parentPath ? `${parentPath}.${name}` : name,
    });
    offset += size;
  }
  return boxes;
}

/** Every box in the file, depth first, descending into known containers and into stsd sample entries. */
export function walkAllBoxes(bytes: Buffer): Box[] {
  const all: Box[] = [];
  const visit = (boxes: Box[]) => {
    for (const box of boxes) {
      all.push(box);
      if (containers.has(box.type)) visit(walkBoxes(bytes, box.start + box.headerBytes, box.end, box.path));
      // stsd: version/flags + entry count, then sample entries (avc1: 78 bytes of fields before its children).
      if (box.type === 'stsd') visit(walkBoxes(bytes, box.start + box.headerBytes + 8, box.end, box.path));
      if (box.type === 'avc1' || box.type === 'hvc1')
        visit(walkBoxes(bytes, box.start + box.headerBytes + 78, box.end, box.path));
    }
  };
  visit(walkBoxes(bytes));
  return all;
}

export function findBoxes(bytes: Buffer, type: string): Box[] {
  return walkAllBoxes(bytes).filter((box) => box.type === type);
}

/** Replaces the byte range [from, to) with `insert` and fixes the 32-bit sizes of every box that encloses it. */
export function spliceInBoxes(bytes: Buffer, from: number, to: number, insert: Buffer): Buffer {
  const delta = insert.length - (to - from);
  const enclosing = walkAllBoxes(bytes).filter((box) => box.start < from && box.end >= to);
  const out = Buffer.concat([bytes.subarray(0, from), insert, bytes.subarray(to)]);
  for (const box of enclosing) {
    if (box.headerBytes === 8) out.writeUInt32BE(out.readUInt32BE(box.start) + delta, box.start);
    else out.writeBigUInt64BE(out.readBigUInt64BE(box.start + 8) + BigInt(delta), box.start + 8);
  }
  return out;
}
