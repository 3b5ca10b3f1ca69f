import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../helpers/media-fixtures.js';

/** A file the mutations start from, made with ffmpeg at test time. */
export interface SeedMedia {
  name: string;
  format: 'iso-bmff' | 'matroska' | 'mpegts' | 'png' | 'jpeg' | 'gif';
  extension: string;
  bytes: Buffer;
}

const video = (seconds: number) => [
  ...['-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=15:duration=${seconds}`],
  ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`],
  ...['-pix_fmt', 'yuv420p', '-fflags', '+bitexact', '-flags', '+bitexact', '-map_metadata', '-1'],
];
const h264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '5', '-c:a', 'aac', '-b:a', '32k'];

const recipes: { name: string; format: SeedMedia['format']; extension: string; args: string[] }[] = [
  { name: 'mp4-h264-aac', format: 'iso-bmff', extension: 'mp4', args: [...video(1), ...h264] },
  {
    name: 'mp4-faststart',
    format: 'iso-bmff',
    extension: 'mp4',
    args: [...video(1), ...h264, '-movflags', '+faststart'],
  },
  {
    name: 'fmp4-h264',
    format: 'iso-bmff',
    extension: 'mp4',
    args: [...video(1), ...h264, '-movflags', 'frag_keyframe+empty_moov+default_base_moof'],
  },
  {
    name: 'webm-vp9',
    format: 'matroska',
    extension: 'webm',
    args: [
      ...video(1),
      ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '5'],
      ...['-c:a', 'libopus', '-b:a', '32k'],
    ],
  },
  { name: 'mkv-h264', format: 'matroska', extension: 'mkv', args: [...video(1), ...h264] },
  { name: 'ts-h264', format: 'mpegts', extension: 'ts', args: [...video(1), ...h264] },
  {
    name: 'png',
    format: 'png',
    extension: 'png',
    args: ['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=1', '-frames:v', '1', '-fflags', '+bitexact'],
  },
  {
    name: 'jpeg',
    format: 'jpeg',
    extension: 'jpg',
    args: [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=1', '-frames:v', '1', '-pix_fmt', 'yuvj420p'],
      ...['-flags', '+bitexact', '-fflags', '+bitexact'],
    ],
  },
  {
    name: 'gif',
    format: 'gif',
    extension: 'gif',
    args: ['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=5:duration=1', '-fflags', '+bitexact'],
  },
];

/** Encodes every seed into dir (a second each, 160x120 at most: the fuzz run multiplies them). */
export async function generateSeedMedia(dir: string): Promise<SeedMedia[]> {
  await mkdir(dir, { recursive: true });
  const seeds: SeedMedia[] = [];
  for (const recipe of recipes) {
    const path = join(dir, `seed-${recipe.name}.${recipe.extension}`);
    await runFfmpeg([...recipe.args, path]);
    seeds.push({
      name: recipe.name,
      format: recipe.format,
      extension: recipe.extension,
      bytes: await readFile(path),
    });
  }
  return seeds;
}
