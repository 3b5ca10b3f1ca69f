import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardDct } from '../../src/media/jpeg/block-dct.js';
import { ijgTable, standardLuminanceTable } from '../../src/media/jpeg/ijg-tables.js';
import {
  decodeComponentCoefficients,
  UnsupportedJpegError,
  type ComponentCoefficients,
} from '../../src/media/jpeg/jpeg-coefficients.js';
import { decodePlane } from '../../src/media/jpeg/jpeg-pixels.js';
import { JpegFormatError, readJpegStructure } from '../../src/media/jpeg/jpeg-structure.js';
import { encodeJpeg, type RasterImage } from '../helpers/jpeg-encoder.js';
import { createMediaTempDir, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';
import { baselineJpegBase64, progressiveJpegBase64 } from '../helpers/progressive-jpeg-fixture.js';

const execFileAsync = promisify(execFile);
let temp: MediaTempDir;

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-jpeg-');
});
afterAll(() => temp.remove());

/** A deterministic textured raster (gradients plus seeded noise). */
function raster(width: number, height: number, channels: 1 | 3, seed = 7): RasterImage {
  let state = seed;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pixels = new Uint8Array(width * height * channels);
  for (let index = 0; index < width * height; index += 1) {
    const x = index % width;
    const y = (index - x) / width;
    for (let channel = 0; channel < channels; channel += 1)
      pixels[index * channels + channel] = Math.round(
        Math.min(
          255,
          Math.max(
            0,
            128 + 60 * Math.sin((x + 7 * channel) / 9) + 40 * Math.cos(y / 13) + 30 * (random() - 0.5),
          ),
        ),
      );
  }
  return { width, height, channels, pixels };
}

/** FFmpeg's own decode of the picture's luminance, as 8-bit grey. */
async function ffmpegLuma(path: string): Promise<Buffer> {
  const { stdout } = await execFileAsync(
    'ffmpeg',
    ['-nostdin', '-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
    {
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

function lumaOf(bytes: Buffer): {
  plane: Uint8Array;
  coefficients: ComponentCoefficients;
  width: number;
  height: number;
} {
  const structure = readJpegStructure(bytes);
  const frame = structure.frame;
  if (!frame) throw new Error('no frame');
  const coefficients = decodeComponentCoefficients(bytes, structure, 0);
  const table = structure.quantTables.get(frame.components[0]?.quantTableId ?? 0)?.values as Uint16Array;
  return { plane: decodePlane(coefficients, table), coefficients, width: frame.width, height: frame.height };
}

async function largestDifferenceFromFfmpeg(name: string, bytes: Buffer): Promise<number> {
  const path = join(temp.dir, name);
  await writeFile(path, bytes);
  const reference = await ffmpegLuma(path);
  const { plane, coefficients, width, height } = lumaOf(bytes);
  let largest = 0;
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1)
      largest = Math.max(
        largest,
        Math.abs(
          (plane[y * coefficients.blocksWide * 8 + x] as number) - (reference[y * width + x] as number),
        ),
      );
  return largest;
}

describe('JPEG decoding to quantised coefficients', () => {
  it('matches FFmpeg on colour 4:2:0 with restart intervals, on grey, and on odd sizes (±1 from IDCT rounding)', async () => {
    const colour = encodeJpeg(raster(203, 157, 3), { quality: 85, restartInterval: 3 });
    const grey = encodeJpeg(raster(64, 40, 1), { quality: 50, restartInterval: 5 });
    expect(await largestDifferenceFromFfmpeg('colour.jpg', colour)).toBeLessThanOrEqual(1);
    expect(await largestDifferenceFromFfmpeg('grey.jpg', grey)).toBeLessThanOrEqual(1);
  });

  it('decodes what FFmpeg encodes (its own tables, optimised Huffman codes)', async () => {
    const path = join(temp.dir, 'ffmpeg.jpg');
    await runFfmpeg([
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=96x72:rate=1',
      '-frames:v',
      '1',
      '-pix_fmt',
      'yuvj420p',
      '-q:v',
      '4',
      path,
    ]);
    const { readFile } = await import('node:fs/promises');
    expect(await largestDifferenceFromFfmpeg('ffmpeg-copy.jpg', await readFile(path))).toBeLessThanOrEqual(1);
  });

  it('recovers exactly the coefficients the encoder quantised', () => {
    const image = raster(16, 8, 1, 3);
    const table = ijgTable(standardLuminanceTable, 60);
    const { coefficients } = lumaOf(encodeJpeg(image, { tables: { luma: table } }));
    const samples = new Float64Array(64);
    const expected = new Float64Array(64);
    for (let y = 0; y < 8; y += 1)
      for (let x = 0; x < 8; x += 1) samples[y * 8 + x] = (image.pixels[y * 16 + 8 + x] as number) - 128;
    forwardDct(samples, expected);
    const secondBlock = Array.from(coefficients.data.subarray(64, 128));
    expect(secondBlock).toEqual(
      Array.from(expected, (value, index) => Math.round(value / (table[index] as number)) + 0),
    );
  });

  it('decodes a progressive JPEG (successive approximation, restarts) to the same coefficients as its baseline', () => {
    const baseline = Buffer.from(baselineJpegBase64, 'base64');
    const progressive = Buffer.from(progressiveJpegBase64, 'base64');
    const structure = readJpegStructure(progressive);
    expect(structure.frame?.coding).toBe('progressive');
    expect(structure.scans.length).toBeGreaterThan(3);
    for (const component of [0, 1, 2]) {
      const expected = decodeComponentCoefficients(baseline, readJpegStructure(baseline), component);
      const actual = decodeComponentCoefficients(progressive, structure, component);
      expect(actual.truncatedScans).toBe(0);
      expect(Array.from(actual.data)).toEqual(Array.from(expected.data));
    }
  });

  it('reports a cut scan, refuses arithmetic coding, and throws a format error on garbage instead of crashing', () => {
    const whole = encodeJpeg(raster(64, 64, 1), { quality: 90 });
    const cut = Buffer.concat([whole.subarray(0, Math.floor(whole.length * 0.6)), Buffer.from([0xff, 0xd9])]);
    const structure = readJpegStructure(cut);
    expect(decodeComponentCoefficients(cut, structure, 0).truncatedScans).toBe(1);

    const arithmetic = Buffer.from(whole);
    arithmetic[arithmetic.indexOf(Buffer.from([0xff, 0xc0])) + 1] = 0xc9;
    expect(() => decodeComponentCoefficients(arithmetic, readJpegStructure(arithmetic), 0)).toThrow(
      UnsupportedJpegError,
    );

    expect(() => readJpegStructure(Buffer.from('not a jpeg at all'))).toThrow(JpegFormatError);
    const scrambled = Buffer.from(whole);
    const dataStart = readJpegStructure(whole).scans[0]?.dataStart as number;
    for (let index = dataStart; index < scrambled.length - 2; index += 1)
      scrambled[index] = (index * 73) & 0xfe; // never 0xFF: no markers, just nonsense codes
    expect(() => {
      try {
        decodeComponentCoefficients(scrambled, readJpegStructure(scrambled), 0);
      } catch (error) {
        if (error instanceof JpegFormatError) return;
        throw error;
      }
    }).not.toThrow();
  });
});
