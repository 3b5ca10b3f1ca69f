import { createReadStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { runProcess } from './processes.js';

export interface GeneratedMedia {
  path: string;
  bytes: number;
  /** False when reused from the cache. */
  generated: boolean;
}

// Bump when the recipe changes so a cached file made by the old recipe is not reused.
const recipeVersion = 'v1';

/**
 * A 1920x1080 30 fps H.264 + AAC clip; temporal noise over testsrc2 keeps it from compressing to nothing,
 * so decode and packet analysis see a realistic bitrate.
 */
export async function ensureTestClip(
  cacheDir: string,
  seconds: number,
  cleanup: Cleanup,
): Promise<GeneratedMedia> {
  const path = join(cacheDir, `clip-${recipeVersion}-${seconds}s-1080p30.mp4`);
  return ensureCached(path, cleanup, (partial) =>
    runProcess(
      'ffmpeg',
      [
        ...['-v', 'error', '-nostdin', '-y'],
        ...['-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30,noise=alls=12:allf=t+u'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
        ...['-t', String(seconds)],
        ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
        ...['-c:a', 'aac', '-b:a', '128k', '-shortest', '-f', 'mp4', partial],
      ],
      { cleanup, timeoutMs: 120_000 + seconds * 10_000 },
    ),
  );
}

/**
 * The same length and size with one face: the test fixture portrait drifting slowly over a noisy flat
 * background, so the face finder and the face detectors have work on every sampled frame.
 */
export async function ensureFaceClip(
  cacheDir: string,
  seconds: number,
  facePath: string,
  cleanup: Cleanup,
): Promise<GeneratedMedia> {
  const path = join(cacheDir, `face-clip-${recipeVersion}-${seconds}s-1080p30.mp4`);
  return ensureCached(path, cleanup, (partial) =>
    runProcess(
      'ffmpeg',
      [
        ...['-v', 'error', '-nostdin', '-y'],
        ...['-f', 'lavfi', '-i', 'color=c=0x6a7480:size=1920x1080:rate=30'],
        ...['-loop', '1', '-framerate', '30', '-i', facePath],
        ...[
          '-filter_complex',
          "[1:v]scale=480:528[face];[0:v][face]overlay=x='720+80*sin(t/3)':y='270+30*cos(t/4)':shortest=0,noise=alls=10:allf=t+u,format=yuv420p",
        ],
        ...['-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-an', '-f', 'mp4', partial],
      ],
      { cleanup, timeoutMs: 120_000 + seconds * 10_000 },
    ),
  );
}

/** A 64x64 PNG: analysing it is almost all start-up, which is what it is for. */
export async function ensureStill(cacheDir: string, cleanup: Cleanup): Promise<GeneratedMedia> {
  const path = join(cacheDir, `still-${recipeVersion}-64x64.png`);
  return ensureCached(path, cleanup, (partial) =>
    runProcess(
      'ffmpeg',
      [
        ...['-v', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=1'],
        ...['-frames:v', '1', '-f', 'image2', '-c:v', 'png', partial],
      ],
      { cleanup, timeoutMs: 60_000 },
    ),
  );
}

/** A real MP4 of at least minBytes: the clip looped with stream copy, so the platform's probe accepts it. */
export async function ensureLargeVideo(
  cacheDir: string,
  clip: GeneratedMedia,
  minBytes: number,
  cleanup: Cleanup,
): Promise<GeneratedMedia> {
  const path = join(
    cacheDir,
    `upload-${recipeVersion}-${Math.ceil(minBytes / 2 ** 20)}MiB-${basename(clip.path)}`,
  );
  // Each loop adds one clip's worth of packets; the index grows a little with them, never shrinks.
  const extraLoops = Math.max(0, Math.ceil(minBytes / clip.bytes) - 1);
  const made = await ensureCached(path, cleanup, (partial) =>
    runProcess(
      'ffmpeg',
      [
        ...['-v', 'error', '-nostdin', '-y', '-stream_loop', String(extraLoops), '-i', clip.path],
        ...['-map', '0', '-c', 'copy', '-f', 'mp4', partial],
      ],
      { cleanup, timeoutMs: 600_000 },
    ),
  );
  if (made.bytes < minBytes) throw new Error(`${path} is ${made.bytes} bytes, expected at least ${minBytes}`);
  return made;
}

/** The decode-only baseline: wall time of `ffmpeg -v error -i FILE -f null -`. */
export async function timeDecode(path: string, timeoutMs: number, cleanup: Cleanup): Promise<number> {
  const result = await runProcess('ffmpeg', ['-v', 'error', '-nostdin', '-i', path, '-f', 'null', '-'], {
    cleanup,
    timeoutMs,
  });
  return result.elapsedMs;
}

/** Reads a file once so baseline and platform both start from the page cache, not one of them from disk. */
export async function warmPageCache(path: string): Promise<void> {
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 2 ** 20 }))
    bytes += (chunk as Buffer).length;
  if (bytes !== statSync(path).size) throw new Error(`${path} changed while being read`);
}

export async function ffmpegVersion(cleanup: Cleanup): Promise<string> {
  const result = await runProcess('ffmpeg', ['-version'], { cleanup, timeoutMs: 10_000 });
  return /^ffmpeg version (\S+)/.exec(result.stdout)?.[1] ?? 'unknown';
}

async function ensureCached(
  path: string,
  cleanup: Cleanup,
  make: (partialPath: string) => Promise<unknown>,
): Promise<GeneratedMedia> {
  if (existsSync(path) && statSync(path).size > 0)
    return { path, bytes: statSync(path).size, generated: false };
  await mkdir(dirname(path), { recursive: true });
  // Written under a temporary name and renamed, so an interrupted run never leaves a truncated cache entry.
  const partial = `${path}.partial-${process.pid}`;
  const removePartial = cleanup.add(() => rmSync(partial, { force: true }));
  try {
    await make(partial);
    renameSync(partial, path);
  } finally {
    removePartial();
  }
  return { path, bytes: statSync(path).size, generated: true };
}
