import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFfmpegBinaries } from '../../src/media/ffmpeg-binaries.js';
import { createMediaTempDir, type MediaTempDir } from '../helpers/media-fixtures.js';
import { pngChunks } from './containers.js';
import { walkAllBoxes, walkBoxes } from './iso-bmff.js';
import { fuzzCases, type FuzzCase, type MutationClass } from './mutations.js';
import { generateSeedMedia, type SeedMedia } from './seed-media.js';

const take = (count: number, seeds: SeedMedia[], runSeed: number): FuzzCase[] => {
  const cases: FuzzCase[] = [];
  for (const fuzzCase of fuzzCases(seeds, runSeed)) {
    cases.push(fuzzCase);
    if (cases.length >= count) break;
  }
  return cases;
};
const digest = (cases: FuzzCase[]) =>
  cases.map((c) => `${c.name} ${createHash('sha256').update(c.bytes).digest('hex')}`);

describe('fuzz mutation generator', () => {
  let temp: MediaTempDir;
  let seeds: SeedMedia[];
  let corpus: FuzzCase[];
  const seedNamed = (name: string) => seeds.find((seed) => seed.name === name)!;
  const caseNamed = (name: string) => {
    const found = corpus.find((c) => c.name === name);
    if (!found) throw new Error(`no case ${name}`);
    return found;
  };

  beforeAll(async () => {
    temp = await createMediaTempDir('guardian-fuzz-generator-');
    seeds = await generateSeedMedia(temp.dir);
    corpus = take(3000, seeds, 99);
  });
  afterAll(() => temp.remove());

  it('is deterministic for a seed, and the random cases change with the seed', () => {
    expect(digest(take(200, seeds, 99))).toEqual(digest(corpus.slice(0, 200)));
    const other = digest(take(200, seeds, 100)).filter((line) => line.startsWith('seed='));
    const same = digest(corpus.slice(0, 200)).filter((line) => line.startsWith('seed='));
    expect(other.length).toBeGreaterThan(10);
    expect(other).not.toEqual(same);
    expect(new Set(corpus.map((c) => c.name)).size).toBe(corpus.length);
  });

  it('puts every mutation class, and every seed, in the first 300 cases', () => {
    const first = corpus.slice(0, 300);
    const classes: MutationClass[] = [
      'truncate-boundary',
      'truncate-inside',
      'box-size-lie',
      'index-lie',
      'dimension-lie',
      'duration-lie',
      'bitflip',
      'polyglot',
      'seed',
    ];
    expect(new Set(first.map((c) => c.mutationClass))).toEqual(new Set(classes));
    expect(new Set(first.map((c) => c.seed))).toEqual(new Set(seeds.map((seed) => seed.name)));
  });

  it('cuts at every top-level and every moov-child box boundary', () => {
    const mp4 = seedNamed('mp4-h264-aac').bytes;
    const top = walkBoxes(mp4);
    expect(top.map((box) => box.type)).toEqual(expect.arrayContaining(['ftyp', 'mdat', 'moov']));
    const moov = top.find((box) => box.type === 'moov')!;
    const children = walkBoxes(mp4, moov.start + 8, moov.end, 'moov');
    expect(children.map((box) => box.type)).toEqual(expect.arrayContaining(['mvhd', 'trak']));
    const cutLengths = new Set(
      corpus
        .filter((c) => c.seed === 'mp4-h264-aac' && c.mutationClass === 'truncate-boundary')
        .map((c) => c.bytes.length),
    );
    for (const box of [...top, ...children]) {
      for (const at of [box.start, box.end]) if (at > 0 && at < mp4.length) expect(cutLengths).toContain(at);
    }
  });

  it('writes the box sizes it names', () => {
    const mp4 = seedNamed('mp4-h264-aac').bytes;
    const moov = walkBoxes(mp4).find((box) => box.type === 'moov')!;
    const huge = caseNamed('mp4-h264-aac/size-lie moov size=2^32-1').bytes;
    expect(huge.readUInt32BE(moov.start)).toBe(0xffffffff);
    const zero = caseNamed('mp4-h264-aac/size-lie moov size=0').bytes;
    expect(zero.readUInt32BE(moov.start)).toBe(0);
    const large = caseNamed('mp4-h264-aac/size-lie moov largesize=2^62').bytes;
    expect(large.readUInt32BE(moov.start)).toBe(1);
    expect(large.toString('latin1', moov.start + 4, moov.start + 8)).toBe('moov');
    expect(large.readBigUInt64BE(moov.start + 8)).toBe(2n ** 62n);
    // Only the named box lies: the walker still finds the boxes inside it at their place.
    expect(walkAllBoxes(large).filter((box) => box.path.startsWith('moov.')).length).toBe(
      walkAllBoxes(mp4).filter((box) => box.path.startsWith('moov.')).length,
    );
  });

  it('rewrites the SPS frame size so that ffprobe reads the lie', async () => {
    const { ffprobe } = await resolveFfmpegBinaries({ searchPath: process.env.PATH ?? '' });
    const path = join(temp.dir, 'sps-lie.mp4');
    await writeFile(path, caseNamed('mp4-h264-aac/avcC SPS 16x16 (1x1 MB)').bytes);
    const { stdout } = await promisify(execFile)(ffprobe.path, [
      ...[
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=coded_width',
        '-of',
        'csv=p=0',
        path,
      ],
    ]);
    expect(stdout.trim()).toBe('16');
  });

  it('lies about PNG dimensions under a valid CRC', () => {
    const png = caseNamed('png/IHDR 65535x65535').bytes;
    const ihdr = pngChunks(png)[0]!;
    expect(png.readUInt32BE(ihdr.start + 8)).toBe(65535);
    expect(png.readUInt32BE(ihdr.end - 4)).toBe(crc32(png.subarray(ihdr.start + 4, ihdr.end - 4)));
  });

  it('flips about ratio × bits of the named region', () => {
    const flips = corpus.filter((c) => c.mutationClass === 'bitflip');
    expect(new Set(flips.map((c) => /ratio=([\d.e-]+)/.exec(c.name)?.[1])).size).toBe(4);
    expect(new Set(flips.map((c) => /region=(\w+)/.exec(c.name)?.[1]))).toEqual(
      new Set(['header', 'index', 'media', 'tail']),
    );
    for (const fuzzCase of flips.slice(0, 50)) {
      const original = seedNamed(fuzzCase.seed).bytes;
      let differing = 0;
      for (let i = 0; i < original.length; i++) if (original[i] !== fuzzCase.bytes[i]) differing++;
      const claimed = Number(/flips=(\d+)/.exec(fuzzCase.name)?.[1]);
      expect(differing).toBeGreaterThan(0);
      expect(differing).toBeLessThanOrEqual(claimed);
    }
  });
});
