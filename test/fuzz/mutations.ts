import { crc32 } from 'node:zlib';
import { jpegFrameHeader, jpegSegments, matroskaElements, pngChunks, type Span } from './containers.js';
import { rewriteSpsFrameSize } from './h264-sps.js';
import { findBoxes, spliceInBoxes, walkAllBoxes, walkBoxes, type Box } from './iso-bmff.js';
import { htmlHead, pdfDocument, svgImage, zipWith } from './polyglots.js';
import { deriveSeed, mulberry32, type Prng } from './prng.js';
import type { SeedMedia } from './seed-media.js';

export type MutationClass =
  | 'truncate-boundary'
  | 'truncate-inside'
  | 'box-size-lie'
  | 'index-lie'
  | 'dimension-lie'
  | 'duration-lie'
  | 'bitflip'
  | 'polyglot'
  | 'seed';

/** One mutated file; `name` is stable for a given run seed, so `FUZZ_SEED=… FUZZ_ONLY=name` replays it. */
export interface FuzzCase {
  name: string;
  mutationClass: MutationClass;
  seed: string;
  extension: string;
  bytes: Buffer;
}

type Mutation = { detail: string; mutationClass: MutationClass; apply(): Buffer | null };

const cut = (bytes: Buffer, at: number) => Buffer.from(bytes.subarray(0, at));

function patched(bytes: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(bytes);
  edit(copy);
  return copy;
}

// ---- truncation -------------------------------------------------------------------------------------

function boundarySpans(seed: SeedMedia): Span[] {
  const { bytes } = seed;
  switch (seed.format) {
    case 'iso-bmff': {
      const top = walkBoxes(bytes);
      const moovChildren = top
        .filter((box) => box.type === 'moov')
        .flatMap((moov) => walkBoxes(bytes, moov.start + moov.headerBytes, moov.end, moov.path));
      return [...top, ...moovChildren].map((box) => ({ name: box.path, start: box.start, end: box.end }));
    }
    case 'png':
      return pngChunks(bytes);
    case 'jpeg':
      return jpegSegments(bytes);
    case 'matroska':
      return matroskaElements(bytes);
    default:
      return [];
  }
}

function truncations(seed: SeedMedia): Mutation[] {
  const { bytes } = seed;
  const points = new Map<number, string>();
  for (const span of boundarySpans(seed)) {
    if (!points.has(span.start)) points.set(span.start, `start-of-${span.name}`);
    if (!points.has(span.end)) points.set(span.end, `end-of-${span.name}`);
  }
  const mutations: Mutation[] = [...points]
    .filter(([at]) => at > 0 && at < bytes.length)
    .sort(([a], [b]) => a - b)
    .map(([at, label]) => ({
      detail: `truncate@${label}(${at})`,
      mutationClass: 'truncate-boundary',
      apply: () => cut(bytes, at),
    }));
  const inside: [string, number][] = [];
  for (const share of [0.1, 0.3, 0.45, 0.7, 0.9])
    inside.push([`${share * 100}%`, Math.floor(bytes.length * share)]);
  if (seed.format === 'iso-bmff') {
    for (const box of walkBoxes(bytes).filter((b) => b.type === 'moov' || b.type === 'mdat')) {
      for (const share of [0.3, 0.5, 0.7])
        inside.push([`${box.path}+${share * 100}%`, box.start + Math.floor((box.end - box.start) * share)]);
    }
  }
  if (seed.format === 'mpegts') inside.push(['mid-packet', 188 * Math.floor(bytes.length / 376) + 100]);
  if (seed.format === 'png') {
    const idat = pngChunks(bytes).find((chunk) => chunk.name.startsWith('IDAT'));
    if (idat) inside.push(['mid-IDAT', Math.floor((idat.start + idat.end) / 2)]);
  }
  for (const [label, at] of inside) {
    mutations.push({
      detail: `truncate-inside@${label}(${at})`,
      mutationClass: 'truncate-inside',
      apply: () => cut(bytes, at),
    });
  }
  return mutations;
}

// ---- ISO-BMFF lies ----------------------------------------------------------------------------------

function sizeLieTargets(bytes: Buffer): Box[] {
  const all = walkAllBoxes(bytes);
  const deep = new Set(['stsd', 'stsz', 'stco', 'co64', 'stts', 'avcC', 'trun', 'moof', 'traf']);
  const top = walkBoxes(bytes);
  const moovChildren = all.filter((box) => /^moov\.[^.]+$/.test(box.path));
  const seen = new Set<string>();
  return [...top, ...moovChildren, ...all.filter((box) => deep.has(box.type))].filter((box) => {
    if (seen.has(box.path)) return false;
    seen.add(box.path);
    return true;
  });
}

function boxSizeLies(seed: SeedMedia): Mutation[] {
  const { bytes } = seed;
  if (seed.format !== 'iso-bmff') return [];
  const mutations: Mutation[] = [];
  for (const box of sizeLieTargets(bytes).slice(0, 24)) {
    const actual = box.end - box.start;
    const write32 = (label: string, value: number): Mutation => ({
      detail: `size-lie ${box.path} size=${label}`,
      mutationClass: 'box-size-lie',
      apply: () =>
        box.headerBytes === 8 ? patched(bytes, (copy) => copy.writeUInt32BE(value >>> 0, box.start)) : null,
    });
    mutations.push(
      write32('0', 0),
      write32('1(no-largesize)', 1),
      write32('7', 7),
      write32('2^32-1', 0xffffffff),
      write32('actual+1', actual + 1),
      write32('actual-1', actual - 1),
      {
        detail: `size-lie ${box.path} largesize=2^62`,
        mutationClass: 'box-size-lie',
        apply: () => {
          if (box.headerBytes !== 8) return null;
          const header = Buffer.alloc(16);
          header.writeUInt32BE(1, 0);
          bytes.copy(header, 4, box.start + 4, box.start + 8);
          header.writeBigUInt64BE(2n ** 62n, 8);
          return spliceInBoxes(bytes, box.start, box.start + 8, header);
        },
      },
    );
  }
  return mutations;
}

function fullBoxVersion(bytes: Buffer, box: Box): number {
  return bytes[box.start + box.headerBytes] as number;
}

/** Field writers for every box of a type; null when the seed has none. */
function patchEach(
  bytes: Buffer,
  type: string,
  edit: (copy: Buffer, box: Box, payload: number, version: number) => void,
) {
  const boxes = findBoxes(bytes, type);
  if (boxes.length === 0) return null;
  return patched(bytes, (copy) => {
    for (const box of boxes) edit(copy, box, box.start + box.headerBytes, fullBoxVersion(bytes, box));
  });
}

function isoIndexLies(seed: SeedMedia): Mutation[] {
  const { bytes } = seed;
  if (seed.format !== 'iso-bmff') return [];
  const lie = (detail: string, apply: () => Buffer | null): Mutation => ({
    detail,
    mutationClass: 'index-lie',
    apply,
  });
  return [
    lie('stco offsets past end of file', () =>
      patchEach(bytes, 'stco', (copy, _box, p) => {
        const count = copy.readUInt32BE(p + 4);
        for (let i = 0; i < count; i++) copy.writeUInt32BE(0xfffffff0 - i, p + 8 + 4 * i);
      }),
    ),
    lie('stco offsets all zero', () =>
      patchEach(bytes, 'stco', (copy, _box, p) => {
        const count = copy.readUInt32BE(p + 4);
        for (let i = 0; i < count; i++) copy.writeUInt32BE(0, p + 8 + 4 * i);
      }),
    ),
    lie('stsz sample sizes 2^31-1', () =>
      patchEach(bytes, 'stsz', (copy, box, p) => {
        const count = copy.readUInt32BE(p + 8);
        if (copy.readUInt32BE(p + 4) !== 0) copy.writeUInt32BE(0x7fffffff, p + 4);
        for (let i = 0; i < count && p + 12 + 4 * i + 4 <= box.end; i++)
          copy.writeUInt32BE(0x7fffffff, p + 12 + 4 * i);
      }),
    ),
    lie('stsz sample count 2^32-1', () =>
      patchEach(bytes, 'stsz', (copy, _box, p) => copy.writeUInt32BE(0xffffffff, p + 8)),
    ),
    lie('stts sample count 2^32-1', () =>
      patchEach(bytes, 'stts', (copy, _box, p) => {
        if (copy.readUInt32BE(p + 4) > 0) copy.writeUInt32BE(0xffffffff, p + 8);
      }),
    ),
    lie('stsc first chunk 0 and samples-per-chunk 2^32-1', () =>
      patchEach(bytes, 'stsc', (copy, _box, p) => {
        if (copy.readUInt32BE(p + 4) === 0) return;
        copy.writeUInt32BE(0, p + 8);
        copy.writeUInt32BE(0xffffffff, p + 12);
      }),
    ),
    lie('trun sample count 2^32-1', () =>
      patchEach(bytes, 'trun', (copy, _box, p) => copy.writeUInt32BE(0xffffffff, p + 4)),
    ),
    lie('mdat emptied (index intact)', () => {
      const mdats = walkBoxes(bytes).filter((box) => box.type === 'mdat');
      if (mdats.length === 0) return null;
      return patched(bytes, (copy) => {
        for (const mdat of mdats) copy.fill(0, mdat.start + mdat.headerBytes, mdat.end);
      });
    }),
    lie('mdat removed (index intact)', () => {
      const mdat = walkBoxes(bytes).find((box) => box.type === 'mdat');
      return mdat ? Buffer.concat([bytes.subarray(0, mdat.start), bytes.subarray(mdat.end)]) : null;
    }),
    lie('70% of mdat payload missing', () => {
      const mdat = walkBoxes(bytes).find((box) => box.type === 'mdat');
      if (!mdat) return null;
      const keep =
        mdat.start + mdat.headerBytes + Math.floor((mdat.end - mdat.start - mdat.headerBytes) * 0.3);
      return Buffer.concat([bytes.subarray(0, keep), bytes.subarray(mdat.end)]);
    }),
  ];
}

function isoDimensionLies(seed: SeedMedia): Mutation[] {
  const { bytes } = seed;
  if (seed.format !== 'iso-bmff') return [];
  const lie = (detail: string, apply: () => Buffer | null): Mutation => ({
    detail,
    mutationClass: 'dimension-lie',
    apply,
  });
  const tkhd = (w: number, h: number) =>
    patchEach(bytes, 'tkhd', (copy, _box, p, version) => {
      const at = p + (version === 1 ? 88 : 76);
      if (copy.readUInt32BE(at) === 0) return; // audio track
      copy.writeUInt32BE(w * 65536, at);
      copy.writeUInt32BE(h * 65536, at + 4);
    });
  const sampleEntry = (w: number, h: number) =>
    patchEach(bytes, 'avc1', (copy, _box, p) => {
      copy.writeUInt16BE(w, p + 24);
      copy.writeUInt16BE(h, p + 26);
    });
  const sps = (widthMbs: number, heightMbs: number) => () => {
    // Only where nothing after the avcC is addressed by absolute offset (moov after mdat, or fragments).
    const top = walkBoxes(bytes);
    const moov = top.find((box) => box.type === 'moov');
    const mdat = top.find((box) => box.type === 'mdat');
    const fragmented = top.some((box) => box.type === 'moof');
    if (!moov || (mdat && mdat.start > moov.start && !fragmented)) return null;
    const avcC = findBoxes(bytes, 'avcC')[0];
    if (!avcC) return null;
    const p = avcC.start + avcC.headerBytes;
    const length = bytes.readUInt16BE(p + 6);
    const rewritten = rewriteSpsFrameSize(bytes.subarray(p + 8, p + 8 + length), widthMbs, heightMbs);
    const lengthField = Buffer.alloc(2);
    lengthField.writeUInt16BE(rewritten.length);
    return spliceInBoxes(bytes, p + 6, p + 8 + length, Buffer.concat([lengthField, rewritten]));
  };
  return [
    lie('tkhd 65535x65535', () => tkhd(65535, 65535)),
    lie('tkhd 0x0', () => tkhd(0, 0)),
    lie('avc1 sample entry 65535x65535', () => sampleEntry(65535, 65535)),
    lie('avc1 sample entry 0x0', () => sampleEntry(0, 0)),
    lie('avcC SPS 65536x65528 (4096x4094 MBs)', sps(4096, 4094)),
    lie('avcC SPS 16384x16384 (1024x1024 MBs)', sps(1024, 1024)),
    // Within ffmpeg's own size check, so a decoder really allocates frames of this size.
    lie('avcC SPS 8192x8192 (512x512 MBs)', sps(512, 512)),
    lie('avcC SPS 16x16 (1x1 MB)', sps(1, 1)),
  ];
}

function isoDurationLies(seed: SeedMedia): Mutation[] {
  const { bytes } = seed;
  if (seed.format !== 'iso-bmff') return [];
  // mvhd and mdhd share the layout of timescale and duration; tkhd has no timescale.
  const timed = (type: string, timescale: number | null, duration: number | 'max') =>
    patchEach(bytes, type, (copy, _box, p, version) => {
      const timescaleAt = p + (version === 1 ? 20 : 12);
      if (timescale !== null) copy.writeUInt32BE(timescale, timescaleAt);
      if (version === 1)
        copy.writeBigUInt64BE(duration === 'max' ? 2n ** 62n : BigInt(duration), timescaleAt + 4);
      else copy.writeUInt32BE(duration === 'max' ? 0xffffffff : duration, timescaleAt + 4);
    });
  const tkhd = (duration: number) =>
    patchEach(bytes, 'tkhd', (copy, _box, p, version) => {
      if (version === 1) copy.writeBigUInt64BE(BigInt(duration), p + 28);
      else copy.writeUInt32BE(duration, p + 20);
    });
  const lie = (detail: string, apply: () => Buffer | null): Mutation => ({
    detail,
    mutationClass: 'duration-lie',
    apply,
  });
  return [
    lie('mvhd duration max', () => timed('mvhd', null, 'max')),
    lie('mvhd duration 0', () => timed('mvhd', null, 0)),
    lie('mdhd duration max', () => timed('mdhd', null, 'max')),
    lie('mdhd duration 0', () => timed('mdhd', null, 0)),
    lie('mdhd timescale 0', () => timed('mdhd', 0, 1000)),
    lie('mdhd timescale 1, duration max', () => timed('mdhd', 1, 'max')),
    lie('mvhd timescale 0', () => timed('mvhd', 0, 1000)),
    lie('tkhd duration 2^32-1', () => tkhd(0xffffffff)),
    lie('stts sample delta 2^31', () =>
      patchEach(bytes, 'stts', (copy, _box, p) => {
        if (copy.readUInt32BE(p + 4) > 0) copy.writeUInt32BE(0x80000000, p + 12);
      }),
    ),
    lie('elst segment duration max, media time -2', () =>
      patchEach(bytes, 'elst', (copy, _box, p, version) => {
        if (copy.readUInt32BE(p + 4) === 0) return;
        if (version === 1) {
          copy.writeBigUInt64BE(2n ** 62n, p + 8);
          copy.writeBigInt64BE(-2n, p + 16);
        } else {
          copy.writeUInt32BE(0xffffffff, p + 8);
          copy.writeInt32BE(-2, p + 12);
        }
      }),
    ),
  ];
}

// ---- image lies ------------------------------------------------------------------------------------

function pngHeaderLie(bytes: Buffer, width: number, height: number): Buffer | null {
  const ihdr = pngChunks(bytes).find((chunk) => chunk.name.startsWith('IHDR'));
  if (!ihdr) return null;
  return patched(bytes, (copy) => {
    copy.writeUInt32BE(width, ihdr.start + 8);
    copy.writeUInt32BE(height, ihdr.start + 12);
    // A correct CRC, so the decoder meets the lie rather than a checksum error.
    copy.writeUInt32BE(crc32(copy.subarray(ihdr.start + 4, ihdr.end - 4)), ihdr.end - 4);
  });
}

function imageLies(seed: SeedMedia): Mutation[] {
  const { bytes } = seed;
  const lie = (detail: string, apply: () => Buffer | null): Mutation => ({
    detail,
    mutationClass: 'dimension-lie',
    apply,
  });
  if (seed.format === 'png') {
    return [
      lie('IHDR 65535x65535', () => pngHeaderLie(bytes, 65535, 65535)),
      lie('IHDR 12000x12000', () => pngHeaderLie(bytes, 12000, 12000)),
      lie('IHDR 0x0', () => pngHeaderLie(bytes, 0, 0)),
      lie('IHDR 2^31-1 x 1', () => pngHeaderLie(bytes, 0x7fffffff, 1)),
      lie('IHDR 1 x 2^31-1', () => pngHeaderLie(bytes, 1, 0x7fffffff)),
      lie('IHDR 65535x65535, CRC left stale', () =>
        patched(bytes, (copy) => {
          const ihdr = pngChunks(bytes).find((chunk) => chunk.name.startsWith('IHDR'));
          if (!ihdr) return;
          copy.writeUInt32BE(65535, ihdr.start + 8);
          copy.writeUInt32BE(65535, ihdr.start + 12);
        }),
      ),
    ];
  }
  if (seed.format === 'jpeg') {
    const sof = (width: number, height: number) => {
      const frame = jpegFrameHeader(bytes);
      return frame
        ? patched(bytes, (copy) => {
            copy.writeUInt16BE(height, frame.start + 5);
            copy.writeUInt16BE(width, frame.start + 7);
          })
        : null;
    };
    return [
      lie('SOF 65535x65535', () => sof(65535, 65535)),
      lie('SOF 12000x12000', () => sof(12000, 12000)),
      lie('SOF 0x0', () => sof(0, 0)),
      lie('SOF 65535x0 (height from DNL)', () => sof(65535, 0)),
      lie('SOF 1x1', () => sof(1, 1)),
    ];
  }
  if (seed.format === 'gif') {
    const screen = (width: number, height: number) =>
      patched(bytes, (copy) => {
        copy.writeUInt16LE(width, 6);
        copy.writeUInt16LE(height, 8);
        // First image descriptor: 0x2C after the header, colour table and any extensions; found by scan.
        const descriptor = copy.indexOf(0x2c, 13 + (copy[10]! & 0x80 ? 3 * 2 ** ((copy[10]! & 7) + 1) : 0));
        if (descriptor > 0 && descriptor + 9 < copy.length) {
          copy.writeUInt16LE(width, descriptor + 5);
          copy.writeUInt16LE(height, descriptor + 7);
        }
      });
    return [
      lie('GIF screen and frame 65535x65535', () => screen(65535, 65535)),
      lie('GIF 0x0', () => screen(0, 0)),
    ];
  }
  return [];
}

// ---- polyglots ------------------------------------------------------------------------------------

function polyglots(seed: SeedMedia): Mutation[] {
  const { bytes } = seed;
  const glue = (detail: string, apply: () => Buffer | null): Mutation => ({
    detail,
    mutationClass: 'polyglot',
    apply,
  });
  const mutations = [
    glue('html head prepended', () => Buffer.concat([htmlHead, bytes])),
    glue('html appended', () => Buffer.concat([bytes, htmlHead, Buffer.from('</body></html>\n')])),
    glue('pdf prepended', () => Buffer.concat([pdfDocument, bytes])),
    glue('pdf appended', () => Buffer.concat([bytes, pdfDocument])),
    glue('zip appended (media first)', () => Buffer.concat([bytes, zipWith('index.html', htmlHead)])),
    glue('media inside a zip', () => zipWith(`clip.${seed.extension}`, bytes)),
    glue('svg appended', () => Buffer.concat([bytes, svgImage])),
    glue('html after 1 KiB of media', () =>
      Buffer.concat([bytes.subarray(0, 1024), htmlHead, bytes.subarray(1024)]),
    ),
  ];
  if (seed.format === 'iso-bmff') {
    mutations.push(
      glue('html in a free box after ftyp', () => {
        const ftyp = walkBoxes(bytes)[0];
        if (!ftyp || ftyp.type !== 'ftyp') return null;
        const free = Buffer.concat([Buffer.alloc(8), htmlHead]);
        free.writeUInt32BE(free.length, 0);
        free.write('free', 4, 'latin1');
        const out = Buffer.concat([bytes.subarray(0, ftyp.end), free, bytes.subarray(ftyp.end)]);
        // Chunk offsets are absolute: move them with the bytes, so the file stays valid media.
        return (
          patchEach(out, 'stco', (copy, _box, p) => {
            const count = copy.readUInt32BE(p + 4);
            for (let i = 0; i < count; i++)
              copy.writeUInt32BE(copy.readUInt32BE(p + 8 + 4 * i) + free.length, p + 8 + 4 * i);
          }) ?? out
        );
      }),
    );
  }
  return mutations;
}

// ---- bit flips ------------------------------------------------------------------------------------

export const flipRatios = [1e-5, 1e-4, 1e-3, 1e-2] as const;
export type FlipRegion = 'header' | 'index' | 'media' | 'tail';

/** Byte ranges of each region for this seed; regions a format lacks are absent. */
export function regionsOf(seed: SeedMedia): Partial<Record<FlipRegion, [number, number]>> {
  const { bytes } = seed;
  const length = bytes.length;
  const tail: [number, number] = [Math.floor(length * 0.9), length];
  if (seed.format === 'iso-bmff') {
    const top = walkBoxes(bytes);
    const moov = top.find((box) => box.type === 'moov');
    const mdat = top.find((box) => box.type === 'mdat');
    const firstData = top.find((box) => box.type === 'mdat' || box.type === 'moof' || box.type === 'moov');
    return {
      header: [0, firstData?.start ?? Math.min(64, length)],
      ...(moov ? { index: [moov.start, moov.end] as [number, number] } : {}),
      ...(mdat ? { media: [mdat.start + mdat.headerBytes, mdat.end] as [number, number] } : {}),
      tail,
    };
  }
  if (seed.format === 'png') {
    const chunks = pngChunks(bytes);
    const idat = chunks.filter((chunk) => chunk.name.startsWith('IDAT'));
    const firstIdat = idat[0];
    return {
      header: [0, firstIdat?.start ?? 33],
      ...(firstIdat ? { media: [firstIdat.start, idat.at(-1)!.end] as [number, number] } : {}),
      tail,
    };
  }
  if (seed.format === 'jpeg') {
    const scan = jpegSegments(bytes).find((segment) => segment.name.startsWith('scan'));
    return {
      header: [0, scan?.start ?? 200],
      ...(scan ? { media: [scan.start, scan.end] as [number, number] } : {}),
      tail,
    };
  }
  if (seed.format === 'matroska') {
    const elements = matroskaElements(bytes);
    const firstCluster = elements.find((element) => element.name.includes('Cluster'));
    const cues = elements.find((element) => element.name.includes('Cues'));
    return {
      header: [0, firstCluster?.start ?? 1024],
      ...(cues ? { index: [cues.start, cues.end] as [number, number] } : {}),
      media: [firstCluster?.start ?? 1024, cues?.start ?? tail[0]],
      tail,
    };
  }
  return { header: [0, Math.min(4 * 188, length)], media: [4 * 188, tail[0]], tail };
}

function flipBits(
  bytes: Buffer,
  range: [number, number],
  ratio: number,
  prng: Prng,
): { out: Buffer; flips: number } {
  const [start, end] = range;
  const flips = Math.max(1, Math.round((end - start) * 8 * ratio));
  const out = Buffer.from(bytes);
  for (let i = 0; i < flips; i++) {
    const at = start + prng.below(end - start);
    out[at] = (out[at] as number) ^ (1 << prng.below(8));
  }
  return { out, flips };
}

// ---- the corpus -----------------------------------------------------------------------------------

function structuralMutations(seed: SeedMedia): Mutation[] {
  return [
    ...truncations(seed),
    ...boxSizeLies(seed),
    ...isoIndexLies(seed),
    ...isoDimensionLies(seed),
    ...isoDurationLies(seed),
    ...imageLies(seed),
    ...polyglots(seed),
  ];
}

function* interleave<T>(groups: T[][]): Generator<T> {
  const cursors = groups.map(() => 0);
  for (let round = 0; ; round++) {
    let yielded = false;
    for (const [index, group] of groups.entries()) {
      const item = group[cursors[index]!];
      if (item === undefined) continue;
      cursors[index]! += 1;
      yielded = true;
      yield item;
    }
    if (!yielded) return;
  }
}

function shuffle<T>(items: T[], prng: Prng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.below(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The corpus for a run: each seed unchanged, then the structural mutations of every (class, seed) group in
 * turn (so a short run still touches every class), then seeded random bit flips, truncations and polyglots.
 */
export function* fuzzCases(seeds: SeedMedia[], runSeed: number): Generator<FuzzCase> {
  for (const seed of seeds) {
    yield {
      name: `${seed.name}/unchanged`,
      mutationClass: 'seed',
      seed: seed.name,
      extension: seed.extension,
      bytes: seed.bytes,
    };
  }
  const groups = new Map<string, { seed: SeedMedia; mutation: Mutation }[]>();
  for (const seed of seeds) {
    for (const mutation of structuralMutations(seed)) {
      const key = `${mutation.mutationClass}/${seed.name}`;
      groups.set(key, [...(groups.get(key) ?? []), { seed, mutation }]);
    }
  }
  const order = mulberry32(deriveSeed(runSeed, 'structural-order'));
  const ordered = [...groups.keys()].sort().map((key) => shuffle(groups.get(key)!, order));
  let structural = 0;
  const randomStream = randomCases(seeds, runSeed);
  for (const { seed, mutation } of interleave(ordered)) {
    const bytes = mutation.apply();
    if (bytes && bytes.length > 0) {
      yield {
        name: `${seed.name}/${mutation.detail}`,
        mutationClass: mutation.mutationClass,
        seed: seed.name,
        extension: seed.extension,
        bytes,
      };
    }
    // One random case after every three structural ones keeps bit flips in even the shortest run.
    if (++structural % 3 === 0) yield randomStream.next().value as FuzzCase;
  }
  yield* randomStream;
}

function* randomCases(seeds: SeedMedia[], runSeed: number): Generator<FuzzCase> {
  for (let index = 0; ; index++) {
    const caseSeed = deriveSeed(runSeed, `random-${index}`);
    const prng = mulberry32(caseSeed);
    const seed = prng.pick(seeds);
    const tag = `seed=${runSeed}#r${index}`;
    const kind = prng.below(10);
    if (kind < 7) {
      const regions = Object.entries(regionsOf(seed)).filter(([, range]) => range[1] > range[0]) as [
        FlipRegion,
        [number, number],
      ][];
      const [region, range] = prng.pick(regions);
      const ratio = prng.pick(flipRatios);
      const { out, flips } = flipBits(seed.bytes, range, ratio, prng);
      yield {
        name: `${tag} ${seed.name}/bitflip ratio=${ratio} region=${region} flips=${flips}`,
        mutationClass: 'bitflip',
        seed: seed.name,
        extension: seed.extension,
        bytes: out,
      };
    } else if (kind < 9) {
      const at = 1 + prng.below(seed.bytes.length - 1);
      const { out, flips } = flipBits(seed.bytes, [0, seed.bytes.length], 1e-4, prng);
      yield {
        name: `${tag} ${seed.name}/truncate-inside@${at} then bitflip flips=${flips}`,
        mutationClass: 'truncate-inside',
        seed: seed.name,
        extension: seed.extension,
        bytes: cut(out, at),
      };
    } else {
      const mutation = prng.pick(polyglots(seed));
      const bytes = mutation.apply();
      if (!bytes) continue;
      const { out, flips } = flipBits(bytes, [0, bytes.length], 1e-5, prng);
      yield {
        name: `${tag} ${seed.name}/${mutation.detail} then bitflip flips=${flips}`,
        mutationClass: 'polyglot',
        seed: seed.name,
        extension: seed.extension,
        bytes: out,
      };
    }
  }
}
