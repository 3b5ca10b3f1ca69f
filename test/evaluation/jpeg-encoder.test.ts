import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJpeg, scaleTable } from '../../src/evaluation/jpeg-encoder.js';
import { createImage, type RgbImage } from '../../src/evaluation/rgb-image.js';
import { seededRandom } from '../../src/evaluation/seeded-random.js';
import { createMediaTempDir, type MediaTempDir } from '../helpers/media-fixtures.js';

const execFileAsync = promisify(execFile);
let temp: MediaTempDir;
beforeAll(async () => {
  temp = await createMediaTempDir('guardian-jpeg-');
});
afterAll(() => temp.remove());

/** Smooth colour ramps with a little noise, at a size that is not a multiple of 16. */
function testImage(width: number, height: number): RgbImage {
  const image = createImage(width, height);
  const random = seededRandom(9);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      image.data[at] = (255 * x) / width + random.gaussian() * 3;
      image.data[at + 1] = (255 * y) / height + random.gaussian() * 3;
      image.data[at + 2] = 128 + 60 * Math.sin(x / 5) + random.gaussian() * 3;
    }
  return image;
}

async function decode(bytes: Buffer, name: string): Promise<Buffer> {
  const path = join(temp.dir, name);
  await writeFile(path, bytes);
  const { stdout } = await execFileAsync(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 1 << 24 },
  );
  return stdout;
}

describe('encodeJpeg', () => {
  it('writes IJG-scaled quantisation tables in zig-zag order', () => {
    expect(scaleTable([16, 11, 10, 255], 90)).toEqual([3, 2, 2, 51]);
    expect(scaleTable([16, 11, 10, 255], 75)).toEqual([8, 6, 5, 128]);
    expect(scaleTable([16, 11], 100)).toEqual([1, 1]);
    const bytes = encodeJpeg(testImage(40, 24), 75);
    const dqt = bytes.indexOf(Buffer.from([0xff, 0xdb]));
    // Luminance table: natural positions 0, 1, 8, 16, 9, 2 hold 16, 11, 12, 14, 12, 10 at quality 50.
    expect([...bytes.subarray(dqt + 5, dqt + 11)]).toEqual([8, 6, 6, 7, 6, 5]);
  });

  it('decodes (with ffmpeg) to the picture it was given, closer at quality 90 than at 75', async () => {
    const image = testImage(37, 29);
    const errors: number[] = [];
    const sizes: number[] = [];
    for (const quality of [90, 75]) {
      const bytes = encodeJpeg(image, quality);
      sizes.push(bytes.length);
      const decoded = await decode(bytes, `q${quality}.jpg`);
      expect(decoded.length).toBe(37 * 29 * 3);
      let sum = 0;
      for (let i = 0; i < decoded.length; i++) sum += Math.abs(decoded[i]! - image.data[i]!);
      errors.push(sum / decoded.length);
    }
    expect(errors[0]).toBeLessThan(4.5);
    expect(errors[1]).toBeLessThan(6);
    expect(errors[0]).toBeLessThan(errors[1]!);
    expect(sizes[0]).toBeGreaterThan(sizes[1]!);
  });
});
