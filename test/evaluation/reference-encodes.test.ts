import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import {
  opencvSampleDir,
  writeSamplePhotos,
  writeSampleVideos,
} from '../../src/evaluation/reference-encodes.js';
import {
  createMediaTempDir,
  generateClip,
  generateStill,
  type MediaTempDir,
} from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
const sampleDir = () => join(temp.dir, 'root', opencvSampleDir);
const out = (name: string) => join(temp.dir, name);

beforeAll(async () => {
  temp = await createMediaTempDir('guardian-reference-encodes-');
  await mkdir(sampleDir(), { recursive: true });
  await Promise.all(['photos', 'videos'].map((name) => mkdir(out(name))));
  // Stand-ins under the names the reference looks for; the rest of its list is absent.
  await generateStill(sampleDir(), { format: 'jpeg', size: '200x150', name: 'baboon' });
  await generateClip(sampleDir(), { name: 'tree', container: 'avi', codec: 'mpeg4', seconds: 1 });
}, 60_000);
afterAll(() => temp.remove());

describe('reference encodes of the sample files', () => {
  it('re-encodes the installed sample video once with x264 and halves and saves the installed photo once', async () => {
    const tools = await createFfmpegMediaTools();
    const encodeTools = {
      ffmpeg: tools.binaries.ffmpeg.path,
      ffprobe: tools.binaries.ffprobe.path,
      signal: new AbortController().signal,
    };
    const root = join(temp.dir, 'root');
    expect(await writeSampleVideos(out('videos'), encodeTools, root)).toEqual(['tree.avi']);
    expect(await writeSamplePhotos(out('photos'), encodeTools, root)).toEqual(['baboon.jpg']);

    const [video] = await readdir(out('videos'));
    const videoProbe = await tools.probe(join(out('videos'), video ?? ''));
    expect(videoProbe.streams.find((stream) => stream.type === 'video')?.codecName).toBe('h264');
    expect(await readdir(out('photos'))).toEqual(['baboon-half-jpeg-q90.jpg']);
    const photoProbe = await tools.probe(join(out('photos'), 'baboon-half-jpeg-q90.jpg'));
    const picture = photoProbe.streams.find((stream) => stream.type === 'video');
    expect([picture?.width, picture?.height]).toEqual([100, 76]);
  });
});
