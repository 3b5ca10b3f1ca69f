import { buildHuffmanLookup, JpegBitReader, type HuffmanLookup } from './jpeg-bits.js';
import {
  JpegFormatError,
  zigzagToNatural,
  type HuffmanTableSpec,
  type JpegFrame,
  type JpegScan,
  type JpegStructure,
} from './jpeg-structure.js';

/** The quantised DCT coefficients of one component, as stored in the file (before dequantisation). */
export interface ComponentCoefficients {
  componentIndex: number;
  /** Blocks covering the component's own samples (the rest of a row is MCU padding). */
  blocksWide: number;
  blocksHigh: number;
  /** Blocks per stored row (≥ blocksWide). */
  stride: number;
  /** 64 coefficients per block, natural (row-major) order; block (x, y) starts at (y * stride + x) * 64. */
  data: Int16Array;
  /** Scans whose entropy-coded data ended before the blocks did. */
  truncatedScans: number;
}

export class UnsupportedJpegError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedJpegError';
  }
}

interface Geometry {
  maxH: number;
  maxV: number;
  mcusWide: number;
  mcusHigh: number;
}

const geometryOf = (frame: JpegFrame): Geometry => {
  const maxH = Math.max(...frame.components.map((component) => component.horizontalSampling));
  const maxV = Math.max(...frame.components.map((component) => component.verticalSampling));
  return {
    maxH,
    maxV,
    mcusWide: Math.ceil(frame.width / (8 * maxH)),
    mcusHigh: Math.ceil(frame.height / (8 * maxV)),
  };
};

/** How many blocks the component holds (what decoding it costs in memory: 128 bytes each). */
export function componentBlockCount(frame: JpegFrame, componentIndex: number): number {
  const geometry = geometryOf(frame);
  const component = frame.components[componentIndex];
  if (!component) return 0;
  return geometry.mcusWide * component.horizontalSampling * geometry.mcusHigh * component.verticalSampling;
}

/**
 * Decodes the Huffman-coded data of a baseline, extended or progressive JPEG and keeps one component's
 * coefficients (the others are decoded only as far as the bitstream requires).
 */
export function decodeComponentCoefficients(
  bytes: Buffer,
  structure: JpegStructure,
  componentIndex = 0,
): ComponentCoefficients {
  return decodeCoefficients(bytes, structure, [componentIndex])[0] as ComponentCoefficients;
}

/** As decodeComponentCoefficients, for several components in one pass over the data. */
export function decodeCoefficients(
  bytes: Buffer,
  structure: JpegStructure,
  componentIndices: readonly number[],
): ComponentCoefficients[] {
  const frame = structure.frame;
  if (!frame) throw new JpegFormatError('the JPEG has no frame header');
  if (frame.coding === 'arithmetic' || frame.coding === 'lossless' || frame.coding === 'hierarchical')
    throw new UnsupportedJpegError(`${frame.coding} JPEG coding is not decoded`);
  if (frame.precision !== 8) throw new UnsupportedJpegError(`${frame.precision}-bit JPEG is not decoded`);
  if (frame.width === 0 || frame.height === 0) throw new UnsupportedJpegError('the frame has no size');
  const geometry = geometryOf(frame);
  const results = componentIndices.map((componentIndex): ComponentCoefficients => {
    const component = frame.components[componentIndex];
    if (!component) throw new JpegFormatError(`the frame has no component ${componentIndex}`);
    const stride = geometry.mcusWide * component.horizontalSampling;
    const rows = geometry.mcusHigh * component.verticalSampling;
    return {
      componentIndex,
      blocksWide: Math.ceil(Math.ceil((frame.width * component.horizontalSampling) / geometry.maxH) / 8),
      blocksHigh: Math.ceil(Math.ceil((frame.height * component.verticalSampling) / geometry.maxV) / 8),
      stride,
      data: new Int16Array(stride * rows * 64),
      truncatedScans: 0,
    };
  });
  if (structure.scans.length === 0) throw new JpegFormatError('the JPEG has no scan');
  const lookups = new Map<HuffmanTableSpec, HuffmanLookup>();
  const lookup = (spec: HuffmanTableSpec | null): HuffmanLookup => {
    if (!spec) throw new JpegFormatError('a scan uses a Huffman table that is not defined');
    let table = lookups.get(spec);
    if (!table) lookups.set(spec, (table = buildHuffmanLookup(spec)));
    return table;
  };
  for (const scan of structure.scans) {
    const progressive = frame.coding === 'progressive';
    // Per scan slot, where its blocks go (undefined: decoded and dropped).
    const kept = scan.components.map((entry) =>
      results.find((result) => result.componentIndex === entry.componentIndex),
    );
    // Scans holding nothing we keep are skipped: their data ends at the next marker.
    if (kept.every((result) => result === undefined)) continue;
    const reader = new JpegBitReader(bytes, scan.dataStart, scan.dataEnd);
    if (!progressive) decodeSequentialScan(reader, frame, geometry, scan, kept, lookup);
    else decodeProgressiveScan(reader, frame, geometry, scan, kept, lookup);
    if (reader.overrun) for (const result of kept) if (result) result.truncatedScans += 1;
  }
  return results;
}

type LookupOf = (spec: HuffmanTableSpec | null) => HuffmanLookup;

/** Calls visit(componentSlot, blockX, blockY) in the scan's block order, with restarts between intervals. */
function walkScan(
  reader: JpegBitReader,
  frame: JpegFrame,
  geometry: Geometry,
  scan: JpegScan,
  onRestart: () => void,
  visit: (slot: number, blockX: number, blockY: number) => void,
): void {
  let mcu = 0;
  const restart = () => {
    if (scan.restartInterval > 0 && mcu > 0 && mcu % scan.restartInterval === 0) {
      reader.restart();
      onRestart();
    }
    mcu += 1;
  };
  if (scan.components.length === 1) {
    const { componentIndex } = scan.components[0] as { componentIndex: number };
    const component = frame.components[componentIndex] as JpegFrame['components'][number];
    const wide = Math.ceil(Math.ceil((frame.width * component.horizontalSampling) / geometry.maxH) / 8);
    const high = Math.ceil(Math.ceil((frame.height * component.verticalSampling) / geometry.maxV) / 8);
    for (let y = 0; y < high; y += 1)
      for (let x = 0; x < wide; x += 1) {
        restart();
        visit(0, x, y);
      }
    return;
  }
  for (let mcuY = 0; mcuY < geometry.mcusHigh; mcuY += 1)
    for (let mcuX = 0; mcuX < geometry.mcusWide; mcuX += 1) {
      restart();
      scan.components.forEach((entry, slot) => {
        const component = frame.components[entry.componentIndex] as JpegFrame['components'][number];
        for (let v = 0; v < component.verticalSampling; v += 1)
          for (let h = 0; h < component.horizontalSampling; h += 1)
            visit(slot, mcuX * component.horizontalSampling + h, mcuY * component.verticalSampling + v);
      });
    }
}

function decodeSequentialScan(
  reader: JpegBitReader,
  frame: JpegFrame,
  geometry: Geometry,
  scan: JpegScan,
  kept: (ComponentCoefficients | undefined)[],
  lookup: LookupOf,
): void {
  const dc = scan.components.map((entry) => lookup(entry.dcTable));
  const ac = scan.components.map((entry) => lookup(entry.acTable));
  const predictions = new Int32Array(scan.components.length);
  const scratch = new Int16Array(64);
  walkScan(
    reader,
    frame,
    geometry,
    scan,
    () => predictions.fill(0),
    (slot, blockX, blockY) => {
      const result = kept[slot];
      const block = result ? result.data : scratch;
      const base = result ? (blockY * result.stride + blockX) * 64 : 0;
      const dcSize = reader.decode(dc[slot] as HuffmanLookup);
      predictions[slot] = (predictions[slot] as number) + reader.receiveExtend(dcSize);
      block[base] = predictions[slot] as number;
      const acTable = ac[slot] as HuffmanLookup;
      for (let k = 1; k < 64;) {
        const symbol = reader.decode(acTable);
        const size = symbol & 15;
        const run = symbol >> 4;
        if (size === 0) {
          if (run !== 15) break;
          k += 16;
          continue;
        }
        k += run;
        if (k > 63) throw new JpegFormatError('a coefficient run goes past the end of a block');
        block[base + (zigzagToNatural[k] as number)] = reader.receiveExtend(size);
        k += 1;
      }
    },
  );
}

function decodeProgressiveScan(
  reader: JpegBitReader,
  frame: JpegFrame,
  geometry: Geometry,
  scan: JpegScan,
  kept: (ComponentCoefficients | undefined)[],
  lookup: LookupOf,
): void {
  const { spectralStart: start, spectralEnd: end, approximationHigh: high, approximationLow: low } = scan;
  if (start > end || end > 63 || (start === 0 && end !== 0) || (start > 0 && scan.components.length !== 1))
    throw new JpegFormatError('invalid progressive scan parameters');
  const predictions = new Int32Array(scan.components.length);
  const scratch = new Int16Array(64);
  let endOfBandRun = 0;
  const onRestart = () => {
    predictions.fill(0);
    endOfBandRun = 0;
  };
  const dc = start === 0 && high === 0 ? scan.components.map((entry) => lookup(entry.dcTable)) : [];
  const ac = start > 0 ? lookup(scan.components[0]?.acTable ?? null) : null;
  const plus = 1 << low;
  const minus = -1 << low;

  walkScan(reader, frame, geometry, scan, onRestart, (slot, blockX, blockY) => {
    const result = kept[slot];
    const block = result ? result.data : scratch;
    const base = result ? (blockY * result.stride + blockX) * 64 : 0;
    if (start === 0) {
      if (high === 0) {
        predictions[slot] =
          (predictions[slot] as number) + reader.receiveExtend(reader.decode(dc[slot] as HuffmanLookup));
        block[base] = (predictions[slot] as number) * plus;
      } else if (reader.readBit()) block[base] = (block[base] as number) | plus;
      return;
    }
    const table = ac as HuffmanLookup;
    if (high === 0) {
      if (endOfBandRun > 0) {
        endOfBandRun -= 1;
        return;
      }
      for (let k = start; k <= end;) {
        const symbol = reader.decode(table);
        const size = symbol & 15;
        const run = symbol >> 4;
        if (size === 0) {
          if (run < 15) {
            endOfBandRun = (1 << run) - 1 + reader.readBits(run);
            break;
          }
          k += 16;
          continue;
        }
        k += run;
        if (k > 63) throw new JpegFormatError('a coefficient run goes past the end of a block');
        block[base + (zigzagToNatural[k] as number)] = reader.receiveExtend(size) * plus;
        k += 1;
      }
      return;
    }
    // Successive approximation refinement (ITU T.81 G.1.2.3), as libjpeg's decode_mcu_AC_refine.
    const refine = (index: number) => {
      const value = block[index] as number;
      if (reader.readBit() && (value & plus) === 0) block[index] = value >= 0 ? value + plus : value + minus;
    };
    let k = start;
    if (endOfBandRun === 0) {
      for (; k <= end; k += 1) {
        const symbol = reader.decode(table);
        let run = symbol >> 4;
        const size = symbol & 15;
        let value = 0;
        if (size !== 0) value = reader.readBit() ? plus : minus;
        else if (run !== 15) {
          endOfBandRun = (1 << run) + reader.readBits(run);
          break;
        }
        while (k <= end) {
          const index = base + (zigzagToNatural[k] as number);
          if (block[index] !== 0) refine(index);
          else {
            run -= 1;
            if (run < 0) break;
          }
          k += 1;
        }
        if (value !== 0) {
          if (k > 63) throw new JpegFormatError('a coefficient run goes past the end of a block');
          block[base + (zigzagToNatural[k] as number)] = value;
        }
      }
    }
    if (endOfBandRun > 0) {
      for (; k <= end; k += 1) {
        const index = base + (zigzagToNatural[k] as number);
        if (block[index] !== 0) refine(index);
      }
      endOfBandRun -= 1;
    }
  });
}
