import { chmod, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseToolVersion,
  resolveFfmpegBinaries,
  supportsFpsMode,
  type FfmpegBinaries,
} from '../../src/media/ffmpeg-binaries.js';
import { createMediaTempDir, type MediaTempDir } from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
let onPath: FfmpegBinaries;

beforeAll(async () => {
  temp = await createMediaTempDir();
  onPath = await resolveFfmpegBinaries({ searchPath: process.env.PATH ?? '' });
});
afterAll(() => temp.remove());

describe('resolveFfmpegBinaries', () => {
  it('uses explicit paths and reports their versions', async () => {
    const resolved = await resolveFfmpegBinaries({
      ffmpegPath: onPath.ffmpeg.path,
      ffprobePath: onPath.ffprobe.path,
      searchPath: '',
    });
    expect(resolved.ffmpeg).toMatchObject({ path: onPath.ffmpeg.path, source: 'environment' });
    expect(resolved.ffprobe.version).toBe(onPath.ffprobe.version);
  });

  it('names the variable when an explicit path is missing or not executable', async () => {
    await expect(
      resolveFfmpegBinaries({
        ffmpegPath: join(temp.dir, 'nope'),
        ffprobePath: onPath.ffprobe.path,
        searchPath: '',
      }),
    ).rejects.toThrow(/FFMPEG_PATH=.*nope is not an executable file/);
    const plain = join(temp.dir, 'ffprobe');
    await writeFile(plain, '#!/bin/sh\n');
    await chmod(plain, 0o644);
    await expect(
      resolveFfmpegBinaries({ ffmpegPath: onPath.ffmpeg.path, ffprobePath: plain, searchPath: '' }),
    ).rejects.toThrow(/FFPROBE_PATH=.* is not an executable file/);
    await expect(
      resolveFfmpegBinaries({ ffmpegPath: temp.dir, ffprobePath: onPath.ffprobe.path, searchPath: '' }),
    ).rejects.toThrow(/FFMPEG_PATH/);
  });

  it('searches PATH entries in order', async () => {
    const resolved = await resolveFfmpegBinaries({
      searchPath: `${temp.dir}:${dirname(onPath.ffmpeg.path)}`,
    });
    expect(resolved.ffmpeg).toMatchObject({ path: onPath.ffmpeg.path, source: 'PATH' });
  });

  it('falls back to the binary shipped by @ffmpeg-installer when nothing else is found', async () => {
    const resolved = await resolveFfmpegBinaries({ ffprobePath: onPath.ffprobe.path, searchPath: temp.dir });
    expect(resolved.ffmpeg.source).toBe('npm package');
    expect(resolved.ffmpeg.path).toContain('@ffmpeg-installer');
    expect(resolved.ffmpeg.version).not.toBe('unknown');
  });
});

describe('tool versions', () => {
  it('reads the version word of -version output', () => {
    expect(parseToolVersion('ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026')).toBe(
      '5.1.9-0+deb12u1',
    );
    expect(parseToolVersion('ffprobe version N-66595-gc2b38619c0-static https://x')).toBe(
      'N-66595-gc2b38619c0-static',
    );
    expect(parseToolVersion('something else')).toBe('unknown');
  });

  it('chooses -fps_mode only for releases that have it', () => {
    expect(supportsFpsMode('5.1.9-0+deb12u1')).toBe(true);
    expect(supportsFpsMode('n6.0')).toBe(true);
    expect(supportsFpsMode('7.1')).toBe(true);
    expect(supportsFpsMode('5.0.1')).toBe(false);
    expect(supportsFpsMode('4.4.2')).toBe(false);
    expect(supportsFpsMode('N-47683-g0e8eb07980-static')).toBe(false);
  });
});
