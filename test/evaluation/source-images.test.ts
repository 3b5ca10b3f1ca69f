import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDebianSources, loadSourceDir } from '../../src/evaluation/source-images.js';
import { createMediaTempDir, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
const tools = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', signal: new AbortController().signal };

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-sources-');
  await runFfmpeg([
    '-f',
    'lavfi',
    '-i',
    'testsrc2=s=200x160',
    '-frames:v',
    '1',
    join(temp.dir, 'portrait.png'),
  ]);
});
afterAll(() => temp.remove());

describe('source images', () => {
  it('takes face boxes from faces.json and leaves out images without one', async () => {
    const dir = join(temp.dir, 'listed');
    await mkdir(dir);
    await copyFile(join(temp.dir, 'portrait.png'), join(dir, 'portrait.png'));
    await copyFile(join(temp.dir, 'portrait.png'), join(dir, 'unlisted.png'));
    await writeFile(join(dir, 'faces.json'), JSON.stringify({ 'portrait.png': [40, 30, 90, 100] }));
    const sources = await loadSourceDir(dir, tools);
    expect(
      sources.map((source) => [source.name, source.face, source.image.width, source.image.data.length]),
    ).toEqual([['portrait.png', { x: 40, y: 30, width: 90, height: 100 }, 200, 200 * 160 * 3]]);
  });

  it('refuses a face box outside the image and a malformed faces.json', async () => {
    const dir = join(temp.dir, 'bad');
    await mkdir(dir);
    await copyFile(join(temp.dir, 'portrait.png'), join(dir, 'portrait.png'));
    await writeFile(join(dir, 'faces.json'), JSON.stringify({ 'portrait.png': [150, 30, 90, 100] }));
    await expect(loadSourceDir(dir, tools)).rejects.toThrow(/does not fit the 200×160 image/);
    await writeFile(join(dir, 'faces.json'), JSON.stringify({ 'portrait.png': [1, 2, 3] }));
    await expect(loadSourceDir(dir, tools)).rejects.toThrow(/must be \[x, y, width, height\]/);
  });

  it('names the Debian packages when none of their images is installed', async () => {
    await expect(loadDebianSources(tools, join(temp.dir, 'empty-root'))).rejects.toThrow(
      /install the Debian packages python3-skimage opencv-doc/,
    );
  });
});
