import { execFile } from 'node:child_process';
import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createFfmpegMediaTools,
  ffmpegMediaTools,
  type FfmpegMediaTools,
} from '../../src/media/ffmpeg.media-tools.js';
import type { RawFrame } from '../../src/media/media-probe.js';
import { MediaToolError } from '../../src/media/media-tool-error.js';
import { createMediaTempDir, generateClip, runFfmpeg, type MediaTempDir } from '../helpers/media-fixtures.js';

let temp: MediaTempDir;
let tools: FfmpegMediaTools;
let clip: string;

beforeAll(async () => {
  temp = await createMediaTempDir();
  tools = await createFfmpegMediaTools();
  clip = await generateClip(temp.dir, {
    seconds: 3,
    gop: 25,
    audio: true,
    metadata: { creation_time: '2024-05-01T10:00:00Z', Title: 'Fixture' },
  });
});
afterAll(() => temp.remove());

async function collect(frames: AsyncIterable<RawFrame>): Promise<RawFrame[]> {
  const all: RawFrame[] = [];
  for await (const frame of frames) all.push(frame);
  return all;
}

/** ffmpeg/ffprobe children of this test process, read from /proc (Linux). */
async function childToolProcesses(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const match = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
    if (match && Number(match[2]) === process.pid && /ff(mpeg|probe)/.test(match[1] ?? ''))
      pids.push(Number(entry));
  }
  return pids;
}

async function expectNoToolChildren(): Promise<void> {
  for (let attempt = 0; attempt < 50 && (await childToolProcesses()).length > 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(await childToolProcesses()).toEqual([]);
}

describe('ffmpeg media tools', () => {
  it('reports the versions of the binaries it resolved', async () => {
    const versions = await tools.versions();
    expect(versions.ffmpeg).toMatch(/\d/);
    expect(versions.ffprobe).toMatch(/\d/);
    expect(tools.binaries.ffmpeg.version).toBe(versions.ffmpeg);
  });

  it('normalises the probe: streams, frame rate from avg_frame_rate, lower-cased tags', async () => {
    const probe = await tools.probe(clip);
    expect(probe.formatName).toContain('mp4');
    expect(probe.durationSeconds).toBeCloseTo(3, 1);
    const video = probe.streams.find((stream) => stream.type === 'video');
    expect(video).toMatchObject({
      codecName: 'h264',
      width: 320,
      height: 240,
      frameRate: 25,
      frameCount: 75,
    });
    const audio = probe.streams.find((stream) => stream.type === 'audio');
    expect(audio).toMatchObject({ codecName: 'aac', sampleRate: 48000, channels: 1 });
    expect(probe.tags).toMatchObject({ major_brand: 'isom', title: 'Fixture' });
    expect(probe.tags.creation_time).toMatch(/^2024-05-01T10:00:00/);
    expect(Object.keys(probe.tags).every((key) => key === key.toLowerCase())).toBe(true);
  });

  it('reads the packet table without decoding: every frame, keyframes at the GOP', async () => {
    const table = await tools.packets(clip, 0, { sizeBytes: (await stat(clip)).size });
    const { packets } = table;
    expect(packets).toHaveLength(75);
    expect(table).toMatchObject({ listedPackets: 75, presentPackets: 75, presentKeyframes: 3 });
    expect(table.keyframeTimes).toEqual([0, 1, 2]);
    const keyTimes = packets.filter((packet) => packet.keyframe).map((packet) => packet.ptsTime);
    expect(keyTimes).toEqual([0, 1, 2]);
    expect(packets.every((packet) => packet.sizeBytes > 0)).toBe(true);
    const times = packets.map((packet) => packet.ptsTime as number).sort((a, b) => a - b);
    expect(times[0]).toBe(0);
    expect(times.at(-1)).toBeCloseTo(2.96, 6);
  });

  it('puts packet times on the media timeline when the container starts late (MPEG-TS)', async () => {
    const ts = await generateClip(temp.dir, { seconds: 2, gop: 25, container: 'ts', name: 'late-start' });
    const { packets } = await tools.packets(ts, 0, { sizeBytes: null });
    expect(packets.filter((packet) => packet.keyframe).map((packet) => packet.ptsTime)).toEqual([0, 1]);
  });

  it('decodes keyframes only, scaled to an exact even size, with their timestamps', async () => {
    const gray = await collect(
      tools.keyframes(clip, { streamIndex: 0, maxWidth: 161, pixelFormat: 'gray', limit: 10 }),
    );
    expect(gray.map((frame) => frame.timeSeconds)).toEqual([0, 1, 2]);
    for (const frame of gray) {
      expect([frame.width, frame.height]).toEqual([160, 120]);
      expect(frame.data).toHaveLength(160 * 120);
    }
    const rgb = await collect(
      tools.keyframes(clip, { streamIndex: 0, maxWidth: 64, pixelFormat: 'rgb24', limit: 2 }),
    );
    expect(rgb.map((frame) => [frame.timeSeconds, frame.width, frame.height, frame.data.length])).toEqual([
      [0, 64, 48, 64 * 48 * 3],
      [1, 64, 48, 64 * 48 * 3],
    ]);
    expect(
      await collect(tools.keyframes(clip, { streamIndex: 0, maxWidth: 64, pixelFormat: 'gray', limit: 0 })),
    ).toEqual([]);
  });

  it('decodes every frame of a window with its time on the media timeline', async () => {
    const frames = await collect(
      tools.window(clip, {
        streamIndex: 0,
        startSeconds: 1,
        durationSeconds: 0.4,
        maxWidth: 80,
        pixelFormat: 'gray',
      }),
    );
    expect(frames.map((frame) => frame.timeSeconds)).toEqual([
      1, 1.04, 1.08, 1.12, 1.16, 1.2, 1.24, 1.28, 1.32, 1.36,
    ]);
    expect(new Set(frames.map((frame) => frame.data.length))).toEqual(new Set([80 * 60]));
    // Different frames of a moving test pattern: the bytes are real pixels, not a repeated buffer.
    expect(frames[0]?.data.equals(frames[5]?.data as Buffer)).toBe(false);
  });

  it('applies rotation metadata to the output size, as ffmpeg auto-rotates', async () => {
    const rotated = join(temp.dir, 'rotated.mp4');
    await runFfmpeg(['-i', clip, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
    const probe = await tools.probe(rotated);
    expect(Math.abs(probe.streams[0]?.rotationDegrees ?? 0)).toBe(90);
    const [frame] = await collect(
      tools.keyframes(rotated, { streamIndex: 0, maxWidth: 120, pixelFormat: 'gray', limit: 1 }),
    );
    expect([frame?.width, frame?.height]).toEqual([120, 160]);
  });

  it('treats hostile file names as file names (leading dash, protocol-like prefixes)', async () => {
    const previous = process.cwd();
    process.chdir(temp.dir);
    try {
      for (const name of ['-y.mp4', 'concat:clip.mp4', 'http:clip.mp4']) {
        await copyFile(clip, join(temp.dir, name));
        expect((await tools.probe(name)).streams).toHaveLength(2);
        expect((await tools.packets(name, 0, { sizeBytes: null })).packets).toHaveLength(75);
      }
    } finally {
      process.chdir(previous);
    }
  });

  it('fails with a MediaToolError carrying the exit code and stderr tail on unreadable input', async () => {
    const junk = join(temp.dir, 'junk.mp4');
    await writeFile(junk, Buffer.alloc(4096, 7));
    const error = await tools.probe(junk).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaToolError);
    expect(error).toMatchObject({ tool: 'ffprobe', failure: 'exit', exitCode: 1 });
    expect((error as MediaToolError).stderrTail).toMatch(/Invalid data/);
    expect((error as MediaToolError).stderrTail.length).toBeLessThanOrEqual(4096);
    await expect(
      collect(
        tools.window(junk, {
          streamIndex: 0,
          startSeconds: 0,
          durationSeconds: 1,
          maxWidth: 64,
          pixelFormat: 'gray',
        }),
      ),
    ).rejects.toThrow(MediaToolError);
  });

  it('reports a binary that cannot start as a spawn failure', async () => {
    const broken = ffmpegMediaTools({
      binaries: {
        ffmpeg: { path: join(temp.dir, 'missing-ffmpeg'), version: '5.1', source: 'environment' },
        ffprobe: { path: join(temp.dir, 'missing-ffprobe'), version: '5.1', source: 'environment' },
      },
      timeouts: { probeMs: 5_000, packetsMs: 5_000, decodeMs: 5_000 },
    });
    await expect(broken.probe(clip)).rejects.toMatchObject({
      name: 'MediaToolError',
      failure: 'spawn',
      exitCode: null,
    });
  });

  it('kills a tool that stalls past its idle timeout', async () => {
    const fifo = join(temp.dir, 'never-written.fifo');
    await promisify(execFile)('mkfifo', [fifo]);
    const impatient = ffmpegMediaTools({
      binaries: tools.binaries,
      timeouts: { probeMs: 300, packetsMs: 300, decodeMs: 300 },
    });
    const started = Date.now();
    await expect(impatient.probe(fifo)).rejects.toMatchObject({ failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expectNoToolChildren();
  });

  it('kills ffmpeg when the consumer stops iterating early', async () => {
    // One rgb24 frame (230 KB) overfills the pipe, so ffmpeg is still running when the loop breaks.
    for await (const frame of tools.window(clip, {
      streamIndex: 0,
      startSeconds: 0,
      durationSeconds: 3,
      maxWidth: 320,
      pixelFormat: 'rgb24',
    })) {
      expect(frame.timeSeconds).toBe(0);
      break;
    }
    await expectNoToolChildren();
  });

  it('stops on abort: rejects with the abort reason and leaves no process behind', async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const frames = tools.window(
      clip,
      { streamIndex: 0, startSeconds: 0, durationSeconds: 3, maxWidth: 320, pixelFormat: 'rgb24' },
      controller.signal,
    );
    const consume = (async () => {
      for await (const frame of frames) if (frame.timeSeconds >= 0.2) controller.abort(reason);
    })();
    await expect(consume).rejects.toBe(reason);
    await expectNoToolChildren();
    await expect(tools.probe(clip, controller.signal)).rejects.toBe(reason);
  });
});
